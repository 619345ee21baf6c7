"""HTTP mode: Bolt behind waitress (a production WSGI server), plus GET /healthz.

Every POST is checked before Bolt sees it: a body over MAX_BODY gets 413, a wrong or missing Slack signature
401, and a signed body that is not UTF-8, not JSON or carries a `payload=` that is not JSON 400, each with one
log line and no traceback. A body that passes is parsed once, here, and handed to Bolt parsed (on a button's
large form, parsing is most of an ack's own work). Slow or idle clients are dropped after CHANNEL_TIMEOUT,
and the connection limit is sized for Slack's bursts, so half-sent requests cannot take the bot offline.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from slack_bolt import App, BoltRequest
from slack_bolt.adapter.wsgi.http_request import WsgiHttpRequest
from slack_bolt.adapter.wsgi.http_response import WsgiHttpResponse
from slack_sdk.signature import SignatureVerifier
from sqlalchemy import text
from waitress import wasyncore
from waitress.server import create_server

from bot.reporting.sharing import SharedPage
from handlers.ack_first import AckFirstExecutor
from storage.db import Database

log = logging.getLogger(__name__)
WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
MAX_BODY = 1_000_000  # bytes; Slack's largest payloads (a view with its state) are far smaller
CHANNEL_TIMEOUT = 10  # seconds a connection may sit idle or half-sent
CONNECTION_LIMIT = 1000  # open connections at once
EVENTS = "/slack/events"  # where Slack sends events, commands and interactions
DRAIN = 3.0  # seconds requests in flight get to finish when the process is stopped


def _answer(start_response: Callable[..., Any], status: str, body: dict[str, Any]) -> list[bytes]:
    payload = json.dumps(body).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))])
    return [payload]


SHARE_HEADERS = [
    ("Cache-Control", "private, max-age=300"),
    ("X-Robots-Tag", "noindex, nofollow"),
    ("Referrer-Policy", "no-referrer"),
    ("X-Content-Type-Options", "nosniff"),
    ("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src data:"),
]


def _not_found(start_response: Callable[..., Any]) -> list[bytes]:
    body = b"Not found"
    start_response("404 Not Found", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]


def _shared(start_response: Callable[..., Any], page: SharedPage | None) -> list[bytes]:
    """A shared page, or a plain 404 that says nothing about why (bad, expired and revoked look alike)."""
    if page is None:
        return _not_found(start_response)
    headers = [("Content-Type", page.content_type), ("Content-Length", str(len(page.body))), *SHARE_HEADERS]
    if page.filename:
        headers.append(("Content-Disposition", f'inline; filename="{page.filename}"'))
    start_response("200 OK", headers)
    return [page.body]


def signed(verifier: SignatureVerifier, raw: bytes, timestamp: str | None, signature: str | None) -> bool:
    """Slack's signature check over the raw bytes (slack_sdk's decodes the body first, which a non-UTF-8 body
    turns into an exception)."""
    try:
        return verifier.is_valid(raw.decode("utf-8"), timestamp, signature)
    except UnicodeDecodeError:
        return _signed_bytes(verifier, raw, timestamp, signature)


def _signed_bytes(verifier: SignatureVerifier, raw: bytes, timestamp: str | None, signature: str | None) -> bool:
    if not timestamp or not signature or not timestamp.isdigit():
        return False
    if abs(verifier.clock.now() - int(timestamp)) > 60 * 5:
        return False
    digest = hmac.new(verifier.signing_secret.encode(), f"v0:{timestamp}:".encode() + raw, hashlib.sha256)
    return hmac.compare_digest(f"v0={digest.hexdigest()}", signature)


@dataclass(frozen=True)
class Refused:
    """A request that must not reach Bolt: the HTTP status to answer and the reason to log."""

    status: str
    reason: str


def checked_body(environ: dict[str, Any], verifier: SignatureVerifier) -> dict[str, Any] | Refused:
    """The body of a signed request, parsed once (Bolt gets it parsed), or why it is refused. A form is an
    interaction when it has a `payload` field, else a slash command (Bolt's own parser takes any body that
    holds the word "payload" for an interaction, so `/patchpolicy show payload` would be lost)."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return Refused("400 Bad Request", "unreadable Content-Length")
    if length > MAX_BODY:
        return Refused("413 Payload Too Large", f"body of {length} bytes")
    raw = environ["wsgi.input"].read(length) if length > 0 else b""
    if not signed(verifier, raw, environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP"), environ.get("HTTP_X_SLACK_SIGNATURE")):
        return Refused("401 Unauthorized", "missing, wrong or stale Slack signature")
    try:
        body = _parsed(raw.decode("utf-8"), environ.get("CONTENT_TYPE") or "")
    except (UnicodeDecodeError, ValueError):
        body = None
    if not isinstance(body, dict):
        return Refused("400 Bad Request", "signed body that is not UTF-8 JSON or a form with a JSON payload")
    return body


def _parsed(text: str, content_type: str) -> Any:
    if "json" in content_type or text.startswith("{"):
        return json.loads(text)
    form = dict(parse_qsl(text, keep_blank_values=True))
    return json.loads(form["payload"]) if "payload" in form else form


def _bolt_answer(
    app: App, environ: dict[str, Any], body: dict[str, Any], start_response: Callable[..., Any]
) -> Iterable[bytes]:
    """Dispatch a checked body. Bolt calls a body it is given parsed and already verified "socket_mode" (as
    the inbox's replay does); its answer goes back as Bolt's WSGI adapter sends it."""
    request = WsgiHttpRequest(environ)
    bolt_request = BoltRequest(body=body, query=request.query_string, headers=request.get_headers(), mode="socket_mode")
    response = app.dispatch(bolt_request)
    answer = WsgiHttpResponse(status=response.status, headers=response.headers, body=response.body)
    start_response(answer.status, answer.get_headers())
    return answer.get_body()


def wsgi_app(
    app: App,
    health: Callable[[], dict[str, str]],
    workers: AckFirstExecutor,
    signing_secret: str,
    pages: Callable[[str], SharedPage | None] | None = None,
) -> WsgiApp:
    """POST /slack/events goes to Bolt once it passes `checked_body` (`workers` hold back while requests are
    in flight); GET /healthz answers `health()` (nothing secret), 503 unless its status is ok; GET /share/...
    answers `pages` (a client's shared page), 404 when it finds nothing."""
    verifier = SignatureVerifier(signing_secret)

    def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path, method = environ.get("PATH_INFO") or "", environ.get("REQUEST_METHOD")
        if path == "/healthz" and method in {"GET", "HEAD"}:
            report = health()
            status = "200 OK" if report["status"] == "ok" else "503 Service Unavailable"
            return _answer(start_response, status, report)
        if path.startswith("/share/") and method in {"GET", "HEAD"} and pages is not None:
            return _shared(start_response, pages(path.removeprefix("/share/")))
        if path != EVENTS or method != "POST":
            return _not_found(start_response)
        body = checked_body(environ, verifier)
        if isinstance(body, Refused):
            log.info("refused a request from %s: %s (%s)", environ.get("REMOTE_ADDR"), body.status, body.reason)
            return _answer(start_response, body.status, {"ok": False, "error": body.status.split(" ", 1)[1].lower()})
        workers.request_started()
        try:
            return _bolt_answer(app, environ, body, start_response)
        finally:
            workers.request_finished()

    return application


def make_server(application: WsgiApp, host: str, port: int, threads: int) -> Any:
    """The waitress server with the limits above (port 0: any free port, see `effective_port`)."""
    return create_server(
        application,
        host=host,
        port=port,
        threads=threads,
        ident="patchpolicy",
        channel_timeout=CHANNEL_TIMEOUT,
        connection_limit=CONNECTION_LIMIT,
        cleanup_interval=2,
        max_request_body_size=MAX_BODY,  # waitress answers 413 itself, before reading the body
    )


def database_health(db: Database, integrity: str) -> dict[str, str]:
    """The database part of /healthz: reachable now, and whether it passed the integrity check at start."""
    try:
        with db.read() as session:
            session.exec(text("SELECT 1"))  # type: ignore[call-overload]
        reachable = "ok"
    except Exception as err:
        log.warning("health check: the database is unreachable: %s", type(err).__name__)
        reachable = "unreachable"
    return {"database": reachable, "integrity": "ok" if integrity == "ok" else "damaged"}


def serve_until(server: Any, stop: threading.Event, drain: float = DRAIN) -> None:
    """Serve until `stop` is set; then stop accepting and give requests in flight up to `drain` seconds to
    get their answers."""
    while not stop.is_set():
        wasyncore.loop(timeout=0.2, map=server._map, use_poll=True, count=1)
    server.del_channel()  # stop accepting: new connections are refused
    server.socket.close()
    deadline = time.monotonic() + drain
    while time.monotonic() < deadline and _busy(server):
        wasyncore.loop(timeout=0.05, map=server._map, use_poll=True, count=1)
    server.task_dispatcher.shutdown(cancel_pending=True, timeout=max(deadline - time.monotonic(), 0.1))


def _busy(server: Any) -> bool:
    """A request is being worked on, or an answer is still being written."""
    dispatcher = server.task_dispatcher
    if dispatcher.active_count or dispatcher.queue:
        return True
    return any(getattr(channel, "total_outbufs_len", 0) for channel in list(server._map.values()))
