"""Out-of-band patch reviews: opened per client with deadlines from its policy, moved step by step to closed.

Deadlines: triage is due `oob.triage_time` after the review opens. Deployment is due at the policy's
deadline for the severity tier; for Emergency, triage + `oob.deploy_time`, and never later than the
Emergency tier. Reminders (in the shared Reminder ledger, subject "oob") go out before each deadline, at
it, and ESCALATE_AFTER past it as an escalation in the channel and by DM to the SOP owner, until the stage
is done or the review is closed.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bot.kernel.actor import Actor
from bot.kernel.clock import Clock
from bot.kernel.durations import describe_duration, parse_duration
from bot.kernel.lookup import resolve_client
from bot.kernel.timezones import end_of_local_day
from bot.kernel.versions import latest_version
from bot.kernel.views import Notice, TableView
from bot.oob.listing import open_reviews
from bot.oob.rules import (
    CLOSING,
    LABELS,
    NEXT,
    clean_title,
    deadlines,
    ledger_row,
    parse_open,
    reminder_plan,
)
from bot.oob.views import Moved, ReviewStep, ReviewView
from bot.policy.model import TIERS, Policy
from bot.publishing.publisher import Publisher
from bot.sop.document import local_formatter
from storage.db import Database
from storage.models import Client, OobEvent, OobReview, Reminder


class Reviews:
    """Opens, moves and lists out-of-band reviews, and plans their reminders."""

    def __init__(self, db: Database, clock: Clock, publisher: Publisher) -> None:
        self.db = db
        self.clock = clock
        self.publisher = publisher

    def open(self, actor: Actor, text: str, client_id: int | None = None) -> tuple[list[ReviewView], list[Notice]]:
        """`oob <client|all> <title> [severity]`: one review per client (an open one of that title is reused).
        With `client_id` (a form's choice), `text` is only `<title> [severity]`."""
        rest, severity, given = parse_open(text)
        now = self.clock.now()
        with self.db.write() as session:
            if client_id is not None:
                chosen = next((c for c in self.reviewable_in(session) if c.id == client_id), None)
                if chosen is None:
                    return [], [
                        Notice("That client has no published SOP (or was archived); no review opened.", "error")
                    ]
                title, clients = rest, [chosen]
            elif rest.casefold().startswith("all ") or rest.casefold() == "all":
                title = rest[3:]
                clients = self.reviewable_in(session)
                if not clients:
                    return [], [Notice("No client has a published SOP yet, so there is nothing to review.", "error")]
            else:
                match = resolve_client(session, rest, kind="client")
                if match.client is None:
                    return [], [Notice(match.problem or "", "error")]
                title, clients = match.rest, [match.client]
            title = clean_title(title)
            if not title:
                return [], [Notice("Name the patch or CVE: `/patchpolicy oob acme CVE-2026-1234 critical`.", "error")]
            views: list[ReviewView] = []
            notices: list[Notice] = []
            reused: list[str] = []
            for client in clients:
                review, created = self.open_in(session, client, title, severity, actor, now)
                if review is None:
                    notices.append(Notice(f"{client.name} has no published SOP; no review opened there.", "warning"))
                    continue
                if not created:
                    reused.append(client.name)
                views.append(self.view_in(session, review))
        opened = [v.client_name for v in views if v.client_name not in reused]
        label = dict((k, n) for k, n, _ in TIERS)[severity]
        if opened:
            default = "" if given else " (add a severity word to choose another)"
            notices.insert(
                0,
                Notice(
                    f"Opened the out-of-band review '{title}' ({label}{default}) for {', '.join(opened)}.",
                    "success",
                ),
            )
        if reused:
            notices.append(Notice(f"'{title}' is already under review for {', '.join(reused)}; nothing new opened."))
        return views, notices

    def reviewable_clients(self) -> list[tuple[int, str]]:
        """(id, name) of every client a review can be opened for: published, not archived."""
        with self.db.read() as session:
            return [(c.id, c.name) for c in self.reviewable_in(session)]

    @staticmethod
    def reviewable_in(session: Session) -> list[Client]:
        return list(
            session.exec(
                select(Client)
                .where(
                    Client.kind == "client",
                    col(Client.published_version).is_not(None),
                    col(Client.archived_at).is_(None),
                )
                .order_by(Client.key)
            ).all()
        )

    def open_in(
        self,
        session: Session,
        client: Client,
        title: str,
        severity: str,
        actor: Actor,
        now: datetime,
        deploy_by: datetime | None = None,
        source: tuple[str, str] | None = None,
    ) -> tuple[OobReview | None, bool]:
        """One client's review (an open one of the title is reused); a feed's (source, facts) and its own due
        date (`deploy_by`, when earlier than the policy's) come with a review a feed opens."""
        key = title.casefold()
        existing = session.exec(
            select(OobReview).where(
                OobReview.client_id == client.id, OobReview.title_key == key, col(OobReview.closed_at).is_(None)
            )
        ).first()
        if existing is not None:
            return existing, False
        version = latest_version(session, client.id)
        if version is None:
            return None, False
        triage_due, deploy_due = deadlines(Policy(version.answers), severity, now)
        if deploy_by is not None and now < deploy_by < deploy_due:
            deploy_due, triage_due = deploy_by, min(triage_due, deploy_by)
        review = OobReview(
            client_id=client.id,
            version=version.version,
            title=title,
            title_key=key,
            severity=severity,
            opened_by=actor.id,
            opened_at=now,
            triage_due=triage_due,
            deploy_due=deploy_due,
            channel_id=client.channel_id,
            source=source[0] if source else None,
            facts=source[1] if source else "",
        )
        session.add(review)
        try:
            with session.begin_nested():
                session.flush()
        except IntegrityError:  # the same review opened at the same moment by a repeated command
            return session.exec(
                select(OobReview).where(
                    OobReview.client_id == client.id, OobReview.title_key == key, col(OobReview.closed_at).is_(None)
                )
            ).first(), False
        session.add(
            OobEvent(review_id=review.id, step=0, status="open", actor_id=actor.id, actor_name=actor.name, at=now)
        )
        for stage, due in (("triage", triage_due), ("deploy", deploy_due)):
            for kind, when in reminder_plan(review, stage, now, due):
                session.add(ledger_row(review, kind, when, now, due))
        session.flush()
        return review, True

    def record_post(self, review_id: int, channel: str, ts: str) -> None:
        """Remember the checklist message, so each step can update it."""
        with self.db.write() as session:
            review = session.get(OobReview, review_id)
            if review is not None and review.message_ts is None:
                review.channel_id, review.message_ts = channel, ts
                session.add(review)

    def move(
        self,
        actor: Actor,
        review_id: int,
        step: int,
        status: str,
        note: str = "",
        remove_by: datetime | None = None,
    ) -> Moved | Notice:
        """A status button: recorded once (a repeated or stale click changes nothing)."""
        if status not in LABELS or status == "open":
            return Notice("I don't know that status.", "error")
        with self.db.write() as session:
            return self.move_in(session, actor, review_id, step, status, note, remove_by)

    def mitigate(
        self, actor: Actor, review_id: int, step: int, what: str, remove_on: date | None
    ) -> Moved | Notice | dict[str, str]:
        """The Mitigated form: what is in place and the day it must be removed, bounded by the policy."""
        now = self.clock.now()
        errors = {} if what.strip() else {"what": "Say what the mitigation is."}
        with self.db.write() as session:
            review = session.get(OobReview, review_id)
            version = latest_version(session, review.client_id) if review else None
            if review is None or version is None:
                return Notice("That review no longer exists.", "error")
            policy = Policy(version.answers)
            longest = parse_duration(policy.value("oob.mitigation_max") or "30d")
            remove_by = end_of_local_day(remove_on, policy.timezone) if remove_on else None
            if remove_by is None:
                errors["remove_by"] = "Pick the day the mitigation must be removed or reviewed."
            elif remove_by <= now:
                errors["remove_by"] = "Pick a day in the future."
            elif remove_by - now > longest + timedelta(days=1):
                errors["remove_by"] = f"The policy allows a mitigation {describe_duration(longest)} at most."
            if errors:
                return errors
            return self.move_in(session, actor, review_id, step, "mitigated", what, remove_by)

    def move_in(
        self,
        session: Session,
        actor: Actor,
        review_id: int,
        step: int,
        status: str,
        note: str = "",
        remove_by: datetime | None = None,
    ) -> Moved | Notice:
        """`move` inside the caller's transaction (an exception closes its review in the same commit)."""
        now = self.clock.now()
        review = session.exec(select(OobReview).where(OobReview.id == review_id).with_for_update()).first()
        if review is None:
            return Notice("That review no longer exists.", "error")
        if review.step != step or status not in NEXT.get(review.status, ()):
            return Moved(self.view_in(session, review), False, actor.name)
        review.step += 1
        review.status = status
        if review.triaged_at is None:
            review.triaged_at = now
        if status in CLOSING:
            review.closed_at, review.closed_by = now, actor.id
        if status == "mitigated":
            review.mitigation, review.mitigation_remove_by = note.strip()[:2000], remove_by
        session.add(review)
        session.add(
            OobEvent(
                review_id=review.id,
                step=review.step,
                status=status,
                actor_id=actor.id,
                actor_name=actor.name,
                at=now,
                note=note.strip()[:2000],
            )
        )
        self._cancel_done(session, review)
        if status == "mitigated" and remove_by is not None:
            self._plan_mitigation(session, review, now, remove_by)
        session.flush()
        return Moved(self.view_in(session, review), True, actor.name)

    def _cancel_done(self, session: Session, review: OobReview) -> None:
        stages = {"triage"} if review.closed_at is None else {"triage", "deploy"}
        rows = session.exec(
            select(Reminder).where(
                Reminder.subject == "oob", Reminder.subject_id == review.id, Reminder.status == "planned"
            )
        ).all()
        for row in rows:
            if row.kind.split(":")[0] in stages:
                row.status, row.note = "cancelled", f"review {LABELS[review.status].lower()}"
                session.add(row)

    def _plan_mitigation(self, session: Session, review: OobReview, now: datetime, remove_by: datetime) -> None:
        plan = [("mitigation:before", remove_by - timedelta(days=1)), ("mitigation:due", remove_by)]
        for kind, when in plan:
            if when > now:
                session.add(ledger_row(review, kind, when, now, remove_by))

    def view(self, review_id: int) -> ReviewView | None:
        with self.db.read() as session:
            review = session.get(OobReview, review_id)
            return self.view_in(session, review) if review else None

    def view_in(self, session: Session, review: OobReview) -> ReviewView:
        client = session.get(Client, review.client_id)
        version = latest_version(session, client.id)
        policy = Policy(version.answers) if version else Policy({})
        local = local_formatter(policy.timezone)
        events = session.exec(
            select(OobEvent).where(OobEvent.review_id == review.id).order_by(col(OobEvent.step))
        ).all()
        steps = tuple(ReviewStep(e.status, e.actor_name, local(e.at), e.note) for e in events)
        procedure = self.publisher.document(session, client, version, "mrkdwn").section("oob").body if version else ""
        return ReviewView(
            review_id=review.id,
            step=review.step,
            client_id=client.id,
            client_name=client.name,
            channel_id=review.channel_id,
            message_ts=review.message_ts,
            title=review.title,
            severity=review.severity,
            status=review.status,
            triage_due=review.triage_due,
            triage_due_local=local(review.triage_due),
            deploy_due=review.deploy_due,
            deploy_due_local=local(review.deploy_due),
            triaged=review.triaged_at is not None,
            steps=steps,
            procedure=procedure,
            mitigation=review.mitigation,
            mitigation_remove_by_local=local(review.mitigation_remove_by, "%d %b %Y")
            if review.mitigation_remove_by
            else "",
            facts=review.facts,
        )

    def open_list(self) -> TableView | Notice:
        """`oob list`: open reviews across clients, overdue first (the listing lives in oob.listing)."""
        return open_reviews(self.db, self.clock.now())
