"""A loopback fake of the Slack Web API: records every call and rejects what Slack would reject."""

from __future__ import annotations

import copy
import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlparse

import yaml
from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block

from handlers.scopes import ANY, METHOD_SCOPES
from tests.support.loopback import KeptAliveHandler, LoopbackServer

TOKEN = "xoxb-test-token"
APP_TOKEN = "xapp-1-test-app-token"  # Socket Mode's app-level token: only apps.connections.open takes it
BOT_USER = "UBOT"
BOT_ID = "BBOT"
MESSAGE_BLOCKS = 50
VIEW_BLOCKS = 100
MESSAGE_TEXT = 12_000
TRIGGER_SECONDS = 3.0  # a trigger_id is good for one views.open within 3 seconds of the click
RESPONSE_URL_POSTS = 5  # a response_url takes at most 5 posts (within 30 minutes)
MANIFEST = Path(__file__).resolve().parents[2] / "manifest.yml"


def manifest_scopes() -> set[str]:
    """The bot scopes manifest.yml grants: what a workspace that installed it gives the token."""
    manifest = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    return set(manifest["oauth_config"]["scopes"]["bot"])


@dataclass
class Call:
    method: str
    args: dict[str, Any]


@dataclass
class Fault:
    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)
    times: int = 1


def _block_text(node: Any) -> int:
    """Characters of text anywhere in a block tree (what msg_blocks_too_long counts, roughly)."""
    if isinstance(node, dict):
        own = len(node["text"]) if isinstance(node.get("text"), str) else 0
        return own + sum(_block_text(v) for k, v in node.items() if k != "text" or not isinstance(v, str))
    if isinstance(node, list):
        return sum(_block_text(v) for v in node)
    return 0


def _ts_key(ts: str) -> tuple[int, int]:
    seconds, _, counter = ts.partition(".")
    return int(seconds), int(counter or 0)


def check_blocks(blocks: Any, limit: int) -> str | None:
    """None when Slack would accept these blocks, else the error Slack answers."""
    if isinstance(blocks, str):
        blocks = json.loads(blocks)
    if not isinstance(blocks, list) or len(blocks) > limit:
        return "invalid_blocks"
    try:
        for raw in blocks:
            parsed = Block.parse(raw)
            if parsed is None:
                return "invalid_blocks"
            parsed.to_dict()  # slack_sdk validates every field limit while serialising
    except (SlackObjectFormationError, KeyError, TypeError, ValueError):
        return "invalid_blocks"
    if limit == MESSAGE_BLOCKS and _block_text(blocks) > MESSAGE_TEXT:
        return "msg_blocks_too_long"
    return None


