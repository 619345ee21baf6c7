"""Buttons on published SOPs: Publish, a section of `show`, Share in channel."""

from __future__ import annotations

import re
from typing import Any

from slack_bolt import App, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.core import Core
from bot.views import Notice, ShowView
from handlers.after_ack import AfterAck
from handlers.blocks import notice_message
from handlers.editors import Editors
from handlers.people import payload_actor
from handlers.publish import post_version
from handlers.sop_blocks import shared_message, show_message


def register(app: App, core: Core, editors: Editors, later: AfterAck) -> None:
    @app.action("pp.publish")
    @later.listener
    def publish(body: dict[str, Any], action: dict[str, Any], client: WebClient) -> None:
        user = body["user"]
        actor = payload_actor(client, body, editors)
        outcome = core.publish(actor, draft_id=int(action["value"]))
        notice = post_version(client, core, outcome.published) if outcome.published else outcome.replies[0]
        channel, ts = body["channel"]["id"], body["message"]["ts"]
        if outcome.published:  # the offer is answered: replace it, so its button can't be pressed again
            client.chat_update(channel=channel, ts=ts, **notice_message(notice).as_kwargs())
        else:
            client.chat_postEphemeral(channel=channel, user=user["id"], **notice_message(notice).as_kwargs())

    @app.action(re.compile(r"^pp\.section\.(\d+|all)$"))
    @later.listener
    def section(action: dict[str, Any], respond: Respond) -> None:
        client_id, _, section_id = action["value"].partition("|")
        view = core.reader.section(int(client_id), section_id)
        message = show_message(view) if isinstance(view, ShowView) else notice_message(view)
        respond(**message.as_kwargs(), replace_original=True)

    @app.action("pp.share")
    @later.listener
    def share(body: dict[str, Any], action: dict[str, Any], client: WebClient, respond: Respond) -> None:
        client_id, _, section_id = action["value"].partition("|")
        view = core.reader.section(int(client_id), section_id)
        if not isinstance(view, ShowView):
            respond(**notice_message(view).as_kwargs(), replace_original=False)
            return
        try:
            client.chat_postMessage(
                channel=body["channel"]["id"], **shared_message(view, body["user"]["id"]).as_kwargs()
            )
        except SlackApiError as err:
            problem = Notice(
                f"I couldn't post here ({err.response.get('error')}). Invite me to the channel first.", "warning"
            )
            respond(**notice_message(problem).as_kwargs(), replace_original=False)
