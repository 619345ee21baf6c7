"""The HTTP server behind the tests' fakes (Slack, the RMMs, the threat feeds) and the benchmarks' endpoints."""

from __future__ import annotations

from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class LoopbackServer(ThreadingHTTPServer):
    """A threaded server that takes a burst of connections as a real service does: a listen backlog of 1024.
    The standard library's 5 drops the sixth connection arriving at once, and the client sends it again only
    after a second, which would be measured as the bot's delay."""

    request_queue_size = 1024


class KeptAliveHandler(BaseHTTPRequestHandler):
    """A quiet handler that keeps connections alive until the client closes them, as Slack's servers do; each
    write leaves at once (without TCP_NODELAY a body waits 40 ms for the ACK of its headers)."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, *args: object) -> None:
        pass
