"""Policy reviews on the cadence the policy chose: reminded in the channel and to the owner, and recorded."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, func, select

from bot.kernel.actor import Actor
from bot.kernel.clock import Clock
from bot.kernel.versions import latest_version
from bot.kernel.views import Notice, TableView
from bot.policy.model import Policy
from bot.scheduling.planning import plan_once
from bot.sop.document import local_formatter, next_review
from storage.db import Database
from storage.models import Client, PolicyReview, PolicyVersion, Reminder


@dataclass(frozen=True)
class ReviewDue:
    """A review reminder: in the client's channel, or (review-dm) to the SOP owner."""

    reminder_id: int
    client_id: int
    client_name: str
    channel_id: str | None
    dm_user: str | None
    due_local: str
    last_local: str
    cadence: str


class PolicyReviews:
    """Plans review reminders and records reviews."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    def last_reviewed(self, session: Session, client_id: int) -> datetime | None:
        """The later of the last publish and the last recorded review."""
        published = session.exec(
            select(func.max(PolicyVersion.published_at)).where(PolicyVersion.client_id == client_id)
        ).one()
        reviewed = session.exec(
            select(func.max(PolicyReview.reviewed_at)).where(PolicyReview.client_id == client_id)
        ).one()
        found = [t for t in (published, reviewed) if t is not None]
        return max(found) if found else None

    def plan(self, session: Session, client: Client, version: PolicyVersion, now: datetime) -> int:
        last = self.last_reviewed(session, client.id)
        if last is None:
            return 0
        due = next_review(Policy(version.answers), last)
        occurrence = f"review:{due:%Y-%m-%dT%H:%M}"
        return sum(
            plan_once(session, client, version, "review", occurrence, kind, due, (last, due), "policy review")
            for kind in ("review", "review-dm")
        )

    def skip_reason(self, row: Reminder, now: datetime) -> str | None:
        with self.db.read() as session:
            last = self.last_reviewed(session, row.client_id)
        return "the policy was reviewed since" if last is not None and last > row.window_start else None

    def reminder(self, row: Reminder) -> ReviewDue | None:
        with self.db.read() as session:
            client = session.get(Client, row.client_id)
            version = latest_version(session, row.client_id) if client else None
        if client is None or version is None:
            return None
        policy = Policy(version.answers)
        dm = row.kind == "review-dm"
        owner = policy.owner_ids[0] if policy.owner_ids else None
        if (dm and owner is None) or (not dm and not client.channel_id):
            return None
        local = local_formatter(policy.timezone)
        return ReviewDue(
            row.id,
            client.id,
            client.name,
            None if dm else client.channel_id,
            owner if dm else None,
            local(row.window_end, "%d %B %Y"),
            local(row.window_start, "%d %B %Y"),
            policy.label("audit.review_cadence"),
        )

    def record(self, actor: Actor, client_id: int, outcome: str) -> Notice:
        """Record that the policy was reviewed, by whom, and what came of it."""
        now = self.clock.now()
        with self.db.write() as session:
            client = session.get(Client, client_id)
            version = latest_version(session, client_id) if client else None
            if client is None or version is None:
                return Notice("That policy is no longer published.", "error")
            session.add(
                PolicyReview(
                    client_id=client_id,
                    version=version.version,
                    reviewed_by=actor.id,
                    reviewed_by_name=actor.name,
                    reviewed_at=now,
                    outcome=outcome,
                )
            )
            next_due = next_review(Policy(version.answers), now)
            local = local_formatter(Policy(version.answers).timezone)
            return Notice(
                f"Recorded: {client.name}'s policy (v{version.version}) reviewed by {actor.name}, {outcome}. "
                f"Next review due {local(next_due, '%d %B %Y')}.",
                "success",
            )

    def history(self, session: Session, client_id: int) -> TableView:
        rows = session.exec(
            select(PolicyReview).where(PolicyReview.client_id == client_id).order_by(col(PolicyReview.reviewed_at))
        ).all()
        return TableView(
            "Policy reviews",
            ("Reviewed", "By", "Version", "Outcome"),
            tuple((f"{r.reviewed_at:%Y-%m-%d}", r.reviewed_by_name, f"v{r.version}", r.outcome) for r in rows),
        )
