"""A new version that changes the deadlines (a tier's deadline, where the clock starts, unrated updates, the
time zone) moves the deadlines of updates still open; installed ones keep the deadline they were measured
against, so the record of what was on time does not change after the fact."""

from __future__ import annotations

from sqlalchemy import bindparam, update
from sqlmodel import col, select

from bot.kernel.versions import latest_version
from bot.patchdata.deadlines import Deadlines
from bot.patchdata.records import OPEN_STATES
from bot.policy.model import policy_from
from storage.db import Database
from storage.device_data import DeviceUpdate
from storage.models import PolicyVersion

BATCH = 5000
DEADLINE_ANSWERS = (
    "sla.critical",
    "sla.high",
    "sla.medium",
    "sla.low",
    "sla.unrated",
    "sla.clock_start",
    "client.timezone",
)


def recompute_deadlines(db: Database, client_id: int) -> int:
    """Move open updates to the newest version's deadlines when they differ from the previous version's."""
    with db.read() as session:
        newest = latest_version(session, client_id)
        if newest is None or newest.version < 2:
            return 0
        before = session.exec(
            select(PolicyVersion).where(
                PolicyVersion.client_id == client_id, PolicyVersion.version == newest.version - 1
            )
        ).first()
    if before is not None and all(before.answers.get(k) == newest.answers.get(k) for k in DEADLINE_ANSWERS):
        return 0
    deadlines = Deadlines.of(policy_from(newest.answers))
    moved, after_id = 0, 0
    while True:
        with db.write() as session:
            rows = session.exec(
                select(DeviceUpdate.id, DeviceUpdate.severity, DeviceUpdate.released_at, DeviceUpdate.first_seen_at)
                .where(
                    DeviceUpdate.client_id == client_id,
                    col(DeviceUpdate.state).in_(OPEN_STATES),
                    col(DeviceUpdate.id) > after_id,
                )
                .order_by(col(DeviceUpdate.id))
                .limit(BATCH)
            ).all()
            if not rows:
                return moved
            session.connection().execute(
                update(DeviceUpdate).where(DeviceUpdate.id == bindparam("row")).values(deadline_at=bindparam("due")),
                [{"row": r[0], "due": deadlines.due(r[1], r[2], r[3])} for r in rows],
            )
            moved += len(rows)
            after_id = rows[-1][0]
