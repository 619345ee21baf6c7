"""Slack Web API calls over connections kept alive between them.

slack_sdk's WebClient sends each call through urllib, which opens a new connection every time (against Slack,
a new TLS session too: the handshake's round trips and its CPU for every chat.postMessage). `PooledWebClient`
sends the same requests through one urllib3 pool per client and gives slack_sdk back what urllib would have:
the answer, an HTTPError for a status outside 2xx, a URLError for a connection that failed, a TimeoutError for
an answer that did not come. So slack_sdk's retry handlers (429 with Retry-After, 5xx, connection errors) and
the callers' handling of OSError work as before.

Bolt hands each listener a WebClient it makes per request (urllib's, a new connection per call), and a
`respond` that opens one per answer; `KeptAlive` gives listeners the bot's pooled client and a `respond` over
the response_url pool instead. Bolt makes a client per request so that a listener changing its token cannot
touch another's; no listener here changes it.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from http.client import HTTPMessage
from typing import Any
from urllib.error import HTTPError, URLError
from urllib.request import Request

import urllib3
from slack_bolt import BoltRequest, BoltResponse
from slack_bolt.middleware import Middleware
from slack_sdk import WebClient

from handlers.http_pool import kept_alive
from handlers.response_urls import ResponseUrls


class PooledWebClient(WebClient):
    """A WebClient whose calls share kept-alive connections: at most `pool_size` idle per host, through the
    client's proxy when it has one."""

    def __init__(self, *args: Any, pool_size: int = 16, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        timeout = urllib3.Timeout(connect=self.timeout, read=self.timeout)
        self._pool = kept_alive(pool_size, self.proxy, self.ssl, timeout)

    def _perform_urllib_http_request_internal(self, url: str, req: Request) -> dict[str, Any]:
        if not url.lower().startswith("http"):  # slack_sdk refuses other schemes (file://): so does its own
            return super()._perform_urllib_http_request_internal(url, req)  # type: ignore[no-any-return]
        try:
            answer = self._pool.request(
                req.get_method(),
                url,
                body=req.data,  # type: ignore[arg-type]
                headers={name: str(value) for name, value in req.header_items()},
            )
        except urllib3.exceptions.ReadTimeoutError as err:
            raise TimeoutError(f"Slack did not answer {url} in {self.timeout} s") from err
        except urllib3.exceptions.HTTPError as err:
            raise URLError(getattr(err, "reason", None) or err) from err
        headers = HTTPMessage()
        for name, value in answer.headers.items():
            headers[name] = value
        if not 200 <= answer.status < 300:
            raise HTTPError(url, answer.status, answer.reason or "", headers, io.BytesIO(answer.data))
        if headers.get_content_type() == "application/gzip":  # admin.analytics.getFile
            return {"status": answer.status, "headers": headers, "body": answer.data}
        body = answer.data.decode(headers.get_content_charset() or "utf-8")
        return {"status": answer.status, "headers": headers, "body": body}

    def close(self) -> None:
        """Let go of the idle connections."""
        self._pool.clear()


class KeptAlive(Middleware):
    """Bolt middleware: the request's `client` (a listener's argument, and what its `say` posts with) is the
    bot's pooled client, and its `respond` posts through the response_url pool. A middleware class, not a
    function: Bolt then skips inspecting its arguments on every request (about 35 microseconds of each ack's
    CPU, as profiled)."""

    def __init__(self, client: PooledWebClient, answers: ResponseUrls) -> None:
        self.client, self.answers = client, answers

    def process(self, *, req: BoltRequest, resp: BoltResponse, next: Callable[[], BoltResponse]) -> BoltResponse:
        req.context["client"] = self.client
        if req.context.response_url:
            req.context["respond"] = self.answers.respond(req.context.response_url)
        return next()
