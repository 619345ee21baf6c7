"""The buttons of a policy-review reminder: Start review (the edit flow in a DM) and Reviewed, no changes."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.core import Core
from handlers.blocks import notice_message
from handlers.deliver import deliver
from handlers.editors import Editors
from handlers.people import open_dm, slack_actor


def register(app: App, core: Core, editors: Editors) -> None:
    def actor_of(body: dict[str, Any], client: WebClient):  # type: ignore[no-untyped-def]
        user = body["user"]
        return slack_actor(client, user["id"], user.get("username") or user["id"], editors)

    @app.action("pp.review.start")
    def start(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient) -> None:
        ack()
        actor = actor_of(body, client)
        if not actor.editor:
            client.chat_postEphemeral(
                channel=body["channel"]["id"], user=actor.id, **notice_message(core.refusal("review")).as_kwargs()
            )
            return
        client_id = int(action["value"])
        notice = core.policy_reviews.record(actor, client_id, "review started; the policy was opened for editing")
        dm = open_dm(client, actor.id)
        client.chat_postMessage(channel=dm, **notice_message(notice).as_kwargs())
        deliver(client, core.questionnaire, core.edit_client(actor, client_id, {}), dm)

    @app.action("pp.review.nochange")
    def unchanged(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient) -> None:
        ack()
        actor = actor_of(body, client)
        if not actor.editor:
            client.chat_postEphemeral(
                channel=body["channel"]["id"], user=actor.id, **notice_message(core.refusal("review")).as_kwargs()
            )
            return
        notice = core.policy_reviews.record(actor, int(action["value"]), "no changes needed")
        client.chat_update(
            channel=body["channel"]["id"], ts=body["message"]["ts"], **notice_message(notice).as_kwargs()
        )