class FakeSlack:
    """Start with `start()`; point WebClient at `url`. Every call lands in `calls`."""

    def __init__(self, clock: Any = None) -> None:
        self.clock = clock  # message timestamps follow it, as Slack's follow real time
        self.calls: list[Call] = []
        self.messages: dict[tuple[str, str], dict[str, Any]] = {}
        self.users: dict[str, dict[str, Any]] = {}
        self.channels: dict[str, dict[str, Any]] = {}
        self.faults: dict[str, list[Fault]] = {}
        self.files: dict[str, dict[str, Any]] = {}
        self.responses: list[dict[str, Any]] = []
        self.usergroups: dict[str, list[str]] = {}
        self.scopes: set[str] = manifest_scopes()
        self.triggers: dict[str, float | None] = {}  # trigger_id -> when it was issued (None once used)
        self.response_posts: dict[str, int] = {}  # response_url path -> posts taken
        self.response_peers: list[tuple[str, int]] = []  # the connection (client address) of each post taken
        self.api_peers: list[tuple[str, int]] = []  # the connection (client address) of each Web API call
        self.post_delay = 0.0
        self.files_ready = True  # False: Slack has not processed uploads yet, so image blocks naming them fail
        self.socket_url = ""  # what apps.connections.open answers (Socket Mode)
        self.hold = threading.Event()  # cleared: every request waits until it is set again (a stalled Slack)
        self.hold.set()
        self.waiting = 0  # requests held right now
        self._ts = itertools.count(1)
        self._lock = threading.Lock()
        self._server = LoopbackServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self.base = f"http://127.0.0.1:{self._server.server_address[1]}"
        self.url = f"{self.base}/api/"

    def user_file(self, name: str, content: str) -> dict[str, Any]:
        """A file a user shared: its record as Slack puts it in a file_share message event."""
        file_id = f"F{next(self._ts):06d}"
        data = content.encode()
        self.files[file_id] = {"id": file_id, "filename": name, "content": content, "shared": True}
        url = f"{self.base}/files-pri/T1-{file_id}/{name}"
        return {"id": file_id, "name": name, "size": len(data), "url_private": url, "url_private_download": url}

    def response_url(self, channel: str = "") -> str:
        """A response_url like the ones Slack puts in commands and actions, for the conversation they came from
        (an `in_channel` answer to it is a message everyone in that channel sees)."""
        return f"{self.base}/response/{next(self._ts)}/{channel}"

    def trigger_id(self, age: float = 0.0) -> str:
        """A trigger_id like the ones Slack puts in commands and actions: one views.open, within 3 seconds
        (`age`: seconds it has lived already)."""
        trigger = f"{next(self._ts)}.1.trig"
        with self._lock:
            self.triggers[trigger] = time.monotonic() - age
        return trigger

    # ----- set-up ------------------------------------------------------------------------------

    def start(self) -> FakeSlack:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def add_user(self, user_id: str, name: str, tz: str = "Europe/London", **extra: Any) -> None:
        self.users[user_id] = {
            "id": user_id,
            "name": name.lower(),
            "tz": tz,
            "deleted": False,
            "profile": {"display_name": name, "real_name": name},
            **extra,
        }

    def add_channel(self, channel_id: str, name: str, private: bool = False, bot_member: bool = False) -> None:
        """A channel; the bot is in it only if `bot_member` (or once it joins, or someone invites it)."""
        self.channels[channel_id] = {
            "id": channel_id,
            "name": name,
            "is_channel": True,
            "is_private": private,
            "is_archived": False,
            "members": {BOT_USER} if bot_member else set(),
        }

    def invite_bot(self, channel_id: str) -> None:
        """Someone typed `/invite @PatchPolicy` in the channel."""
        self.channels[channel_id]["members"].add(BOT_USER)

    def bot_is_member(self, channel_id: str) -> bool:
        return channel_id.startswith("D") or BOT_USER in self.channels.get(channel_id, {}).get("members", set())

    def fail(
        self, method: str, status: int, error: str = "ratelimited", retry_after: int | None = None, times: int = 1
    ) -> None:
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
        self.faults.setdefault(method, []).append(Fault(status, {"ok": False, "error": error}, headers, times))

    # ----- reading what happened ----------------------------------------------------------------

    def calls_to(self, method: str) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.method == method]

    def posts(self, channel: str | None = None) -> list[dict[str, Any]]:
        """Snapshots of the messages posted, in order, as they look now (after any chat.update)."""
        with self._lock:
            found = [copy.deepcopy(m) for m in self.messages.values() if channel is None or m["channel"] == channel]
        return sorted(found, key=lambda m: _ts_key(m["ts"]))

    def last_post(self, channel: str | None = None) -> dict[str, Any]:
        return self.posts(channel)[-1]

    def wait_for(self, method: str, count: int, timeout: float = 5.0) -> list[Call]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            calls = self.calls_to(method)
            if len(calls) >= count:
                return calls
            time.sleep(0.005)
        raise AssertionError(f"expected {count} {method} calls, saw {len(self.calls_to(method))}")

    # ----- the API ------------------------------------------------------------------------------

    def _answer(self, method: str, args: dict[str, Any]) -> tuple[int, dict[str, Any], dict[str, str]]:
        if method == "chat.postMessage" and self.post_delay:
            time.sleep(self.post_delay)  # a slow Slack: long enough to kill a process mid-run
        with self._lock:
            self.calls.append(Call(method, args))
            queue = self.faults.get(method) or []
            if queue:
                fault = queue[0]
                fault.times -= 1
                if fault.times <= 0:
                    queue.pop(0)
                return fault.status, fault.body, fault.headers
            handler = getattr(self, "_api_" + method.replace(".", "_"), None)
            if handler is None:
                return 200, {"ok": False, "error": "unknown_method"}, {}
            needed = self._needed_scope(method, args)
            if needed is not None and needed not in self.scopes:
                provided = ",".join(sorted(self.scopes))
                return 200, {"ok": False, "error": "missing_scope", "needed": needed, "provided": provided}, {}
            return 200, handler(args), {}

    def _kind(self, channel_id: str) -> str | None:
        """public, private or im; None for a conversation that does not exist."""
        if channel_id.startswith("D"):
            return "im"
        channel = self.channels.get(channel_id)
        if channel is None:
            return None
        return "private" if channel["is_private"] else "public"

    def _needed_scope(self, method: str, args: dict[str, Any]) -> str | None:
        table = METHOD_SCOPES.get(method, {})
        if ANY in table:
            return table[ANY]
        if method == "conversations.list":
            types = str(args.get("types") or "public_channel").split(",")
            for kind, scope in (("public_channel", table["public"]), ("private_channel", table["private"])):
                if kind in types and scope not in self.scopes:
                    return scope
            return None
        kind = self._kind(str(args.get("channel") or args.get("channel_id") or ""))
        return table.get(kind) if kind else None

    def _access_error(self, channel_id: str, write: bool = False) -> str | None:
        """Slack's answer when the bot cannot use this conversation (None: it can).

        A private channel the bot is not in does not exist for it; a public one it can read about but not read
        from, and post in only with chat:write.public (`write`)."""
        kind = self._kind(channel_id)
        if kind is None or (kind == "private" and not self.bot_is_member(channel_id)):
            return "channel_not_found"
        if kind == "im" or self.bot_is_member(channel_id):
            return "is_archived" if self.channels.get(channel_id, {}).get("is_archived") else None
        if write and "chat:write.public" in self.scopes:
            return None
        return "not_in_channel"

    def _api_apps_connections_open(self, _args: dict[str, Any]) -> dict[str, Any]:
        """Socket Mode: the WebSocket URL to connect to (set `socket_url` to a SocketModeServer's)."""
        if not self.socket_url:
            return {"ok": False, "error": "invalid_app_config"}
        return {"ok": True, "url": self.socket_url}

    def _api_auth_test(self, _args: dict[str, Any]) -> dict[str, Any]:
        return {
            "ok": True,
            "url": "https://fake.slack.test/",
            "team": "Fake",
            "user": "patchpolicy",
            "team_id": "T1",
            "user_id": BOT_USER,
            "bot_id": BOT_ID,
        }

    def _message_error(self, args: dict[str, Any]) -> str | None:
        if "blocks" in args:
            if not args.get("text"):
                return "missing_text_fallback"  # Slack accepts it with a warning; we treat it as a bug
            return check_blocks(args["blocks"], MESSAGE_BLOCKS) or self._image_error(args["blocks"])
        if not args.get("text"):
            return "no_text"
        return None

    def _image_error(self, blocks: Any) -> str | None:
        """An image block's slack_file must be an uploaded PNG, JPEG or GIF (Slack's slack file object)."""
        blocks = json.loads(blocks) if isinstance(blocks, str) else blocks
        for block in blocks:
            file_id = (block.get("slack_file") or {}).get("id") if block.get("type") == "image" else None
            if file_id is None:
                continue
            data = (self.files.get(file_id) or {}).get("data") or b""
            if not self.files_ready or not data.startswith((b"\x89PNG\r\n\x1a\n", b"\xff\xd8", b"GIF8")):
                return "invalid_blocks"
        return None

    def _api_chat_postMessage(self, args: dict[str, Any]) -> dict[str, Any]:
        error = self._access_error(args.get("channel", ""), write=True) or self._message_error(args)
        if error:
            return {"ok": False, "error": error}
        channel = args["channel"]
        ts = self._new_ts()
        blocks = json.loads(args["blocks"]) if isinstance(args.get("blocks"), str) else args.get("blocks")
        message = {
            "channel": channel,
            "ts": ts,
            "text": args.get("text"),
            "blocks": blocks,
            "thread_ts": args.get("thread_ts"),
            "updates": 0,
            "metadata": json.loads(args["metadata"]) if isinstance(args.get("metadata"), str) else args.get("metadata"),
        }
        self.messages[(channel, ts)] = message
        return {"ok": True, "channel": channel, "ts": ts, "message": message}

    def _new_ts(self) -> str:
        """Unique, increasing message timestamps: the clock's seconds, a counter in the microseconds."""
        base = int(self.clock.now().timestamp()) if self.clock is not None else 1_700_000_000
        return f"{base}.{next(self._ts):06d}"

    def _api_chat_update(self, args: dict[str, Any]) -> dict[str, Any]:
        error = self._message_error(args)
        if error:
            return {"ok": False, "error": error}
        message = self.messages.get((args["channel"], args["ts"]))
        if message is None:
            return {"ok": False, "error": "message_not_found"}
        blocks = json.loads(args["blocks"]) if isinstance(args.get("blocks"), str) else args.get("blocks")
        message.update(text=args.get("text"), blocks=blocks, updates=message["updates"] + 1)
        return {"ok": True, "channel": args["channel"], "ts": args["ts"]}

    def _api_chat_postEphemeral(self, args: dict[str, Any]) -> dict[str, Any]:
        error = self._access_error(args.get("channel", "")) or self._message_error(args)
        if error:
            return {"ok": False, "error": error}
        return {"ok": True, "message_ts": self._new_ts()}

    def _api_chat_getPermalink(self, args: dict[str, Any]) -> dict[str, Any]:
        if (args.get("channel"), args.get("message_ts")) not in self.messages:
            return {"ok": False, "error": "message_not_found"}
        ts = str(args["message_ts"]).replace(".", "")
        return {
            "ok": True,
            "channel": args["channel"],
            "permalink": f"https://fake.slack.test/archives/{args['channel']}/p{ts}",
        }

    def _api_files_getUploadURLExternal(self, args: dict[str, Any]) -> dict[str, Any]:
        file_id = f"F{next(self._ts):06d}"
        self.files[file_id] = {
            "id": file_id,
            "filename": args.get("filename"),
            "length": int(args.get("length", 0)),
            "content": None,
            "shared": False,
        }
        return {"ok": True, "upload_url": f"{self.base}/upload/{file_id}", "file_id": file_id}

    def _api_files_completeUploadExternal(self, args: dict[str, Any]) -> dict[str, Any]:
        if args.get("channel_id") and (error := self._access_error(args["channel_id"])):
            return {"ok": False, "error": error}
        files = json.loads(args["files"]) if isinstance(args["files"], str) else args["files"]
        for entry in files:
            record = self.files.get(entry["id"])
            if record is None or record["content"] is None:
                return {"ok": False, "error": "file_not_found"}
            record.update(
                title=entry.get("title"),
                channel=args.get("channel_id"),
                thread_ts=args.get("thread_ts"),
                initial_comment=args.get("initial_comment"),
                shared=True,
            )
        return {"ok": True, "files": [{"id": f["id"], "title": f.get("title")} for f in files]}

    def _api_conversations_open(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "channel": {"id": "D" + str(args["users"]).split(",")[0]}}

    def _public_view(self, channel: dict[str, Any]) -> dict[str, Any]:
        shown = {k: v for k, v in channel.items() if k != "members"}
        return {**shown, "is_member": BOT_USER in channel["members"], "is_group": False, "is_im": False}

    def _api_conversations_info(self, args: dict[str, Any]) -> dict[str, Any]:
        channel_id = args.get("channel", "")
        if self._kind(channel_id) in (None, "private") and not self.bot_is_member(channel_id):
            return {"ok": False, "error": "channel_not_found"}
        if channel_id.startswith("D"):
            return {"ok": True, "channel": {"id": channel_id, "is_im": True, "is_member": True}}
        return {"ok": True, "channel": self._public_view(self.channels[channel_id])}

    def _api_conversations_join(self, args: dict[str, Any]) -> dict[str, Any]:
        channel_id = args.get("channel", "")
        kind = self._kind(channel_id)
        if kind is None or (kind == "private" and not self.bot_is_member(channel_id)):
            return {"ok": False, "error": "channel_not_found"}
        if kind != "public":
            return {"ok": False, "error": "method_not_supported_for_channel_type"}
        channel = self.channels[channel_id]
        if channel["is_archived"]:
            return {"ok": False, "error": "is_archived"}
        channel["members"].add(BOT_USER)
        return {"ok": True, "channel": self._public_view(channel)}

    def _api_conversations_history(self, args: dict[str, Any]) -> dict[str, Any]:
        if error := self._access_error(args.get("channel", "")):
            return {"ok": False, "error": error}
        oldest = float(args.get("oldest") or 0)
        found = [m for m in self.messages.values() if m["channel"] == args.get("channel") and float(m["ts"]) >= oldest]
        found.sort(key=lambda m: _ts_key(m["ts"]), reverse=True)
        keep = args.get("include_all_metadata") in (True, "true", "1", 1)
        return {"ok": True, "messages": [{k: v for k, v in m.items() if k != "metadata" or keep} for m in found]}

    def _api_conversations_list(self, args: dict[str, Any]) -> dict[str, Any]:
        types = str(args.get("types") or "public_channel").split(",")
        visible = [
            self._public_view(c)
            for c in self.channels.values()
            if ("private_channel" in types and c["is_private"] and BOT_USER in c["members"])
            or ("public_channel" in types and not c["is_private"])
        ]
        return {"ok": True, "channels": visible, "response_metadata": {"next_cursor": ""}}

    def _api_users_list(self, args: dict[str, Any]) -> dict[str, Any]:
        """Every member, a page at a time (`limit`, `cursor`), as Slack pages it."""
        members = sorted(self.users.values(), key=lambda u: u["id"])
        start = int(args.get("cursor") or 0)
        limit = int(args.get("limit") or 200)
        page = members[start : start + limit]
        following = str(start + limit) if start + limit < len(members) else ""
        return {"ok": True, "members": page, "response_metadata": {"next_cursor": following}}

    def _api_usergroups_users_list(self, args: dict[str, Any]) -> dict[str, Any]:
        if args.get("usergroup") not in self.usergroups:
            return {"ok": False, "error": "no_such_subteam"}
        return {"ok": True, "users": self.usergroups[args["usergroup"]]}

    def _api_users_info(self, args: dict[str, Any]) -> dict[str, Any]:
        user = self.users.get(args.get("user", ""))
        return {"ok": True, "user": user} if user else {"ok": False, "error": "user_not_found"}

    def _api_views_open(self, args: dict[str, Any]) -> dict[str, Any]:
        trigger = args.get("trigger_id", "")
        if trigger not in self.triggers:
            return {"ok": False, "error": "invalid_trigger_id"}
        issued = self.triggers[trigger]
        if issued is None:
            return {"ok": False, "error": "exchanged_trigger_id"}
        if time.monotonic() - issued > TRIGGER_SECONDS:
            return {"ok": False, "error": "expired_trigger_id"}
        self.triggers[trigger] = None
        return self._api_views_publish(args)

    def _api_views_publish(self, args: dict[str, Any]) -> dict[str, Any]:
        view = json.loads(args["view"]) if isinstance(args["view"], str) else args["view"]
        error = check_blocks(view.get("blocks", []), VIEW_BLOCKS)
        return {"ok": False, "error": error} if error else {"ok": True, "view": {**view, "id": "V1"}}

    _api_views_update = _api_views_publish
    _api_views_push = _api_views_publish

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(KeptAliveHandler):
            def _serve(self) -> None:
                if not fake.hold.is_set():
                    with fake._lock:
                        fake.waiting += 1
                    fake.hold.wait(30)
                    with fake._lock:
                        fake.waiting -= 1
                url = urlparse(self.path)
                method = url.path.rsplit("/", 1)[-1]
                length = int(self.headers.get("Content-Length") or 0)
                raw_bytes = self.rfile.read(length) if length else b""
                if url.path.startswith(("/upload/", "/response/")):
                    self._plain(url.path, raw_bytes)
                    return
                if url.path.startswith("/files-pri/"):
                    self._download(url.path)
                    return
                with fake._lock:
                    fake.api_peers.append(self.client_address)
                raw = raw_bytes.decode()
                args: dict[str, Any] = dict(parse_qsl(url.query))
                if raw:
                    if "json" in (self.headers.get("Content-Type") or ""):
                        args.update(json.loads(raw))
                    else:
                        args.update(dict(parse_qsl(raw)))
                if method == "apps.connections.open":
                    if self.headers.get("Authorization") == f"Bearer {APP_TOKEN}":
                        status, body, headers = fake._answer(method, args)
                    else:
                        status, body, headers = 200, {"ok": False, "error": "not_allowed_token_type"}, {}
                elif self.headers.get("Authorization") != f"Bearer {TOKEN}" and args.get("token") != TOKEN:
                    status, body, headers = 200, {"ok": False, "error": "invalid_auth"}, {}
                else:
                    status, body, headers = fake._answer(method, args)
                payload = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.send_header("X-OAuth-Scopes", ",".join(sorted(fake.scopes)))
                for key, value in headers.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(payload)

            def _download(self, path: str) -> None:
                """A private file URL: served only with the bot token, as Slack does."""
                file_id = path.split("/")[2].split("-", 1)[-1]
                record = fake.files.get(file_id)
                with fake._lock:
                    fake.calls.append(Call("files.download", {"id": file_id}))
                allowed = self.headers.get("Authorization") == f"Bearer {TOKEN}" and "files:read" in fake.scopes
                status = 200 if record is not None and allowed else 404
                payload = record["content"].encode() if status == 200 else b"Not found"
                self.send_response(status)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def _plain(self, path: str, raw: bytes) -> None:
                """Upload URLs and response_urls: absolute URLs Slack hands out, with no token."""
                with fake._lock:
                    if path.startswith("/upload/"):
                        record = fake.files.get(path.rsplit("/", 1)[-1])
                        if record is not None:  # text files are read as text; a PNG is kept as bytes too
                            record["data"] = raw
                            record["content"] = raw.decode("utf-8", "replace")
                        status = 200 if record is not None else 404
                    else:
                        taken = fake.response_posts.get(path, 0)
                        fake.response_posts[path] = taken + 1
                        status = 200 if taken < RESPONSE_URL_POSTS else 404
                        if status == 200:
                            answer = json.loads(raw or b"{}")
                            fake.responses.append(answer)
                            fake.response_peers.append(self.client_address)
                            channel = path.rsplit("/", 1)[-1]
                            if answer.get("response_type") == "in_channel" and channel:
                                ts = fake._new_ts()
                                fake.messages[(channel, ts)] = {
                                    "channel": channel,
                                    "ts": ts,
                                    "text": answer.get("text"),
                                    "blocks": answer.get("blocks"),
                                    "thread_ts": None,
                                    "updates": 0,
                                    "metadata": None,
                                }
                payload = b"OK" if status == 200 else b"used_url"
                self.send_response(status)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = _serve
            do_POST = _serve

        return Handler
