"""Messages in the bot's DM: typed answers, policy files shared to be imported, and RMM exports."""

from __future__ import annotations

from typing import Any

from slack_bolt import App
from slack_sdk import WebClient

from bot.core import Core
from bot.kernel.actor import Actor
from bot.kernel.escaping import unescape_slack
from handlers.deliver import deliver
from handlers.device_files import import_export, is_export
from handlers.kit import SlackKit
from handlers.people import slack_actor
from handlers.policy_files import fetch_policy_file
from handlers.render import render


class MessageListeners:
    """Messages in the bot's DM: typed answers and shared policy files."""

    def __init__(self, core: Core, kit: SlackKit) -> None:
        self.core = core
        self.kit = kit

    def direct_message(self, event: dict[str, Any], client: WebClient) -> None:
        if event.get("channel_type") != "im" or event.get("bot_id") or not event.get("user"):
            return
        if event.get("subtype") == "file_share" and is_export(event.get("files") or []):
            if not self.kit.editors.is_editor(event["user"]):  # device data is audit evidence: editors bring it in
                client.chat_postMessage(
                    channel=event["channel"], **render(self.core.refusal("import device data for")).as_kwargs()
                )
                return
            import_export(event, client, self.core)
            return
        if event.get("subtype") == "file_share":
            _import(event, client, self.core, self.kit)
            return
        if event.get("subtype"):
            return
        actor = Actor(event["user"], event["user"], editor=self.kit.editors.is_editor(event["user"]))
        outcome = self.core.questionnaire.text(actor, unescape_slack(event.get("text") or ""))
        deliver(client, self.core.questionnaire, outcome, event["channel"])


def register(app: App, core: Core, kit: SlackKit) -> None:
    """Register each listener: a named method of MessageListeners."""
    listeners = MessageListeners(core, kit)
    app.event("message")(kit.later.listener(listeners.direct_message))


def _import(event: dict[str, Any], client: WebClient, core: Core, kit: SlackKit) -> None:
    """A file shared in the DM: loaded into a draft when it is a valid policy file, else why not."""
    channel = event["channel"]
    if not kit.editors.is_editor(event["user"]):
        client.chat_postMessage(channel=channel, **render(core.refusal("import")).as_kwargs())
        return
    text = fetch_policy_file(client, event.get("files") or [])
    if not isinstance(text, str):
        client.chat_postMessage(channel=channel, **render(text).as_kwargs())
        return
    actor = slack_actor(kit.editors, event["user"], event["user"])
    deliver(client, core.questionnaire, core.standards.import_file(actor, text, {}), channel)
