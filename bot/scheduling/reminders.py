"""Window reminders: planned from the published policy into the Reminder table, posted once through it.

The table is the truth and the ledger: each (client, occurrence, kind) row is claimed with a conditional
UPDATE before posting, so any number of processes post it once. A failed post goes back to `planned`
with a backoff; a claim left by a crashed process is taken over after STALE_CLAIM, asking the poster
first whether the message went out (Slack message metadata), so a crash never doubles a post.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, update
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, col, func, select

from bot.kernel.clock import Clock
from bot.policy.model import policy_from
from bot.scheduling.ledger import DispatchReport, Poster, ReminderView, Subject
from bot.scheduling.planning import plan_client
from bot.sop.document import local_formatter
from storage.db import Database
from storage.device_data import last_import
from storage.models import Client, PolicyVersion, Reminder, WindowOutcome

log = logging.getLogger(__name__)
CLOSE_USEFUL_FOR = timedelta(hours=24)
CHASE_AFTER = timedelta(hours=12)  # an unanswered close check-in is chased once, by DM to the SOP owner
STALE_CLAIM = timedelta(minutes=5)
RECORD_TRIES = 6  # about 30 s of retries to record a post that went out
BATCH = 200


class Reminders:
    """Plans and dispatches window reminders."""

    def __init__(self, db: Database, clock: Clock, instance: str) -> None:
        self.db = db
        self.clock = clock
        self.instance = instance
        self.subjects: dict[str, Subject] = {}  # "window" rows are this class's own
        self.planners: list[Callable[[Session, Client, PolicyVersion, datetime], int]] = []  # reports, reviews
        self.chores: list[Callable[[], object]] = []  # daily work of the scheduler's process: RMM pulls
        self.watches: list[Callable[[], datetime | None]] = []  # the threat feeds: each says when it is next due

    # ----- planning -----------------------------------------------------------------------------

    def plan_all(self) -> int:
        """Extend every active client's plan to the horizon (run daily, and at start)."""
        now = self.clock.now()
        added = 0
        with self.db.read() as session:
            ids = session.exec(
                select(Client.id).where(
                    col(Client.published_version).is_not(None),
                    col(Client.archived_at).is_(None),
                    Client.kind == "client",
                )
            ).all()
        for client_id in ids:
            with self.db.write() as session:
                client = session.get(Client, client_id)
                version = session.exec(
                    select(PolicyVersion).where(
                        PolicyVersion.client_id == client_id, PolicyVersion.version == client.published_version
                    )
                ).first()
                if version is not None:
                    added += plan_client(session, client, version, now)
                    added += sum(planner(session, client, version, now) for planner in self.planners)
        return added

    def cancel_client(self, session: Session, client_id: int, reason: str) -> int:
        rows = session.exec(select(Reminder).where(Reminder.client_id == client_id, Reminder.status == "planned")).all()
        for row in rows:
            row.status, row.note = "cancelled", reason
            session.add(row)
        return len(rows)

    def next_due(self) -> datetime | None:
        """When dispatch should next run: the earliest planned reminder, retry or stale claim."""
        with self.db.read() as session:
            planned = session.exec(
                select(func.min(func.coalesce(Reminder.next_attempt_at, Reminder.due_at))).where(
                    Reminder.status == "planned"
                )
            ).one()
            claimed = session.exec(select(func.min(Reminder.claimed_at)).where(Reminder.status == "claimed")).one()
        candidates = [t for t in (planned, claimed + STALE_CLAIM if claimed else None) if t is not None]
        return min(candidates) if candidates else None

    # ----- dispatch -----------------------------------------------------------------------------

    def dispatch(self, poster: Poster) -> DispatchReport:
        """Post every reminder that is due and still useful; skip the rest with a log line."""
        report = DispatchReport()
        now = self.clock.now()
        with self.db.read() as session:
            due = session.exec(
                select(Reminder)
                .where(
                    or_(
                        and_(
                            Reminder.status == "planned",
                            Reminder.due_at <= now,
                            or_(col(Reminder.next_attempt_at).is_(None), col(Reminder.next_attempt_at) <= now),
                        ),
                        and_(
                            Reminder.status == "claimed",
                            # another process's claim once stale; ours at once: one dispatch runs at a time
                            # here, so a claim of ours is left from a run that failed (a database restart)
                            or_(col(Reminder.claimed_at) <= now - STALE_CLAIM, Reminder.claimed_by == self.instance),
                        ),
                    )
                )
                .order_by(col(Reminder.due_at))
                .limit(BATCH)
            ).all()
        latest = {}
        for row in due:  # of several leads due at once for one window (the bot was down), say only the last
            if row.kind not in {"close", "chase"} and row.subject == "window":
                latest[(row.client_id, row.occurrence)] = row.id
        for row in due:
            subject = self.subjects.get(row.subject)
            try:
                if subject is not None:
                    reason = self._archived(row) or subject.skip_reason(row, now)
                else:
                    reason = self._not_useful(row, now, latest) or self._paused(row, now) or self._answered(row)
            except Exception as err:  # one reminder that can't be judged must not stop the others
                log.exception("reminder %s (%s %s) could not be judged", row.id, row.occurrence, row.kind)
                self._retry(row.id, row.attempts + 1, now, str(err))
                report.failed += 1
                continue
            if reason is not None:
                self._finish(row.id, "skipped", note=reason)
                log.info("reminder %s (%s %s) skipped: %s", row.id, row.occurrence, row.kind, reason)
                report.skipped += 1
                continue
            stale_since = row.claimed_at if row.status == "claimed" else None
            if not self._claim(row, now):
                continue  # another process has it
            try:
                view = subject.reminder(row) if subject is not None else self.view(row.id)
            except Exception as err:
                log.exception("reminder %s (%s %s) could not be prepared", row.id, row.occurrence, row.kind)
                self._retry(row.id, row.attempts + 1, now, str(err))
                report.failed += 1
                continue
            if view is None:
                self._finish(row.id, "skipped", note="nowhere to post it")
                report.skipped += 1
                continue
            try:
                found = poster.find_posted(view, stale_since) if stale_since else None
                channel, ts = found or poster.post(view)
            except Exception as err:
                self._retry(row.id, row.attempts + 1, now, str(err))
                log.warning("reminder %s failed (attempt %s): %s", row.id, row.attempts + 1, err)
                report.failed += 1
                continue
            self._record_sent(row.id, channel, ts)
            if (posted := getattr(subject, "posted", None)) is not None:
                posted(row, channel, ts)  # a subject that keeps the message (a review's checklist)
            report.sent += 1
        return report

    def _record_sent(self, reminder_id: int, channel: str, ts: str) -> None:
        """The post went out: keep trying to record it while the database is away (a restart, a long lock), so
        it is not left claimed until STALE_CLAIM; past RECORD_TRIES the stale-claim takeover finds the post."""
        for attempt in range(RECORD_TRIES):
            try:
                self._finish(reminder_id, "sent", channel=channel, ts=ts)
                return
            except OperationalError as err:
                if attempt == RECORD_TRIES - 1:
                    raise
                log.warning("reminder %s was posted but not yet recorded, trying again: %s", reminder_id, err.orig)
                time.sleep(min(0.5 * 2**attempt, 8))

    def view(self, reminder_id: int) -> ReminderView | None:
        with self.db.read() as session:
            row = session.get(Reminder, reminder_id)
            client = session.get(Client, row.client_id) if row else None
            if row is None or client is None or not client.channel_id:
                return None
            version = session.exec(
                select(PolicyVersion).where(PolicyVersion.client_id == client.id, PolicyVersion.version == row.version)
            ).first()
            has_data = last_import(session, client.id)
        policy = policy_from(version.answers)
        group = next((g for g in policy.groups if g.name == row.group_name), None)
        local = local_formatter(policy.timezone)
        return ReminderView(
            reminder_id=row.id,
            kind=row.kind,
            device_data=has_data is not None,
            client_id=client.id,
            client_name=client.name,
            group=row.group_name,
            channel_id=client.channel_id,
            start=row.window_start,
            end=row.window_end,
            local_start=local(row.window_start),
            local_end=local(row.window_end, "%a %H:%M %Z"),
            reboot=group.reboot if group else "Not specified",
            deploy_by=policy.label("deployment.who"),
            notice=policy.label("deployment.notice_method"),
            checkin=row.kind == "close",
            owner_ids=tuple(policy.owner_ids),
        )

    def _answered(self, row: Reminder) -> str | None:
        """A chase is for a check-in nobody answered; one that was answered needs none."""
        if row.kind != "chase":
            return None
        with self.db.read() as session:
            found = session.exec(
                select(WindowOutcome.id).where(
                    WindowOutcome.client_id == row.client_id, WindowOutcome.occurrence == row.occurrence
                )
            ).first()
        return "the check-in was answered" if found is not None else None

    @staticmethod
    def _not_useful(row: Reminder, now: datetime, latest: dict[tuple[int, str], int]) -> str | None:
        if row.kind == "chase":
            return "the chase is over a day late" if now >= row.due_at + CLOSE_USEFUL_FOR else None
        if row.kind == "close":
            return "the check-in is over a day late" if now >= row.window_end + CLOSE_USEFUL_FOR else None
        if now >= row.window_end:
            return "the window has already ended"
        if latest.get((row.client_id, row.occurrence)) not in (None, row.id) and row.status == "planned":
            return "a later reminder for the same window is due now"
        return None

    def _archived(self, row: Reminder) -> str | None:
        with self.db.read() as session:
            client = session.get(Client, row.client_id)
        return "the client is archived" if client is None or client.archived_at is not None else None

    def _paused(self, row: Reminder, now: datetime) -> str | None:
        with self.db.read() as session:
            client = session.get(Client, row.client_id)
        if client is None or client.archived_at is not None:
            return "the client is archived"
        if client.paused_until is not None and client.paused_until > now:
            return "reminders are paused"
        return None

    def _claim(self, row: Reminder, now: datetime) -> bool:
        """Take the row for this process; exactly one process wins, on SQLite and PostgreSQL alike."""
        with self.db.write() as session:
            condition = (
                (Reminder.status == "planned")
                if row.status == "planned"
                else and_(Reminder.status == "claimed", Reminder.claimed_at == row.claimed_at)
            )
            result = session.exec(  # type: ignore[call-overload]
                update(Reminder)
                .where(Reminder.id == row.id, condition)
                .values(status="claimed", claimed_by=self.instance, claimed_at=now)
            )
            return result.rowcount == 1

    def hand_back(self) -> int:
        """At a stop: this process's claims become stale at once, so the next process (after asking Slack
        whether each post went out) takes them over now instead of after STALE_CLAIM."""
        with self.db.write() as session:
            rows = session.exec(
                select(Reminder).where(Reminder.status == "claimed", Reminder.claimed_by == self.instance)
            ).all()
            for row in rows:
                assert row.claimed_at is not None
                row.claimed_at -= STALE_CLAIM
                session.add(row)
            return len(rows)

    def _retry(self, reminder_id: int, attempts: int, now: datetime, error: str) -> None:
        backoff = timedelta(seconds=min(30 * 2 ** (attempts - 1), 900))
        with self.db.write() as session:
            session.exec(
                update(Reminder)
                .where(Reminder.id == reminder_id)
                .values(  # type: ignore[call-overload]
                    status="planned", attempts=attempts, next_attempt_at=now + backoff, note=error[:300]
                )
            )

    def _finish(
        self, reminder_id: int, status: str, note: str | None = None, channel: str | None = None, ts: str | None = None
    ) -> None:
        with self.db.write() as session:
            values = {"status": status, "note": note}
            if status == "sent":
                values.update(sent_at=self.clock.now(), channel_id=channel, message_ts=ts)
            session.exec(update(Reminder).where(Reminder.id == reminder_id).values(**values))  # type: ignore[call-overload]
