"""The exception register the SOP shows: every exception that has not expired yet."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from bot.kernel.timezones import last_local_day
from storage.models import PatchException


def exception_register(session: Session, client_id: int, timezone: str, now: datetime) -> tuple[tuple[str, ...], ...]:
    """(what, why, controls, approved by, last day) of each live exception, soonest to expire first."""
    rows = session.exec(
        select(PatchException)
        .where(PatchException.client_id == client_id, PatchException.expires_at > now)
        .order_by(col(PatchException.expires_at))
    ).all()
    return tuple(
        (
            r.what,
            r.reason,
            r.controls,
            r.approver + (f" + {r.second_approver}" if r.second_approver else ""),
            last_local_day(r.expires_at, timezone),
        )
        for r in rows
    )
