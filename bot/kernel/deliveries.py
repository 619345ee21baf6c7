"""Claiming a Slack delivery once: retried events and repeated event ids are recognised by a unique key."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError

from bot.kernel.clock import Clock
from storage.db import Database
from storage.models import ProcessedRequest


def claim_delivery(db: Database, clock: Clock, key: str) -> bool:
    """True the first time `key` is seen, False for every repeat (across processes too)."""
    try:
        with db.write() as session:
            session.add(ProcessedRequest(key=key[:200], seen_at=clock.now()))
    except IntegrityError:
        return False
    return True
