"""Which published versions were in force over a period: a report covers only time under a policy."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from storage.models import PolicyVersion


@dataclass(frozen=True)
class Span:
    """One version and the part of the period it was in force: [start, end)."""

    version: PolicyVersion
    start: datetime
    end: datetime


def spans(session: Session, client_id: int, start: datetime, end: datetime) -> list[Span]:
    """The versions in force during [start, end), each with its stretch of it; [] before the first publish."""
    versions = session.exec(
        select(PolicyVersion)
        .where(PolicyVersion.client_id == client_id, PolicyVersion.published_at < end)
        .order_by(col(PolicyVersion.version))
    ).all()
    found: list[Span] = []
    for i, version in enumerate(versions):
        until = versions[i + 1].published_at if i + 1 < len(versions) else end
        begin, stop = max(start, version.published_at), min(end, until)
        if begin < stop:
            found.append(Span(version, begin, stop))
    return found


def first_published(session: Session, client_id: int) -> datetime | None:
    return session.exec(
        select(PolicyVersion.published_at)
        .where(PolicyVersion.client_id == client_id)
        .order_by(col(PolicyVersion.version))
        .limit(1)
    ).first()
