"""The core as adapters see it: one object holding the services, and the command dispatcher."""

from __future__ import annotations

from typing import Any

from bot.clock import Clock
from bot.commands import Command, help_text, parse_command
from bot.directory import Directory
from bot.questionnaire import Actor, Questionnaire
from bot.views import Notice, Outcome
from storage.db import Database


class Core:
    """Everything the bot can do, with no knowledge of Slack or the terminal."""

    def __init__(self, db: Database, clock: Clock, directory: Directory) -> None:
        self.db = db
        self.clock = clock
        self.questionnaire = Questionnaire(db, clock, directory)

    def command(self, actor: Actor, command: Command | str, context: dict[str, Any] | None = None) -> Outcome:
        """Run one `/patchpolicy` command."""
        cmd = parse_command(command) if isinstance(command, str) else command
        if cmd.name == "new":
            return self.questionnaire.start(actor, cmd.args, context or {})
        if cmd.name == "resume":
            return self.questionnaire.resume(actor, cmd.args or None)
        return Outcome([Notice(help_text(cmd.unknown))])
