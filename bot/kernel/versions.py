"""Published versions as stored: the newest of a client's."""

from __future__ import annotations

from sqlmodel import Session, col, select

from storage.models import PolicyVersion


def latest_version(session: Session, client_id: int | None) -> PolicyVersion | None:
    """The client's newest published version."""
    return session.exec(
        select(PolicyVersion).where(PolicyVersion.client_id == client_id).order_by(col(PolicyVersion.version).desc())
    ).first()
