"""`oob list`: the open reviews across clients, overdue first."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import col, select

from bot.kernel.views import Notice, TableView
from bot.oob.rules import LABELS, words
from storage.db import Database
from storage.models import Client, OobReview


def open_reviews(db: Database, now: datetime) -> TableView | Notice:
    """`oob list`: open reviews across clients, overdue first, then by the next deadline."""
    with db.read() as session:
        rows = session.exec(
            select(OobReview, Client)
            .join(Client, col(Client.id) == col(OobReview.client_id))
            .where(col(OobReview.closed_at).is_(None))
        ).all()
    if not rows:
        return Notice("No out-of-band review is open.")
    table = []
    for review, client in rows:
        stage, due = ("triage", review.triage_due) if review.triaged_at is None else ("deploy", review.deploy_due)
        left = due - now
        when = f"overdue by {words(-left)}" if left < timedelta(0) else f"{words(left)} left"
        table.append(
            (due, client.name, review.title, LABELS[review.status], review.severity.title(), f"{stage}: {when}")
        )
    table.sort(key=lambda r: r[0])
    shown = tuple(r[1:] for r in table[:50])
    footer = f"Showing 50 of {len(table)} open reviews." if len(table) > 50 else None
    return TableView(
        "Open out-of-band reviews", ("Client", "Review", "Status", "Severity", "Next deadline"), shown, footer
    )
