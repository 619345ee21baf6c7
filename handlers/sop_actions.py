"""Buttons on published SOPs: Publish, a section of `show`, Share in channel."""

from __future__ import annotations

from typing import Any

from slack_bolt import App, Respond
from slack_sdk import WebClient

from bot.core import Core
from bot.kernel.views import Notice, ShowView
from handlers.blocks import notice_message
from handlers.ids import Action
from handlers.kit import SlackKit
from handlers.people import payload_actor
from handlers.publish import post_version
from handlers.replies import Replies
from handlers.sop_blocks import shared_message, show_message


class SopListeners:
    """Buttons on published SOPs: Publish, a section of show, Share in channel."""

    def __init__(self, core: Core, kit: SlackKit) -> None:
        self.core = core
        self.kit = kit

    def publish(self, body: dict[str, Any], action: dict[str, Any], client: WebClient, respond: Respond) -> None:
        actor = payload_actor(self.kit.editors, body)
        outcome = self.core.publish(actor, draft_id=int(action["value"]))
        notice = post_version(client, self.core, outcome.published) if outcome.published else outcome.replies[0]
        channel, ts = body["channel"]["id"], body["message"]["ts"]
        if outcome.published:  # the offer is answered: replace it, so its button can't be pressed again
            client.chat_update(channel=channel, ts=ts, **notice_message(notice).as_kwargs())
        else:
            Replies(respond, client, actor.id).notices([notice])

    def section(self, action: dict[str, Any], respond: Respond) -> None:
        client_id, _, section_id = action["value"].partition("|")
        view = self.core.reader.section(int(client_id), section_id)
        message = show_message(view) if isinstance(view, ShowView) else notice_message(view)
        Replies(respond).send([message], replace_original=True)

    def share(self, body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
        """Into the channel through the response_url: it works in channels the bot is not a member of."""
        client_id, _, section_id = action["value"].partition("|")
        view = self.core.reader.section(int(client_id), section_id)
        replies = Replies(respond)
        if not isinstance(view, ShowView):
            replies.notices([view])
        elif not replies.send([shared_message(view, body["user"]["id"])], in_channel=True):
            replies.notices([Notice("Slack would not take the post any more: run `/patchpolicy show` again.")])


def register(app: App, core: Core, kit: SlackKit) -> None:
    """Register each listener: a named method of SopListeners."""
    listeners = SopListeners(core, kit)
    app.action(Action.PUBLISH)(kit.later.listener(listeners.publish))
    app.action(Action.SECTION.family(r"\d+|all"))(kit.later.listener(listeners.section))
    app.action(Action.SHARE)(kit.later.listener(listeners.share))
