"""The buttons of a policy-review reminder: Start review (the edit flow in a DM) and Reviewed, no changes."""

from __future__ import annotations

from typing import Any

from slack_bolt import App, Respond
from slack_sdk import WebClient

from bot.core import Core
from bot.kernel.actor import Actor
from handlers.blocks import notice_message
from handlers.deliver import deliver
from handlers.ids import Action
from handlers.kit import SlackKit
from handlers.people import open_dm, payload_actor
from handlers.replies import Replies


def register(app: App, core: Core, kit: SlackKit) -> None:
    later = kit.later

    def editor_of(body: dict[str, Any], respond: Respond) -> Actor | None:
        """The clicking user if they may review policies; otherwise they are told who can, and None."""
        actor = payload_actor(kit.editors, body)
        if actor.editor:
            return actor
        Replies(respond).notices([core.refusal("review")])
        return None

    @app.action(Action.REVIEW_START)
    @later.listener
    def start(body: dict[str, Any], action: dict[str, Any], client: WebClient, respond: Respond) -> None:
        actor = editor_of(body, respond)
        if actor is None:
            return
        client_id = int(action["value"])
        notice = core.policy_reviews.record(actor, client_id, "review started; the policy was opened for editing")
        dm = open_dm(client, actor.id)
        client.chat_postMessage(channel=dm, **notice_message(notice).as_kwargs())
        deliver(client, core.questionnaire, core.edit_client(actor, client_id, {}), dm)

    @app.action(Action.REVIEW_NO_CHANGE)
    @later.listener
    def unchanged(body: dict[str, Any], action: dict[str, Any], client: WebClient, respond: Respond) -> None:
        actor = editor_of(body, respond)
        if actor is None:
            return
        notice = core.policy_reviews.record(actor, int(action["value"]), "no changes needed")
        client.chat_update(
            channel=body["channel"]["id"], ts=body["message"]["ts"], **notice_message(notice).as_kwargs()
        )
