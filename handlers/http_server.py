"""HTTP mode: Bolt behind waitress (a production WSGI server), plus GET /healthz.

Every POST is checked before Bolt sees it: a body over MAX_BODY gets 413, a wrong or missing Slack signature
401, and a signed body that is not UTF-8, not JSON or carries a `payload=` that is not JSON 400, each with one
log line and no traceback. Slow or idle clients are dropped after CHANNEL_TIMEOUT, and the connection limit
is sized for Slack's bursts, so half-sent requests cannot take the bot offline.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import logging
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qs

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
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


def _shared(start_response: Callable[..., Any], page: SharedPage | None) -> list[bytes]:
    """A shared page, or a plain 404 that says nothing about why (bad, expired and revoked look alike)."""
    if page is None:
        body = b"Not found"
        start_response("404 Not Found", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
        return [body]
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


def refusal(environ: dict[str, Any], verifier: SignatureVerifier) -> tuple[str, str] | None:
    """(HTTP status, reason) for a request that must not reach Bolt; None for one that may. The body is read
    once and put back for Bolt."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return "400 Bad Request", "unreadable Content-Length"
    if length > MAX_BODY:
        return "413 Payload Too Large", f"body of {length} bytes"
    raw = environ["wsgi.input"].read(length) if length > 0 else b""
    environ["wsgi.input"] = io.BytesIO(raw)
    timestamp = environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP")
    signature = environ.get("HTTP_X_SLACK_SIGNATURE")
    if not signed(verifier, raw, timestamp, signature):
        return "401 Unauthorized", "missing, wrong or stale Slack signature"
    try:
        body = raw.decode("utf-8")
        if "json" in (environ.get("CONTENT_TYPE") or ""):
            json.loads(body)
        elif "payload" in (form := parse_qs(body)):
            json.loads(form["payload"][0])
    except (UnicodeDecodeError, ValueError):
        return "400 Bad Request", "signed body that is not UTF-8 JSON or a form with a JSON payload"
    return None


def wsgi_app(
    app: App,
    health: Callable[[], dict[str, str]],
    workers: AckFirstExecutor,
    signing_secret: str,
    pages: Callable[[str], SharedPage | None] | None = None,
) -> WsgiApp:
    """POST /slack/events goes to Bolt once it passes `refusal` (`workers` hold back while requests are in
    flight); GET /healthz answers `health()` (nothing secret), 503 unless its status is ok; GET /share/...
    answers `pages` (a client's shared page), 404 when it finds nothing."""
    bolt = SlackRequestHandler(app)
    verifier = SignatureVerifier(signing_secret)

    def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path, reading = environ.get("PATH_INFO") or "", environ.get("REQUEST_METHOD") in {"GET", "HEAD"}
        if path == "/healthz" and reading:
            report = health()
            status = "200 OK" if report["status"] == "ok" else "503 Service Unavailable"
            return _answer(start_response, status, report)
        if path.startswith("/share/") and reading and pages is not None:
            return _shared(start_response, pages(path.removeprefix("/share/")))
        refused = refusal(environ, verifier) if environ.get("REQUEST_METHOD") == "POST" else None
        if refused is not None:
            status, reason = refused
            log.info("refused a request from %s: %s (%s)", environ.get("REMOTE_ADDR"), status, reason)
            return _answer(start_response, status, {"ok": False, "error": status.split(" ", 1)[1].lower()})
        workers.request_started()
        try:
            return bolt(environ, start_response)
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
