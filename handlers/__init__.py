"""Slack listeners: thin adapters that parse, call the core and build blocks."""

from __future__ import annotations

from slack_bolt import App

from bot.core import Core
from handlers import actions, commands, dedupe, home, messages, oob, policy_review, reminders, sop_actions
from handlers.editors import Editors


def register_all(app: App, core: Core, editors: Editors) -> None:
    """Register every listener of the bot on `app`."""
    dedupe.register(app, core.db, core.clock)
    commands.register(app, core, editors)
    actions.register(app, core)
    messages.register(app, core, editors)
    sop_actions.register(app, core, editors)
    home.register(app, core, editors)
    reminders.register(app, core)
    oob.register(app, core, editors)
    policy_review.register(app, core, editors)
