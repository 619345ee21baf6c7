"""Reviews as a subject of the reminder ledger: whether a due reminder is still useful, and what it says."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlmodel import Session

from bot.kernel.versions import latest_version
from bot.oob.views import ReviewOpened, ReviewReminderView, ReviewView
from bot.policy.model import Policy
from storage.db import Database
from storage.models import OobReview, Reminder


class ReviewSubject:
    """The "oob" subject: asked by the reminder dispatcher about each due row."""

    def __init__(
        self,
        db: Database,
        view: Callable[[Session, OobReview], ReviewView],
        record_post: Callable[[int, str, str], None],
    ) -> None:
        self.db = db
        self._view = view
        self._record_post = record_post

    def skip_reason(self, row: Reminder, now: datetime) -> str | None:
        """Why a due reminder about a review should not be said, or None."""
        with self.db.read() as session:
            review = session.get(OobReview, row.subject_id)
        if review is None:
            return "the review is gone"
        stage = row.kind.split(":")[0]
        if stage == "mitigation":
            return None if review.status == "mitigated" else "the mitigation is no longer in place"
        if review.closed_at is not None:
            return "the review is closed"
        if row.kind == "opened" and review.message_ts is not None:
            return "its checklist is already posted"
        if stage == "triage" and review.triaged_at is not None:
            return "triage is done"
        return None

    def reminder(self, row: Reminder) -> ReviewReminderView | ReviewOpened | None:
        with self.db.read() as session:
            review = session.get(OobReview, row.subject_id)
            if review is None:
                return None
            view = self._view(session, review)
        if row.kind == "opened":  # a review a feed opened: its checklist
            return ReviewOpened(row.id, view) if view.channel_id else None
        with self.db.read() as session:
            version = latest_version(session, review.client_id)
        owners = tuple(Policy(version.answers).owner_ids) if version else ()
        dm = row.kind.endswith(":escalate-dm")
        if dm and not owners:
            return None
        if not dm and not view.channel_id:
            return None
        return ReviewReminderView(
            row.id, row.kind, None if dm else view.channel_id, owners[0] if dm else None, owners, view
        )

    def posted(self, row: Reminder, channel: str, ts: str) -> None:
        """The checklist of a review a feed opened went out: its steps update that message from now on."""
        if row.kind == "opened" and row.subject_id is not None:
            self._record_post(row.subject_id, channel, ts)
