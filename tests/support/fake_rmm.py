"""Fake NinjaOne and Automox APIs on loopback, answering in the shapes of the vendors' own OpenAPI documents
(copied from ../shared/rmm into tests/support/rmm_specs): every answer is checked against the excerpt's
schema before it is sent, so the fake cannot drift into a shape the real service never gives. Failures are
queued per path: `fail("/v2/devices", 500)`, `fail("/servers", 429, retry_after="7")`, `fail(path, 401)` (a
token that expired)."""

from __future__ import annotations

import itertools
import json
import threading
from collections import defaultdict
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

from tests.support.loopback import LoopbackServer

SPECS = Path(__file__).resolve().parent / "rmm_specs"  # the vendors' excerpts, as given in ../shared/rmm
CLIENT_ID, CLIENT_SECRET, API_KEY = "ninja-client", "ninja-secret", "automox-key"


def _load(name: str) -> dict[str, Any]:
    return json.loads((SPECS / f"{name}-openapi-excerpt.json").read_text(encoding="utf-8"))


def conforms(value: Any, schema: dict[str, Any], spec: dict[str, Any], where: str = "$") -> None:
    """Raise if `value` has a key or a type the schema does not allow (a light JSON Schema check)."""
    if "$ref" in schema:
        node: Any = spec
        for part in schema["$ref"].lstrip("#/").split("/"):
            node = node[part]
        schema = node
    kinds = schema.get("type")
    kinds = kinds if isinstance(kinds, list) else [kinds] if kinds else []
    if value is None:
        assert not kinds or "null" in kinds or schema.get("nullable"), f"{where}: null not allowed"
        return
    if isinstance(value, dict):
        assert not kinds or "object" in kinds, f"{where}: an object where {kinds} is expected"
        props = schema.get("properties")
        for key, item in value.items():
            if props is not None and not schema.get("additionalProperties"):
                assert key in props, f"{where}.{key} is not in the vendor's schema"
            if props and key in props:
                conforms(item, props[key], spec, f"{where}.{key}")
    elif isinstance(value, list):
        assert not kinds or "array" in kinds, f"{where}: a list where {kinds} is expected"
        for index, item in enumerate(value):
            conforms(item, schema.get("items", {}), spec, f"{where}[{index}]")
    elif isinstance(value, bool):
        assert not kinds or "boolean" in kinds, f"{where}: a boolean where {kinds} is expected"
    elif isinstance(value, int | float):
        assert not kinds or {"integer", "number"} & set(kinds), f"{where}: a number where {kinds} is expected"
    elif isinstance(value, str):
        assert not kinds or "string" in kinds, f"{where}: text where {kinds} is expected"


