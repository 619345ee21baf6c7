"""The core as adapters see it: one object holding every service, built once (the commands use it)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.exceptions.service import Exceptions
from bot.feeds.decisions import FeedDecisions
from bot.feeds.subject import FeedSubject
from bot.feeds.watch import Feeds, FeedUrls
from bot.kernel.actor import Actor
from bot.kernel.clock import Clock
from bot.kernel.directory import Directory
from bot.kernel.lookup import resolve_client
from bot.kernel.views import Notice, Outcome
from bot.oob.reviews import Reviews
from bot.oob.subject import ReviewSubject
from bot.patchdata.pulls import RmmAccess
from bot.patchdata.recompute import recompute_deadlines
from bot.patchdata.service import DeviceData
from bot.publishing.publisher import Publisher
from bot.publishing.reading import Reader
from bot.questionnaire.engine import Questionnaire
from bot.reporting.audit import Audit
from bot.reporting.checkins import Checkins
from bot.reporting.policy_reviews import PolicyReviews
from bot.reporting.reports import Reports
from bot.reporting.sharing import ShareAccess, Sharing
from bot.scheduling.reminders import Reminders
from bot.scheduling.service import Schedule
from bot.standards.service import Standards
from storage.db import Database


class Core:
    """Everything the bot can do, with no knowledge of Slack or the terminal."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        directory: Directory,
        instance: str = "local",
        editors: tuple[str, ...] = (),
        rmm: RmmAccess | None = None,
        share: ShareAccess | None = None,
        feeds: FeedUrls | None = None,
    ) -> None:
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
        self.device_data = DeviceData(db, clock, rmm)
        self.sharing = Sharing(db, clock, self.reports, share or ShareAccess("", ""))
        self.feeds = Feeds(db, clock, self.reviews, feeds or FeedUrls("", ""))
        self.feed_decisions = FeedDecisions(db, clock, self.reviews)
        self.reminders.subjects.update(
            oob=ReviewSubject(db, self.reviews.view_in, self.reviews.record_post),
            feed=FeedSubject(db),
            exception=self.exceptions,
            report=self.reports,
            review=self.policy_reviews,
            overdue=self.device_data,
        )
        self.reminders.planners += [self.reports.plan, self.policy_reviews.plan, self.device_data.plan]
        self.reminders.chores.append(self.device_data.pulls.pull_due)  # daily, after planning: RMM pulls
        self.reminders.watches.append(self.feeds.watch)  # the threat feeds, each when it is due
        self.editors = editors  # named in refusals; the adapter decides who is one
        self._plan_listeners: list[Callable[[], None]] = []

    def on_plan_changed(self, listener: Callable[[], None]) -> None:
        """Call `listener` whenever the reminder plan changes (the scheduler re-arms itself)."""
        self._plan_listeners.append(listener)

    def plan_changed(self) -> None:
        for listener in self._plan_listeners:
            listener()

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
        recompute_deadlines(self.db, result.overview.client_id)
        self.plan_changed()
        return Outcome(published=result)

    def export(self, args: str) -> Any:
        """`export <client> [md|html|yaml]`: the SOP as a file, or the answers as a policy file."""
        words = args.split()
        given = len(words) > 1 and words[-1].casefold() in {"md", "html", "yaml", "yml"}
        kind = words[-1].casefold() if given else "md"
        name = " ".join(words[:-1]) if given else args
        return self.standards.export_yaml(name) if kind in {"yaml", "yml"} else self.reader.export(name, kind)

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
