"""Device data from the RMM: devices, each device's updates (one row per device and update, its latest
observation), the imports that brought them, and the monthly roll-up that compaction leaves behind."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, Text, UniqueConstraint, and_, bindparam, case, func
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Field, Session, SQLModel, col, select, update

from storage.types import utc_field


class Device(SQLModel, table=True):
    """A device as the RMM last reported it. Count-only sources (Datto) fill status, pending and failed."""

    __table_args__ = (UniqueConstraint("client_id", "device_key", name="uq_device_client_key"),)

    id: int | None = Field(default=None, primary_key=True)
    client_id: int = Field(foreign_key="client.id", index=True)
    device_key: str = Field(max_length=120)  # the RMM's own id (or the name, when the export has no id)
    name: str = Field(max_length=200)
    rmm_group: str = Field(default="", max_length=200)  # the RMM's device group, site or policy
    os: str = Field(default="", max_length=120)
    source: str = Field(max_length=24)
    last_seen_at: datetime | None = utc_field(nullable=True)
    reboot_required: bool | None = None
    status: str | None = Field(default=None, max_length=40)  # count-only sources: the RMM's patch status
    pending: int | None = None
    failed: int | None = None
    observed_at: datetime = utc_field()
    open_updates: int | None = None  # updates still to install (not excluded), counted after each import


class DeviceUpdate(SQLModel, table=True):
    """One update on one device: its latest state and the dates its deadline is measured from."""

    __table_args__ = (
        UniqueConstraint("client_id", "device_key", "update_key", name="uq_deviceupdate_pair"),
        # status reads these without touching the table: what fell due in a window, and what is still open
        Index("ix_deviceupdate_due", "client_id", "deadline_at", "severity", "state", "installed_at"),
        Index("ix_deviceupdate_state", "client_id", "state", "deadline_at", "device_key"),
    )

    id: int | None = Field(default=None, primary_key=True)
    client_id: int = Field(foreign_key="client.id")
    device_key: str = Field(max_length=120)
    update_key: str = Field(max_length=200)  # KB number, or the package name and version
    title: str = Field(default="", max_length=300)
    severity: str = Field(max_length=16)  # critical, high, medium, low, unknown
    severity_raw: str = Field(default="", max_length=40)
    cves: str = Field(default="", sa_column=Column(Text, nullable=False))  # space-separated
    state: str = Field(max_length=24)  # missing, pending_approval, approved_pending, installed, failed, ...
    installed: bool = False  # state is installed: the index that finds what is still open
    released_at: datetime | None = utc_field(nullable=True)
    first_seen_at: datetime = utc_field()
    installed_at: datetime | None = utc_field(nullable=True)
    observed_at: datetime = utc_field()
    deadline_at: datetime = utc_field()  # clock start plus the policy's deadline for its severity


class IngestRun(SQLModel, table=True):
    """One import (a file or an API pull): what it read and stored. A file imported twice is found here."""

    __table_args__ = (Index("ix_ingestrun_client_at", "client_id", "finished_at"),)

    id: int | None = Field(default=None, primary_key=True)
    client_id: int = Field(foreign_key="client.id")
    source: str = Field(max_length=24)
    mapping: str = Field(max_length=80)
    origin: str = Field(max_length=300)  # the file's name, or the API's address
    digest: str = Field(default="", max_length=64)  # sha256 of a file; empty for a pull
    rows: int = 0
    devices: int = 0
    updates: int = 0
    started_at: datetime = utc_field()
    finished_at: datetime = utc_field()
    by: str = Field(max_length=64)
    compacted_before: datetime | None = utc_field(nullable=True)  # installs before this are in the monthly roll-ups
    error: str | None = Field(default=None, max_length=500)  # a pull that failed: why (nothing was stored)


class IngestMapping(SQLModel, table=True):
    """A client's own mapping of its export's columns (written once, used for every later import)."""

    id: int | None = Field(default=None, primary_key=True)
    client_id: int = Field(foreign_key="client.id", unique=True)
    columns: dict[str, str] = Field(sa_column=Column(JSON, nullable=False))
    written_by: str = Field(max_length=64)
    written_at: datetime = utc_field()


class PatchMonth(SQLModel, table=True):
    """What compaction keeps of installed updates older than the evidence window: counts per month, group
    and severity, enough for the reports (share on time, mean time to patch, a histogram for the median)."""

    __table_args__ = (UniqueConstraint("client_id", "month", "rmm_group", "severity", name="uq_patchmonth_cell"),)

    id: int | None = Field(default=None, primary_key=True)
    client_id: int = Field(foreign_key="client.id")
    month: str = Field(max_length=7)  # YYYY-MM of the install, UTC
    rmm_group: str = Field(default="", max_length=200)
    severity: str = Field(max_length=16)
    installed: int = 0
    on_time: int = 0
    hours_total: float = 0.0
    hours_histogram: str = Field(default="", sa_column=Column(Text, nullable=False))  # JSON {bucket: count}


def last_import(session: Session, client_id: int) -> IngestRun | None:
    """The client's newest import or pull that stored data (a failed pull stores none)."""
    return session.exec(
        select(IngestRun)
        .where(IngestRun.client_id == client_id, col(IngestRun.error).is_(None))
        .order_by(col(IngestRun.finished_at).desc())
    ).first()


