"""Driving the real bot over HTTP as Slack does: signed requests, real payload shapes."""

from __future__ import annotations

import itertools
import json
import threading
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from slack_sdk.signature import SignatureVerifier
from sqlmodel import func, select

from bot.feeds.watch import FeedUrls
from bot.kernel.clock import Clock
from bot.kernel.config import Settings
from handlers.ack_first import AckFirstExecutor
from handlers.app import WORKER_THREADS, create_bot
from handlers.http_server import make_server, serve_until, wsgi_app
from storage.db import Database
from storage.models import InboxRequest
from tests.support.fake_slack import TOKEN, FakeSlack

SIGNING_SECRET = "test-signing-secret"


class TrackingExecutor(AckFirstExecutor):
    """The bot's worker pool, as in production (handlers.app), counting work in flight so tests can wait for it."""

    def __init__(self) -> None:
        super().__init__(WORKER_THREADS)
        self._pending = 0
        self._idle = threading.Condition()
        self.errors: list[BaseException] = []

    def submit(self, fn, /, *args, **kwargs):  # type: ignore[no-untyped-def]
        with self._idle:
            self._pending += 1

        def run():  # type: ignore[no-untyped-def]
            try:
                return fn(*args, **kwargs)
            except BaseException as err:
                self.errors.append(err)
                raise
            finally:
                with self._idle:
                    self._pending -= 1
                    self._idle.notify_all()

        return super().submit(run)

    def wait_idle(self, timeout: float = 10.0) -> None:
        with self._idle:
            if not self._idle.wait_for(lambda: self._pending == 0, timeout=timeout):
                raise AssertionError("the bot did not settle")


@dataclass
class Response:
    status: int
    body: str
    followups: list[dict[str, Any]] = field(default_factory=list)  # messages sent to the response_url

    def json(self) -> dict[str, Any]:
        """What the user sees in reply: the ack's message, or (acked empty) the first response_url message."""
        if not self.body and self.followups:
            return self.followups[0]
        return json.loads(self.body)


PUBLIC_URL = "https://patchpolicy.example.com"  # what share links name; tests open them on the bot's own port


