"""The inbox table's operations: record a request, claim the next one (one person's in order), finish it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, delete, func, select, update
from sqlalchemy.dialects.postgresql import insert as postgres_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session

from storage.db import Database
from storage.models import InboxRequest

OPEN = ("pending", "running")
REQUEST = InboxRequest.__table__  # statements on the table (Core): the ORM's handling of each execution (its
# compile state, bulk bookkeeping) cost a worker more than running them; a claim 1.1 -> 0.7 ms of CPU
C = REQUEST.c


@dataclass(frozen=True)
class Claimed:
    """A request this process now works on."""

    id: int
    key: str
    user_key: str
    body: dict[str, Any]
    attempts: int


def record(db: Database, key: str, user_key: str, body: dict[str, Any], now: datetime) -> bool:
    """Store a request before its ack; False when the same key was recorded before (a repeat delivery)."""
    return record_many(db, [(key, user_key, body, now)]) == 1


_RECORD = {  # one statement per dialect, compiled once: a batch is sent as parameters, not new SQL
    dialect: insert(REQUEST).on_conflict_do_nothing(index_elements=["key"]).returning(C.id)
    for dialect, insert in (("sqlite", sqlite_insert), ("postgresql", postgres_insert))
}


def record_many(db: Database, rows: list[tuple[str, str, dict[str, Any], datetime]]) -> int:
    """Store requests (key, user_key, body, received_at) in their order, in one transaction; a key recorded
    before (a repeat delivery, or a spooled request another process moved first) is skipped. Returns how
    many were new."""
    if not rows:
        return 0
    values = [
        {"key": k, "user_key": u, "body": b, "received_at": at, "not_before": at, "state": "pending", "attempts": 0}
        for k, u, b, at in rows
    ]
    with db.write(ahead=True) as session:
        stored = session.execute(_RECORD["sqlite" if db.is_sqlite else "postgresql"], values).all()
    return len(stored)


def _claimable():  # type: ignore[no-untyped-def]
    """Each person's oldest open request (pending, or running), when it is ready to run at :now: pending and
    due, or running with its claim run out (its worker died). Only heads are looked at, so a backlog of one
    person's requests costs one index entry each, not a scan of everything before it."""
    heads = select(func.min(C.id)).where(C.state.in_(OPEN)).group_by(C.user_key)
    now = bindparam("now")
    ready = ((C.state == "pending") & (C.not_before <= now)) | ((C.state == "running") & (C.claimed_until < now))
    return select(C.id).where(C.id.in_(heads), ready).order_by(C.id)


# Built once, run with parameters: a worker claims after every request it finishes, and building the
# statements each time cost more than running them.
_ANY_CLAIMABLE = _claimable().limit(1)
_TAKE = (  # one statement: the claimable rows (locked, skipping rows other workers lock, on PostgreSQL) taken
    update(REQUEST)
    .where(C.id.in_(_claimable().limit(bindparam("limit")).with_for_update(skip_locked=True, of=REQUEST)))
    .values(state="running", claimed_by=bindparam("worker"), claimed_until=bindparam("until"), attempts=C.attempts + 1)
    .returning(C.id, C.key, C.user_key, C.body, C.attempts)
)
_END = (
    update(REQUEST)
    .where(C.id.in_(bindparam("ids", expanding=True)), C.state == "running")
    .values(state=bindparam("state"), finished_at=bindparam("now"), claimed_until=None, error=bindparam("error"))
)


def claim(
    db: Database, worker: str, now: datetime, lease: timedelta, limit: int = 1, finished: Sequence[int] = ()
) -> list[Claimed]:
    """Take up to `limit` of the oldest claimable requests, at most one per person (SKIP LOCKED on PostgreSQL;
    SQLite's write lock does the same). `finished`: requests whose work is over, marked done first in the same
    transaction (one write for both; a person's next request is then claimable)."""
    with db.write(ahead=True) as session:
        _end(session, finished, now)
        if limit <= 0:
            return []
        rows = session.execute(_TAKE, {"now": now, "limit": limit, "worker": worker, "until": now + lease}).all()
    return [Claimed(r.id, r.key, r.user_key, dict(r.body), r.attempts) for r in sorted(rows, key=lambda r: r.id)]


def has_claimable(db: Database, now: datetime) -> bool:
    with db.read() as session:
        return session.execute(_ANY_CLAIMABLE, {"now": now}).first() is not None


def finish(
    db: Database, request_ids: Sequence[int], now: datetime, state: str = "done", error: str | None = None
) -> None:
    """Mark requests done (unless their effect already did) or failed."""
    if not request_ids:
        return
    with db.write(ahead=True) as session:
        _end(session, request_ids, now, state, error)


def _end(
    session: Session, request_ids: Sequence[int], now: datetime, state: str = "done", error: str | None = None
) -> None:
    if request_ids:
        params = {"ids": list(request_ids), "state": state, "now": now, "error": (error or None) and error[:500]}
        session.execute(_END, params)


def retry(db: Database, request_id: int, when: datetime, error: str) -> None:
    """Put a request back, to run again at `when`."""
    with db.write(ahead=True) as session:
        session.execute(
            update(REQUEST)
            .where(C.id == request_id, C.state == "running")
            .values(state="pending", not_before=when, claimed_by=None, claimed_until=None, error=error[:500])
        )


def renew(db: Database, worker: str, ids: list[int], until: datetime) -> None:
    """Keep this worker's claims on requests still running (its heartbeat)."""
    with db.write(ahead=True) as session:
        session.execute(
            update(REQUEST)
            .where(C.id.in_(ids), C.claimed_by == worker, C.state == "running")
            .values(claimed_until=until)
        )


def release(db: Database, worker: str) -> int:
    """Hand back what this worker still holds (a stop): another process, or the next start, runs it."""
    with db.write(ahead=True) as session:
        result = session.execute(
            update(REQUEST)
            .where(C.claimed_by == worker, C.state == "running")
            .values(state="pending", claimed_by=None, claimed_until=None)
        )
        return int(result.rowcount or 0)


def claimers(db: Database) -> list[str]:
    """The workers holding running requests."""
    with db.read() as session:
        query = select(C.claimed_by).where(C.state == "running").distinct()
        return [worker for worker in session.execute(query).scalars() if worker]


def prune(db: Database, before: datetime) -> int:
    """Forget requests finished before `before`."""
    with db.write() as session:
        result = session.execute(delete(REQUEST).where(C.state.in_(("done", "failed")), C.finished_at < before))
        return int(result.rowcount or 0)


def counts(db: Database) -> dict[str, int]:
    """How many requests are in each state."""
    with db.read() as session:
        rows = session.execute(select(C.state, func.count()).group_by(C.state)).all()
    return {state: int(n) for state, n in rows}