def _insert(session: Session, table: type[SQLModel]) -> Any:
    dialect = session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)


def upsert_devices(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Insert or refresh devices; an older observation never overwrites a newer one."""
    if not rows:
        return
    stmt = _insert(session, Device)
    fresher = stmt.excluded.observed_at >= Device.observed_at
    kept = ("name", "rmm_group", "os", "source", "last_seen_at", "reboot_required", "status", "pending", "failed")
    stmt = stmt.on_conflict_do_update(
        index_elements=["client_id", "device_key"],
        set_={
            **{k: func.coalesce(getattr(stmt.excluded, k), getattr(Device, k)) for k in kept},
            "observed_at": stmt.excluded.observed_at,
        },
        where=fresher,
    )
    session.connection().execute(stmt, list(rows))  # Core executemany: one statement for the batch


def upsert_updates(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Insert or refresh device updates. The first sighting is kept; an older observation never wins."""
    if not rows:
        return
    stmt = _insert(session, DeviceUpdate)
    fresher = stmt.excluded.observed_at >= DeviceUpdate.observed_at
    replaced = ("title", "severity", "severity_raw", "cves", "state", "installed", "observed_at")
    earlier = and_(
        col(DeviceUpdate.installed_at).is_not(None),
        stmt.excluded.installed_at.is_not(None),
        DeviceUpdate.installed_at < stmt.excluded.installed_at,
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=["client_id", "device_key", "update_key"],
        set_={
            **{k: getattr(stmt.excluded, k) for k in replaced},
            "released_at": func.coalesce(stmt.excluded.released_at, DeviceUpdate.released_at),
            # seen installed again later: the install time stays the earliest one known
            "installed_at": case((earlier, DeviceUpdate.installed_at), else_=stmt.excluded.installed_at),
            # the clock started at the first sighting: a re-rated update is measured afresh, others keep theirs
            "deadline_at": case(
                (stmt.excluded.severity != DeviceUpdate.severity, stmt.excluded.deadline_at),
                else_=DeviceUpdate.deadline_at,
            ),
        },
        where=fresher,
    )
    session.connection().execute(stmt, list(rows))  # Core executemany: one statement for the batch


def count_open_updates(session: Session, client_id: int, open_states: Sequence[str]) -> None:
    """Store on each of the client's devices how many of its updates are still open (status reads it)."""
    counts: dict[str, int] = {}
    for key in session.execute(
        select(DeviceUpdate.device_key).where(
            DeviceUpdate.client_id == client_id, col(DeviceUpdate.state).in_(open_states)
        )
    ).scalars():
        counts[key] = counts.get(key, 0) + 1
    session.execute(update(Device).where(Device.client_id == client_id).values(open_updates=0))
    if counts:
        session.connection().execute(
            update(Device)
            .where(Device.client_id == bindparam("c"), Device.device_key == bindparam("k"))
            .values(open_updates=bindparam("n")),
            [{"c": client_id, "k": key, "n": n} for key, n in counts.items()],
        )