class BotUnderTest:
    """The real app behind waitress on loopback, talking to a FakeSlack, on a real SQLite file."""

    def __init__(
        self,
        fake: FakeSlack,
        db_url: str,
        clock: Clock,
        instance: str = "test-bot",
        use_lease: bool = True,
        editors: str = "",
        feeds: FeedUrls | None = None,
    ) -> None:
        self.fake = fake
        self.settings = Settings(
            slack_bot_token=TOKEN,
            slack_signing_secret=SIGNING_SECRET,
            slack_api_url=fake.url,
            reminder_poll_seconds=86_400,
            patchpolicy_editors=editors,  # a manual clock: the poll only matters across replicas
            database_url=db_url,
            public_url=PUBLIC_URL,
            _env_file=None,
        )
        self.db = Database(db_url)
        self.db.migrate()
        self.executor = TrackingExecutor()
        self.bot = create_bot(
            self.settings, self.db, clock, instance=instance, use_lease=use_lease, workers=self.executor, feeds=feeds
        )
        self.app, self.core, self.scheduler = self.bot.app, self.bot.core, self.bot.scheduler
        self.bot.kit.workspace.start()  # as serve starts them (the scheduler the tests drive by hand)
        self.bot.start_inbox()
        assert self.bot.kit.workspace.loaded.wait(5), "the workspace cache did not load"
        self.errors: list[BaseException] = []

        @self.app.error
        def record(error: BaseException) -> None:  # Bolt logs and swallows listener errors; tests must see them
            self.errors.append(error)

        application = wsgi_app(self.app, self.bot.health, self.executor, SIGNING_SECRET, self.bot.page)
        self.server = make_server(application, "127.0.0.1", 0, 8)
        self.url = f"http://127.0.0.1:{self.server.effective_port}"
        self._stop = threading.Event()
        self._thread = threading.Thread(target=serve_until, args=(self.server, self._stop), daemon=True)
        self._thread.start()
        self._ids = itertools.count(1)
        self._stopped = False

    def stop(self) -> None:
        """Stop as a process stops (a second call does nothing)."""
        if self._stopped:
            return
        self._stopped = True
        self.settle()
        self.bot.stop()
        self._stop.set()  # as a SIGTERM does in `patchpolicy serve`
        self._thread.join(10)
        self.executor.shutdown(wait=True)
        self.db.dispose()

    def settle(self, timeout: float = 10.0) -> None:
        """Wait until every request recorded so far has finished its work after the ack (and its modals opened);
        a request of another thread may be between its record and its wake-up, so unfinished ones get time.
        Requests recorded after this call began (other users' next steps) are not waited for."""
        deadline = time.monotonic() + timeout
        while self.bot.mover is not None and self.bot.mover.spool.count():  # acked, not yet in the inbox table
            assert time.monotonic() < deadline, "spooled requests were not moved into the inbox"
            time.sleep(0.005)
        with self.db.read() as session:
            newest = session.exec(select(func.max(InboxRequest.id))).one() or 0
        while True:
            assert self.bot.kit.modals.wait_idle(), "a modal did not open"
            self.executor.wait_idle()
            assert self.bot.kit.modals.wait_idle(), "a modal did not open"
            assert not self.executor.errors, self.executor.errors
            assert not self.errors, self.errors
            unfinished = self.unfinished(newest)
            assert not [row for row in unfinished if row[1] == "failed"], unfinished
            if not unfinished:
                return
            assert time.monotonic() < deadline, f"recorded requests did not finish: {unfinished}"
            time.sleep(0.01)

    def unfinished(self, up_to: int | None = None) -> list[tuple[str, str, str | None]]:
        """Recorded requests not done (up to an id): (key, state, error)."""
        with self.db.read() as session:
            query = select(InboxRequest.key, InboxRequest.state, InboxRequest.error).where(InboxRequest.state != "done")
            if up_to is not None:
                query = query.where(InboxRequest.id <= up_to)
            return [tuple(row) for row in session.exec(query).all()]

    # ----- raw HTTP ---------------------------------------------------------------------------

    def post(
        self,
        body: str,
        content_type: str,
        signed: bool = True,
        timestamp: int | None = None,
        signature: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> Response:
        ts = str(timestamp if timestamp is not None else int(time.time()))
        all_headers = {"Content-Type": content_type, **(headers or {})}
        if signed:
            all_headers["X-Slack-Request-Timestamp"] = ts
            all_headers["X-Slack-Signature"] = signature or SignatureVerifier(SIGNING_SECRET).generate_signature(
                timestamp=ts, body=body
            )
        request = urllib.request.Request(self.url + "/slack/events", data=body.encode(), headers=all_headers)
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return Response(response.status, response.read().decode())
        except urllib.error.HTTPError as err:
            return Response(err.code, err.read().decode())

    def get(self, path: str) -> Response:
        with urllib.request.urlopen(self.url + path, timeout=10) as response:
            return Response(response.status, response.read().decode())

    # ----- what Slack sends -------------------------------------------------------------------

    def command_body(self, text: str, user: str, channel: str = "C0GENERAL", channel_name: str = "general") -> str:
        return urlencode(
            {
                "token": "legacy",
                "team_id": "T1",
                "team_domain": "fake",
                "channel_id": channel,
                "channel_name": channel_name,
                "user_id": user,
                "user_name": self.fake.users.get(user, {}).get("name", user),
                "command": "/patchpolicy",
                "text": text,
                "api_app_id": "A1",
                "is_enterprise_install": "false",
                "response_url": self.fake.response_url(channel),
                "trigger_id": self.fake.trigger_id(),
            }
        )

    def command(self, text: str, user: str = "UTECH", settle: bool = True, **kw: str) -> Response:
        before = len(self.fake.responses)
        response = self.post(self.command_body(text, user, **kw), "application/x-www-form-urlencoded")
        if settle:
            self.settle()
            response.followups = self.fake.responses[before:]
        return response

    def dm(self, text: str, user: str = "UTECH", settle: bool = True, event_id: str | None = None) -> Response:
        """A message typed in the bot's DM. Slack escapes &, < and > in it, as here."""
        escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        body = json.dumps(
            {
                "token": "legacy",
                "team_id": "T1",
                "api_app_id": "A1",
                "type": "event_callback",
                "event_id": event_id or f"Ev{uuid.uuid4().hex[:12].upper()}",  # unique across bots, as Slack's are
                "event_time": int(time.time()),
                "event": {
                    "type": "message",
                    "channel_type": "im",
                    "channel": f"D{user}",
                    "user": user,
                    "text": escaped,
                    "ts": f"{time.time():.6f}",
                },
            }
        )
        response = self.post(body, "application/json")
        if settle:
            self.settle()
        return response

    def share_file(self, name: str, content: str, user: str = "UTECH") -> Response:
        """A file shared in the bot's DM: the file_share message event Slack sends for it."""
        files = [self.fake.user_file(name, content)]
        event = {"type": "message", "subtype": "file_share", "channel_type": "im", "channel": f"D{user}"}
        return self.event({**event, "user": user, "files": files, "ts": f"{time.time():.6f}"})

    def event(self, event: dict[str, Any], settle: bool = True) -> Response:
        """Any Events API event, wrapped as Slack wraps it."""
        body = json.dumps(
            {
                "token": "legacy",
                "team_id": "T1",
                "api_app_id": "A1",
                "type": "event_callback",
                "event_id": f"Ev{uuid.uuid4().hex[:12].upper()}",
                "event_time": int(time.time()),
                "event": event,
            }
        )
        response = self.post(body, "application/json")
        if settle:
            self.settle()
        return response

    def _interaction(self, kind: str, user: str) -> dict[str, Any]:
        """What every interactivity payload starts with: its type, the workspace, the app and who acted."""
        name = self.fake.users.get(user, {}).get("name", user)
        return {
            "type": kind,
            "team": {"id": "T1"},
            "api_app_id": "A1",
            "token": "legacy",
            "user": {"id": user, "username": name, "team_id": "T1"},
        }

    def submit_view(
        self, callback_id: str, values: dict[str, Any], user: str = "UTECH", metadata: str = "", view_id: str = ""
    ) -> Response:
        """A modal's Submit: the view_submission payload with the state the user typed (same view_id: a resubmit)."""
        payload = {
            **self._interaction("view_submission", user),
            "trigger_id": self.fake.trigger_id(),
            "view": {
                "id": view_id or f"V{next(self._ids)}",
                "type": "modal",
                "callback_id": callback_id,
                "private_metadata": metadata,
                "state": {"values": values},
                "hash": "h",
            },
        }
        response = self.post(urlencode({"payload": json.dumps(payload)}), "application/x-www-form-urlencoded")
        self.settle()
        return response

    def click(
        self,
        message: dict[str, Any],
        action_id: str,
        user: str = "UTECH",
        label: str | None = None,
        selected: Any = None,
        checked: list[str] | None = None,
        settle: bool = True,
        trigger_age: float = 0.0,
    ) -> Response:
        """Press a button (or choose in a select) of a message the bot posted (`trigger_age`: seconds the click's
        trigger_id has already lived when the bot sees it, as if the request had been slow to arrive)."""
        block, element = find_element(message, action_id, label)
        action: dict[str, Any] = {
            "action_id": element["action_id"],
            "block_id": block.get("block_id", "b"),
            "type": element["type"],
            "action_ts": f"{time.time():.6f}",
        }
        if element["type"] == "button":
            action["value"] = element.get("value", "")
        elif element["type"] == "static_select":
            options = element.get("options") or [o for g in element.get("option_groups", []) for o in g["options"]]
            option = next(
                o for o in options if selected in (o["text"]["text"], o["value"]) or str(selected) in o["text"]["text"]
            )
            action["selected_option"] = option
        elif element["type"] == "conversations_select":
            action["selected_conversation"] = selected
        elif element["type"] == "users_select":
            action["selected_user"] = selected
        elif element["type"] == "multi_users_select":
            action["selected_users"] = selected
        state: dict[str, Any] = {"values": {}}
        if checked is not None:
            options = find_element(message, "pp.check")[1]["options"]
            state["values"]["multi"] = {
                "pp.check": {"type": "checkboxes", "selected_options": [o for o in options if o["value"] in checked]}
            }
        payload = {
            **self._interaction("block_actions", user),
            "container": {
                "type": "message",
                "message_ts": message["ts"],
                "channel_id": message["channel"],
                "is_ephemeral": message["ts"] == "ephemeral",
            },
            "channel": {"id": message["channel"], "name": "directmessage"},
            "message": {"ts": message["ts"], "text": message["text"], "blocks": message["blocks"]},
            "trigger_id": self.fake.trigger_id(age=trigger_age),
            "response_url": self.fake.response_url(message["channel"]),
            "state": state,
            "actions": [action],
        }
        before = len(self.fake.responses)
        response = self.post(urlencode({"payload": json.dumps(payload)}), "application/x-www-form-urlencoded")
        if settle:
            self.settle()
            response.followups = self.fake.responses[before:]
        return response

    def options(self, action_id: str, typed: str, user: str = "UTECH", block_id: str = "client") -> list[dict]:
        """What a modal's external select offers after the user types `typed` (Slack's block_suggestion)."""
        payload = {
            **self._interaction("block_suggestion", user),
            "action_id": action_id,
            "block_id": block_id,
            "value": typed,
            "container": {"type": "view", "view_id": "V1"},
            "view": {"id": "V1", "type": "modal", "callback_id": "any", "state": {"values": {}}},
        }
        response = self.post(urlencode({"payload": json.dumps(payload)}), "application/x-www-form-urlencoded")
        assert response.status == 200, response
        return json.loads(response.body)["options"]


def find_element(message: dict[str, Any], action_id: str, label: str | None = None) -> tuple[dict, dict]:
    """The block and element of a message with this action_id (and button label, if given)."""
    for block in message.get("blocks") or []:
        elements = block.get("elements", []) if block["type"] == "actions" else []
        if block["type"] == "section" and block.get("accessory"):
            elements = [block["accessory"]]
        for element in elements:
            if element.get("action_id") != action_id and not element.get("action_id", "").startswith(action_id + "."):
                continue
            if label is None or element.get("text", {}).get("text") == label:
                return block, element
    raise AssertionError(f"no element {action_id} {label or ''} in message: {json.dumps(message)[:600]}")


def message_text(message: dict[str, Any]) -> str:
    """Everything a user reads in a message: its blocks' text, in order."""
    parts: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("text"), str):
                parts.append(node["text"])
            for key, value in node.items():
                if key != "text" or not isinstance(value, str):
                    walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(message.get("blocks") or [])
    return "\n".join(parts) if parts else message.get("text") or ""


def mrkdwn_texts(message: dict[str, Any]) -> list[str]:
    """Every mrkdwn text object of a message: where Slack would turn <...> into pings and links."""
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "mrkdwn":
                found.append(node["text"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(message.get("blocks") or [])
    return found
