"""Typed answers: messages in the bot's DM."""

from __future__ import annotations

from typing import Any

from slack_bolt import App
from slack_sdk import WebClient

from bot.core import Core
from bot.escaping import unescape_slack
from bot.questionnaire import Actor
from handlers.deliver import deliver


def register(app: App, core: Core) -> None:
    @app.event("message")
    def direct_message(event: dict[str, Any], client: WebClient) -> None:
        if event.get("channel_type") != "im" or event.get("subtype") or event.get("bot_id") or not event.get("user"):
            return
        actor = Actor(event["user"], event["user"])
        outcome = core.questionnaire.text(actor, unescape_slack(event.get("text") or ""))
        deliver(client, core.questionnaire, outcome, event["channel"])
