"""The HTTP server behind the tests' fakes (Slack, the RMMs, the threat feeds) and the benchmarks' endpoints."""

from __future__ import annotations

from http.server import ThreadingHTTPServer


class LoopbackServer(ThreadingHTTPServer):
    """A threaded server that takes a burst of connections as a real service does: a listen backlog of 1024.
    The standard library's 5 drops the sixth connection arriving at once, and the client sends it again only
    after a second, which would be measured as the bot's delay."""

    request_queue_size = 1024