class FakeRmm:
    """Both vendors' APIs on one loopback server (their paths do not overlap)."""

    def __init__(self) -> None:
        self.ninja_spec, self.automox_spec = _load("ninjaone"), _load("automox")
        self.orgs: list[dict[str, Any]] = []
        self.devices: list[dict[str, Any]] = []
        self.patches: list[dict[str, Any]] = []  # os-patches rows
        self.installs: list[dict[str, Any]] = []  # os-patch-installs rows
        self.ax_orgs: list[dict[str, Any]] = []
        self.ax_groups: list[dict[str, Any]] = []
        self.ax_servers: list[dict[str, Any]] = []
        self.ax_packages: dict[int, list[dict[str, Any]]] = {}
        self.failures: dict[str, list[tuple[int, dict[str, str]]]] = defaultdict(list)
        self.requests: list[tuple[str, str, dict[str, list[str]]]] = []
        self.tokens: set[str] = set()
        self._counter = itertools.count(1)
        self._cursors: dict[str, tuple[list[dict[str, Any]], int]] = {}
        self._lock = threading.Lock()
        self._server = LoopbackServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> FakeRmm:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def fail(self, path: str, status: int, times: int = 1, **headers: str) -> None:
        self.failures[path] += [(status, {k.replace("_", "-").title(): v for k, v in headers.items()})] * times

    def paths(self, prefix: str = "") -> list[str]:
        return [p for _, p, _ in self.requests if p.startswith(prefix)]

    # ----- answers, each checked against the vendor's document ----------------------------------

    def _schema(self, spec: dict[str, Any], path: str, status: str = "default") -> dict[str, Any]:
        responses = spec["paths"][path]["get"]["responses"]
        answer = responses.get(status) or responses.get("200") or responses["default"]
        return answer["content"]["application/json"]["schema"]

    def ninja(self, path: str, query: dict[str, list[str]]) -> Any:
        size = int(query.get("pageSize", ["1000"])[0])
        if path == "/v2/organizations":
            return self._after(self.orgs, query, size)
        if path == "/v2/devices":
            org = int(query["df"][0].removeprefix("org="))
            return self._after([d for d in self.devices if d["organizationId"] == org], query, size)
        rows = self.patches if path == "/v2/queries/os-patches" else self.installs
        org = int(query["df"][0].removeprefix("org="))
        in_org = {d["id"] for d in self.devices if d["organizationId"] == org}
        name = query.get("cursor", [None])[0]
        if name is None:
            name = f"c{next(self._counter)}"
            self._cursors[name] = ([r for r in rows if r["deviceId"] in in_org], 0)
        found, offset = self._cursors[name]
        page = found[offset : offset + size]
        self._cursors[name] = (found, offset + len(page))
        cursor = {"name": name, "offset": offset, "count": len(page), "expires": 1800.0}
        return {"cursor": cursor, "results": page}

    @staticmethod
    def _after(rows: list[dict[str, Any]], query: dict[str, list[str]], size: int) -> list[dict[str, Any]]:
        after = int(query.get("after", ["0"])[0])
        return [r for r in rows if r["id"] > after][:size]

    def automox(self, path: str, query: dict[str, list[str]]) -> tuple[str, Any]:
        limit, page = int(query.get("limit", ["500"])[0]), int(query.get("page", ["0"])[0])
        if path == "/orgs":
            return "/orgs", self.ax_orgs[page * limit : (page + 1) * limit]
        org = int(query["o"][0])
        if path == "/servergroups":
            rows = [g for g in self.ax_groups if g["organization_id"] == org]
            return path, rows[page * limit : (page + 1) * limit]
        if path == "/servers":
            rows = [s for s in self.ax_servers if s["organization_id"] == org]
            return path, rows[page * limit : (page + 1) * limit]
        server = int(path.split("/")[2])
        rows = self.ax_packages.get(server, [])
        return "/servers/{id}/packages", rows[page * limit : (page + 1) * limit]

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _failure(self, path: str) -> bool:
                with fake._lock:
                    queued = fake.failures.get(path)
                    failure = queued.pop(0) if queued else None
                if failure is None:
                    return False
                self._send(failure[0], {"errors": ["injected"]}, failure[1])
                return True

            def do_POST(self) -> None:
                path = urlparse(self.path).path
                form = parse_qs(self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode())
                fake.requests.append(("POST", path, {}))
                if self._failure(path):
                    return
                good = form.get("client_id") == [CLIENT_ID] and form.get("client_secret") == [CLIENT_SECRET]
                if path != "/ws/oauth/token" or not good or form.get("grant_type") != ["client_credentials"]:
                    self._send(401, {"error": "invalid_client"})
                    return
                token = f"token-{next(fake._counter)}"
                fake.tokens.add(token)
                self._send(
                    200, {"access_token": token, "token_type": "Bearer", "expires_in": 3600, "scope": "monitoring"}
                )

            def do_GET(self) -> None:
                url = urlparse(self.path)
                query = parse_qs(url.query)
                fake.requests.append(("GET", url.path, query))
                if self._failure(url.path):
                    return
                auth = self.headers.get("Authorization", "")
                if url.path.startswith("/v2/"):
                    if auth.removeprefix("Bearer ") not in fake.tokens:
                        self._send(401, {"error": "invalid_token"})
                        return
                    body = fake.ninja(url.path, query)
                    conforms(body, fake._schema(fake.ninja_spec, url.path), fake.ninja_spec)
                elif auth != f"Bearer {API_KEY}":
                    self._send(401, {"errors": ["Unauthorized"]})
                    return
                else:
                    documented, body = fake.automox(url.path, query)
                    conforms(body, fake._schema(fake.automox_spec, documented, "200"), fake.automox_spec)
                self._send(200, body)

        return Handler
