"""A person's answer to what a feed asked: open the review for these clients, or not affected; and the
Patch Tuesday digest's "Open out-of-band review". Each is recorded once (a second click changes nothing)."""

from __future__ import annotations

from sqlmodel import col, select

from bot.feeds.kev_actions import open_review, plan_opened
from bot.feeds.subject import UNDECIDED
from bot.kernel.actor import Actor
from bot.kernel.clock import Clock
from bot.oob.reviews import Reviews
from storage.db import Database
from storage.feeds import FeedMatch, KevEntry, MsrcMonth
from storage.models import Client

MAX_IN_TITLE = 3


class FeedDecisions:
    def __init__(self, db: Database, clock: Clock, reviews: Reviews) -> None:
        self.db = db
        self.clock = clock
        self.reviews = reviews

    def decide(self, actor: Actor, source: str, client_ids: list[int], open_it: bool) -> tuple[str, bool]:
        """(what happened in words, whether anything changed) for a KEV proposal or question."""
        now = self.clock.now()
        done: list[str] = []
        with self.db.write() as session:
            entry = session.get(KevEntry, source.removeprefix("kev:"))
            matches = session.exec(
                select(FeedMatch).where(
                    FeedMatch.source == source,
                    col(FeedMatch.client_id).in_(client_ids),
                    col(FeedMatch.status).in_(UNDECIDED),
                )
            ).all()
            if entry is None or not matches:
                return "Someone already answered this; nothing changed.", False
            for match in matches:
                client = session.get(Client, match.client_id)
                if client is None:
                    continue
                review = open_review(session, self.reviews, client, entry, match.detail, now) if open_it else None
                match.status = "opened" if review is not None else "declined"
                match.review_id, match.decided_by = review.id if review else None, actor.id
                session.add(match)
                done.append(client.name)
        if not done:
            return "Someone already answered this; nothing changed.", False
        if open_it:
            return f"Out-of-band review of {source.removeprefix('kev:')} opened for {', '.join(done)}.", True
        return f"Marked not affected by {source.removeprefix('kev:')}: {', '.join(done)}.", True

    def open_from_digest(self, actor: Actor, source: str, client_id: int) -> tuple[str, bool]:
        """The digest's button: one Emergency review of the month's exploited CVEs for the client."""
        now = self.clock.now()
        with self.db.write() as session:
            month = session.get(MsrcMonth, source.removeprefix("msrc:"))
            client = session.get(Client, client_id)
            if month is None or client is None:
                return "That release or client is gone; nothing opened.", False
            taken = session.exec(
                select(FeedMatch).where(FeedMatch.source == source, FeedMatch.client_id == client_id)
            ).first()
            if taken is not None:
                return f"The review of {month.month_id}'s exploited CVEs is already open for {client.name}.", False
            cves = [v["cve"] for v in month.vulnerabilities if v["exploited"]]
            more = f" and {len(cves) - MAX_IN_TITLE} more" if len(cves) > MAX_IN_TITLE else ""
            title = f"Patch Tuesday {month.month_id}: exploited {', '.join(cves[:MAX_IN_TITLE])}{more}"
            facts = f"{month.title}, exploited: {', '.join(cves)}"[:2000]
            review, created = self.reviews.open_in(
                session, client, title, "emergency", actor, now, None, (source, facts)
            )
            if review is None:
                return f"{client.name} has no published SOP; nothing opened.", False
            session.add(
                FeedMatch(
                    source=source,
                    client_id=client_id,
                    how="digest",
                    status="opened",
                    review_id=review.id,
                    at=now,
                    decided_by=actor.id,
                )
            )
            if created:
                plan_opened(session, review, now)
        return f"Opened the out-of-band review of {month.month_id}'s exploited CVEs for {client.name}.", True
