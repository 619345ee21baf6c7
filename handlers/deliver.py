"""Saying what the core returned: close the old prompt, post the replies, remember the new prompt."""

from __future__ import annotations

import logging

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.kernel.views import Notice, Outcome, QuestionView, SummaryView
from bot.questionnaire.engine import Questionnaire
from handlers.blocks import closed_message
from handlers.render import render
from handlers.replies import Replies

log = logging.getLogger(__name__)


def deliver(
    client: WebClient, questionnaire: Questionnaire, outcome: Outcome, channel: str, replies: Replies | None = None
) -> None:
    """Post an outcome into `channel` (the user's DM). A notice-only outcome answering a click goes to the
    person alone, through the click's response_url (`replies`)."""
    if outcome.closed is not None:
        try:
            client.chat_update(
                channel=outcome.closed.channel, ts=outcome.closed.ts, **closed_message(outcome.closed).as_kwargs()
            )
        except SlackApiError as err:  # the old prompt may be gone; the conversation goes on
            log.warning("could not close the previous prompt: %s", err.response.get("error"))
    only_notices = outcome.closed is None and all(isinstance(r, Notice) for r in outcome.replies)
    if only_notices and replies is not None:
        replies.send([render(reply) for reply in outcome.replies])
        return
    prompt = outcome.prompt
    for reply in outcome.replies:
        message = render(reply).as_kwargs()
        response = client.chat_postMessage(channel=channel, **message)
        live = isinstance(reply, QuestionView) or (isinstance(reply, SummaryView) and not reply.finished)
        if reply is prompt and live:
            questionnaire.record_prompt(reply.draft_id, reply.seq, response["channel"], response["ts"])
