"""The core as adapters see it: one object holding the services, and the command dispatcher."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.checkins import Checkins
from bot.clock import Clock
from bot.commands import EDITOR_COMMANDS, Command, help_text, parse_command
from bot.directory import Directory
from bot.lookup import find_client
from bot.publishing import Publisher
from bot.questionnaire import Actor, Questionnaire
from bot.reading import Reader
from bot.reminders import Reminders
from bot.schedule import Schedule
from bot.views import Notice, Outcome
from storage.db import Database


class Core:
    """Everything the bot can do, with no knowledge of Slack or the terminal."""

    def __init__(self, db: Database, clock: Clock, directory: Directory, instance: str = "local") -> None:
        self.db = db
        self.clock = clock
        self.questionnaire = Questionnaire(db, clock, directory)
        self.publisher = Publisher(db, clock, self.questionnaire)
        self.reader = Reader(db, clock, self.publisher)
        self.reminders = Reminders(db, clock, instance)
        self.schedule = Schedule(db, clock, self.reminders)
        self.checkins = Checkins(db, clock, self.publisher)
        self.on_plan_changed: Callable[[], None] = lambda: None  # the scheduler re-arms itself here
        self.editors: tuple[str, ...] = ()  # named in refusals; the adapter decides who is one

    def command(
        self, actor: Actor, command: Command | str, context: dict[str, Any] | None = None, format_name: str = "mrkdwn"
    ) -> Outcome:
        """Run one `/patchpolicy` command."""
        cmd = parse_command(command) if isinstance(command, str) else command
        if cmd.name in EDITOR_COMMANDS and not actor.editor:
            return Outcome([self.refusal(cmd.name)])
        if cmd.name == "new":
            return self.questionnaire.start(actor, cmd.args, context or {})
        if cmd.name == "resume":
            return self.questionnaire.resume(actor, cmd.args or None)
        if cmd.name == "publish":
            return self.publish(actor, client_name=cmd.args)
        if cmd.name == "edit":
            return self.edit(actor, cmd.args, context or {})
        if cmd.name == "show":
            return Outcome([self.reader.show(cmd.args, format_name)])
        if cmd.name == "list":
            return Outcome([self.reader.clients()])
        if cmd.name == "check":
            return Outcome([self.reader.check(cmd.args)])
        if cmd.name == "history":
            return Outcome([self.reader.history(cmd.args)])
        if cmd.name == "diff":
            return Outcome([self.reader.diff(cmd.args)])
        if cmd.name == "windows":
            return Outcome([self.schedule.windows(cmd.args)])
        if cmd.name in {"pause", "unpause", "archive"}:
            result = getattr(self.schedule, cmd.name)(cmd.args)
            self.on_plan_changed()
            return Outcome([result])
        if cmd.name == "export":
            words = cmd.args.split()
            kind = words[-1].casefold() if len(words) > 1 and words[-1].casefold() in {"md", "html"} else "md"
            name = " ".join(words[:-1]) if len(words) > 1 and words[-1].casefold() in {"md", "html"} else cmd.args
            return Outcome([self.reader.export(name, kind)])
        return Outcome([Notice(help_text(cmd.unknown))])

    def refusal(self, what: str) -> Notice:
        ask = "Ask one of them or a workspace admin:" if self.editors else "Ask a workspace admin."
        return Notice(f"Only PatchPolicy editors can {what} policies. {ask}", "error", mentions=self.editors)

    def publish(self, actor: Actor, client_name: str | None = None, draft_id: int | None = None) -> Outcome:
        """Store the next version; the adapter posts it (Outcome.published) and reports back."""
        if not actor.editor:
            return Outcome([self.refusal("publish")])
        result = self.publisher.publish(actor, client_name=client_name, draft_id=draft_id)
        if isinstance(result, Notice):
            return Outcome([result])
        self.on_plan_changed()
        return Outcome(published=result)

    def edit(self, actor: Actor, client_name: str, context: dict[str, Any]) -> Outcome:
        with self.db.read() as session:
            match = find_client(session, client_name)
            client_id = match.client.id if match.client else None
        if client_id is None:
            if not client_name.strip():
                return Outcome([Notice("Which client? `/patchpolicy edit <client>`.", "error")])
            hint = f" Did you mean {', '.join(match.suggestions)}?" if match.suggestions else ""
            return Outcome([Notice(f"I don't know a client called '{client_name.strip()}'.{hint}", "error")])
        version = self.reader.current_answers(client_id)
        if version is None:
            return Outcome([Notice(f"{match.client.name} has no published SOP to edit; use `/patchpolicy resume`.")])
        return self.questionnaire.start_from(actor, client_id, version, context)
