"""Slack listeners: thin adapters that parse, call the core and build blocks."""

from __future__ import annotations

from slack_bolt import App

from bot.core import Core
from handlers import actions, commands, dedupe, home, messages, oob, policy_review, reminders, sop_actions
from handlers.after_ack import AfterAck
from handlers.editors import Editors


def register_all(app: App, core: Core, editors: Editors, later: AfterAck) -> None:
    """Register every listener of the bot on `app`; `later` runs their work after the ack."""
    dedupe.register(app, core.db, core.clock)
    commands.register(app, core, editors, later)
    actions.register(app, core, later)
    messages.register(app, core, editors, later)
    sop_actions.register(app, core, editors, later)
    home.register(app, core, editors, later)
    reminders.register(app, core, later)
    oob.register(app, core, editors, later)
    policy_review.register(app, core, editors, later)
