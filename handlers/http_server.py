"""HTTP mode: Bolt behind waitress (a production WSGI server), plus GET /healthz."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from typing import Any

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from sqlalchemy import text

from handlers.ack_first import AckFirstExecutor
from storage.db import Database

log = logging.getLogger(__name__)
WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def wsgi_app(app: App, db: Database, workers: AckFirstExecutor) -> WsgiApp:
    """POST /slack/events goes to Bolt (`workers` hold back while requests are in flight); GET /healthz checks
    the database and says nothing secret."""
    bolt = SlackRequestHandler(app)

    def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == "/healthz" and environ.get("REQUEST_METHOD") in {"GET", "HEAD"}:
            try:
                with db.read() as session:
                    session.exec(text("SELECT 1"))  # type: ignore[call-overload]
                status, body = "200 OK", {"status": "ok", "database": "ok"}
            except Exception:
                log.exception("health check failed")
                status, body = "503 Service Unavailable", {"status": "error", "database": "unreachable"}
            payload = json.dumps(body).encode()
            start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))])
            return [payload]
        workers.request_started()
        try:
            return bolt(environ, start_response)
        finally:
            workers.request_finished()

    return application


def serve_http(app: App, db: Database, workers: AckFirstExecutor, host: str, port: int, threads: int) -> None:
    """Serve until interrupted."""
    from waitress import serve

    log.info("PatchPolicy listening on http://%s:%s/slack/events", host, port)
    serve(wsgi_app(app, db, workers), host=host, port=port, threads=threads, ident="patchpolicy")
