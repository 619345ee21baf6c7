"""Slack listeners: thin adapters that parse, call the core and build blocks."""

from __future__ import annotations

from slack_bolt import App

from bot.core import Core
from handlers import actions, commands, feeds, home, messages, oob, policy_review, reminders, sop_actions
from handlers.kit import SlackKit


def register_all(app: App, core: Core, kit: SlackKit) -> None:
    """Register every listener of the bot on `app`."""
    for module in (commands, actions, messages, sop_actions, home, reminders, oob, policy_review, feeds):
        module.register(app, core, kit)
