"""The core as adapters see it: one object holding the services, and the command dispatcher."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.commands import Command, help_text, needs_editor, parse_command
from bot.exceptions.service import Exceptions
from bot.kernel.actor import Actor
from bot.kernel.clock import Clock
from bot.kernel.directory import Directory
from bot.kernel.lookup import resolve_client
from bot.kernel.views import Notice, Outcome
from bot.oob.reviews import Reviews
from bot.oob.subject import ReviewSubject
from bot.publishing.publisher import Publisher
from bot.publishing.reading import Reader
from bot.questionnaire.engine import Questionnaire
from bot.reporting.audit import Audit
from bot.reporting.checkins import Checkins
from bot.reporting.policy_reviews import PolicyReviews
from bot.reporting.reports import Reports
from bot.scheduling.reminders import Reminders
from bot.scheduling.service import Schedule
from bot.standards.service import Standards
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
        self.standards = Standards(db, self.questionnaire, directory)
        self.reviews = Reviews(db, clock, self.publisher)
        self.exceptions = Exceptions(db, clock, self.reviews)
        self.reports = Reports(db, clock)
        self.policy_reviews = PolicyReviews(db, clock)
        self.audit = Audit(db, clock, self.reports, self.policy_reviews)
        self.reminders.subjects.update(
            oob=ReviewSubject(db, self.reviews.view_in),
            exception=self.exceptions,
            report=self.reports,
            review=self.policy_reviews,
        )
        self.reminders.planners += [self.reports.plan, self.policy_reviews.plan]
        self.on_plan_changed: Callable[[], None] = lambda: None  # the scheduler re-arms itself here
        self.editors: tuple[str, ...] = ()  # named in refusals; the adapter decides who is one

    def command(
        self, actor: Actor, command: Command | str, context: dict[str, Any] | None = None, format_name: str = "mrkdwn"
    ) -> Outcome:
        """Run one `/patchpolicy` command."""
        cmd = parse_command(command) if isinstance(command, str) else command
        if needs_editor(cmd) and not actor.editor:
            return Outcome([self.refusal(cmd.name)])
        if cmd.name == "new":
            client_name, source = split_from(cmd.args)
            if source:
                return self.standards.new_from(actor, client_name, source, context or {})
            return self.questionnaire.start(actor, cmd.args, context or {})
        if cmd.name == "template":
            return self.standards.template(actor, cmd.args, context or {})
        if cmd.name == "sync":
            return self.standards.sync(actor, cmd.args, context or {})
        if cmd.name == "import":
            return Outcome(
                [
                    Notice(
                        "Share the policy file (.yaml) with me in a DM and I'll load it into a draft; "
                        "on the command line, `patchpolicy import <file>` does the same."
                    )
                ]
            )
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
        if cmd.name == "oob":
            if cmd.args.casefold() == "list":
                return Outcome([self.reviews.open_list()])
            views, notices = self.reviews.open(actor, cmd.args)
            if views:
                self.on_plan_changed()
            return Outcome(list(notices), attachments=list(views))
        if cmd.name == "report":
            report = self.reports.for_command(cmd.args)
            if isinstance(report, str):
                return Outcome([Notice(report, "error")])
            return Outcome(
                [Notice(report.mrkdwn if format_name == "mrkdwn" else report.markdown)], attachments=[report]
            )
        if cmd.name == "audit":
            return Outcome([self.audit.pack(cmd.args)])
        if cmd.name == "exceptions":
            return Outcome([self.exceptions.listing(cmd.args)])
        if cmd.name == "exception":
            found = self.exceptions.form(cmd.args)
            if isinstance(found, Notice):
                return Outcome([found])
            return Outcome(attachments=[found])
        if cmd.name == "export":
            words = cmd.args.split()
            given = len(words) > 1 and words[-1].casefold() in {"md", "html", "yaml", "yml"}
            kind = words[-1].casefold() if given else "md"
            name = " ".join(words[:-1]) if given else cmd.args
            if kind in {"yaml", "yml"}:
                return Outcome([self.standards.export_yaml(name)])
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
        if result.overview.is_template:  # nothing to post: say so, and what it means for the clients on it
            template = result.overview.client_name.removesuffix(" (MSP template)")
            lines = self.standards.dependents(result.overview.client_id)
            text = f"Published template {template} v{result.overview.version}."
            built_on = "\n".join(f"• {line}" for line in lines)
            text += f"\n{built_on}" if lines else " No client policy is built on it yet."
            return Outcome([Notice(text, "success")])
        self.on_plan_changed()
        return Outcome(published=result)

    def edit(self, actor: Actor, client_name: str, context: dict[str, Any]) -> Outcome:
        with self.db.read() as session:
            match = resolve_client(session, client_name)
            client_id = match.client.id if match.client else None
        if client_id is None:
            if not client_name.strip():
                return Outcome([Notice("Which client? `/patchpolicy edit <client>`.", "error")])
            return Outcome([Notice(match.problem or "", "error")])
        return self.edit_client(actor, client_id, context)

    def edit_client(self, actor: Actor, client_id: int, context: dict[str, Any]) -> Outcome:
        """A new draft from the client's published answers (edit, or a policy review's Start review)."""
        version = self.reader.current_answers(client_id)
        if version is None:
            return Outcome([Notice("That client has no published SOP to edit; use `/patchpolicy resume`.")])
        return self.questionnaire.start_from(actor, client_id, version, context)


def split_from(args: str) -> tuple[str, str | None]:
    """'Acme from House Standard' -> ('Acme', 'House Standard'); no ' from ' -> (args, None)."""
    lowered = args.casefold()
    at = lowered.rfind(" from ")
    if at <= 0:
        return args, None
    return args[:at].strip(), args[at + len(" from ") :].strip() or None
