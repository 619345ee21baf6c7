"""Answers through response_urls over connections kept alive between them.

Bolt's `respond` opens a new connection for every post (against Slack, a new TLS session to hooks.slack.com
too). Here one pool per process (urllib3) keeps them: a middleware (`handlers/web_client.py`) gives each
request a `respond` that posts through it. A post that could not be sent raises OSError, as the standard
library's did; Slack's refusals come back as the status, for `Replies` to read.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import urllib3
from slack_bolt import Respond
from slack_sdk.models.attachments import Attachment
from slack_sdk.models.blocks import Block
from slack_sdk.webhook import WebhookResponse

from handlers.http_pool import kept_alive

TIMEOUT = urllib3.Timeout(connect=10.0, read=30.0)
HEADERS = {"Content-Type": "application/json;charset=utf-8"}


class ResponseUrls:
    """The process's connections to response_urls: kept alive, at most `size` idle per host; through `proxy`
    when the bot's WebClient has one (set, or from HTTPS_PROXY), as Bolt's `respond` goes."""

    def __init__(self, size: int = 16, proxy: str | None = None) -> None:
        self._pool = kept_alive(size, proxy, timeout=TIMEOUT)

    def respond(self, response_url: str) -> Respond:
        return PooledRespond(response_url, self._pool)

    def close(self) -> None:
        self._pool.clear()


class PooledRespond(Respond):
    """Bolt's `respond`, posting through a shared pool."""

    def __init__(self, response_url: str, pool: urllib3.PoolManager) -> None:
        super().__init__(response_url=response_url)
        self._pool = pool

    def __call__(  # type: ignore[override]
        self,
        text: str | dict[str, Any] = "",
        blocks: Sequence[dict[str, Any] | Block] | None = None,
        attachments: Sequence[dict[str, Any] | Attachment] | None = None,
        response_type: str | None = None,
        replace_original: bool | None = None,
        delete_original: bool | None = None,
        unfurl_links: bool | None = None,
        unfurl_media: bool | None = None,
        thread_ts: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> WebhookResponse:
        """Post a message (or, `text` a dict, the whole message) as Bolt's `respond` does."""
        assert self.response_url is not None
        options = {
            "response_type": response_type,
            "replace_original": replace_original,
            "delete_original": delete_original,
            "unfurl_links": unfurl_links,
            "unfurl_media": unfurl_media,
            "thread_ts": thread_ts,
            "metadata": metadata,
        }
        message = dict(text) if isinstance(text, dict) else _message(text, blocks, attachments, options)
        try:
            answer = self._pool.request("POST", self.response_url, body=json.dumps(message).encode(), headers=HEADERS)
        except urllib3.exceptions.HTTPError as err:
            raise OSError(f"could not post to the response_url: {type(err).__name__}") from err
        body, headers = answer.data.decode("utf-8", "replace"), dict(answer.headers)
        return WebhookResponse(url=self.response_url, status_code=answer.status, body=body, headers=headers)


def _message(
    text: str,
    blocks: Sequence[dict[str, Any] | Block] | None,
    attachments: Sequence[dict[str, Any] | Attachment] | None,
    options: dict[str, Any],
) -> dict[str, Any]:
    """The JSON body Bolt's `respond` sends: text, typed blocks as dicts, and the options that were given."""
    message: dict[str, Any] = {"text": text}
    if blocks:
        message["blocks"] = [b.to_dict() if isinstance(b, Block) else b for b in blocks]
    if attachments:
        message["attachments"] = [a.to_dict() if isinstance(a, Attachment) else a for a in attachments]
    return message | {key: value for key, value in options.items() if value is not None}
