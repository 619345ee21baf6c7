"""Answering a person through the response_url of their command or click.

A response_url takes at most five posts in thirty minutes, so everything said to it is merged into as few
posts as Slack's limits allow, and each post's status is checked: what the response_url refuses goes to the
person's DM instead of being lost. Unlike chat.postEphemeral, it works in channels the bot is not in.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from slack_bolt import Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.kernel.escaping import truncate
from bot.kernel.views import Notice
from handlers.blocks import Message, notice_message
from handlers.people import open_dm
from handlers.sop_blocks import pack

log = logging.getLogger(__name__)
RESPONSE_URL_POSTS = 5
FALLBACK_TEXT = 3000


def merge(messages: Sequence[Message]) -> list[Message]:
    """The messages' blocks in as few messages as Slack's block-count and size limits allow."""
    fallback = truncate("\n".join(m.text for m in messages if m.text), FALLBACK_TEXT)
    sent = [made for m in messages for made in m.sent_blocks()]  # made once per message, not again in pack
    return pack([block for m in messages for block in m.blocks], fallback, sent)


class Replies:
    """What one command or click says back to the person, through its response_url."""

    def __init__(self, respond: Respond | None, client: WebClient | None = None, user_id: str | None = None) -> None:
        self.respond = respond  # None (a form opened with no response_url): everything goes to the DM
        self.client = client  # with user_id: where refused posts go instead (the person's DM)
        self.user_id = user_id

    def notices(self, notices: Sequence[Notice], replace_original: bool = False) -> bool:
        return self.send([notice_message(n) for n in notices], replace_original=replace_original)

    def send(self, messages: Sequence[Message], replace_original: bool = False, in_channel: bool = False) -> bool:
        """Post the messages merged; True when the response_url took them all."""
        posts = merge(messages)
        if self.respond is None:
            return self._to_dm(posts)
        kind = "in_channel" if in_channel else "ephemeral"
        for index, post in enumerate(posts[:RESPONSE_URL_POSTS]):
            response = self.respond(
                **post.as_kwargs(), response_type=kind, replace_original=replace_original and index == 0
            )
            if response.status_code != 200:
                log.warning("the response_url refused a post: %s %s", response.status_code, str(response.body)[:80])
                return self._to_dm(posts[index:])
        return self._to_dm(posts[RESPONSE_URL_POSTS:]) if len(posts) > RESPONSE_URL_POSTS else True

    def _to_dm(self, posts: Sequence[Message]) -> bool:
        if self.client is None or self.user_id is None:
            return False
        try:
            dm = open_dm(self.client, self.user_id)
            for post in posts:
                self.client.chat_postMessage(channel=dm, **post.as_kwargs())
        except SlackApiError as err:
            log.warning("could not send the answer to the DM either: %s", err.response.get("error"))
        return False
