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


class PolicyReviewListeners:
    """The buttons of a policy-review reminder: Start review and Reviewed, no changes."""

    def __init__(self, core: Core, kit: SlackKit) -> None:
        self.core = core
        self.kit = kit

    def editor_of(self, body: dict[str, Any], respond: Respond) -> Actor | None:
        """The clicking user if they may review policies; otherwise they are told who can, and None."""
        actor = payload_actor(self.kit.editors, body)
        if actor.editor:
            return actor
        Replies(respond).notices([self.core.refusal("review")])
        return None

    def start(self, body: dict[str, Any], action: dict[str, Any], client: WebClient, respond: Respond) -> None:
        actor = self.editor_of(body, respond)
        if actor is None:
            return
        client_id = int(action["value"])
        notice = self.core.policy_reviews.record(actor, client_id, "review started; the policy was opened for editing")
        dm = open_dm(client, actor.id)
        client.chat_postMessage(channel=dm, **notice_message(notice).as_kwargs())
        deliver(client, self.core.questionnaire, self.core.edit_client(actor, client_id, {}), dm)

    def unchanged(self, body: dict[str, Any], action: dict[str, Any], client: WebClient, respond: Respond) -> None:
        actor = self.editor_of(body, respond)
        if actor is None:
            return
        notice = self.core.policy_reviews.record(actor, int(action["value"]), "no changes needed")
        client.chat_update(
            channel=body["channel"]["id"], ts=body["message"]["ts"], **notice_message(notice).as_kwargs()
        )


def register(app: App, core: Core, kit: SlackKit) -> None:
    """Register each listener: a named method of PolicyReviewListeners."""
    listeners = PolicyReviewListeners(core, kit)
    app.action(Action.REVIEW_START)(kit.later.listener(listeners.start))
    app.action(Action.REVIEW_NO_CHANGE)(kit.later.listener(listeners.unchanged))
