"""Device data as the commands see it: imports, `status`, and the daily digest of what passed its deadline
(the ledger's "overdue" subject: one per client per day, exactly once, across restarts and replicas)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, func, or_
from sqlmodel import Session, col, select

from bot.kernel.clock import Clock
from bot.kernel.lookup import resolve_client
from bot.kernel.versions import latest_version
from bot.kernel.views import Notice, TableView
from bot.patchdata.ingest import Ingest, IngestResult
from bot.patchdata.pulls import Pulls, RmmAccess
from bot.patchdata.records import OPEN_STATES
from bot.patchdata.status import (
    FULLY_PATCHED,
    ClientStatus,
    counted_rows,
    due_in_window,
    measure,
    status_of,
    worst_first,
)
from bot.policy.model import Policy, policy_from
from bot.scheduling.planning import plan_once
from storage.db import Database
from storage.device_data import Device, DeviceUpdate, last_import
from storage.models import Client, PolicyVersion, Reminder

DIGEST_HOUR = 9  # local time of the daily digest
DIGEST_DEVICES = 15  # devices named in one digest; the rest are counted
EXCEPTION_BUTTONS = 5


@dataclass(frozen=True)
class DigestDevice:
    device_key: str
    name: str
    updates: tuple[str, ...]  # "KB5032190 (critical)"


@dataclass(frozen=True)
class DigestView:
    """Updates that passed their deadline since yesterday's digest, by device."""

    reminder_id: int
    client_id: int
    client_name: str
    channel_id: str
    day: str  # the local date
    devices: tuple[DigestDevice, ...]
    newly: int
    more_devices: int
    overdue: int  # all overdue now, newly or not
    owner_ids: tuple[str, ...]


class DeviceData:
    """Imports, status and the overdue digest."""

    def __init__(self, db: Database, clock: Clock, access: RmmAccess | None = None) -> None:
        self.db = db
        self.clock = clock
        self.ingest = Ingest(db, clock)
        self.pulls = Pulls(db, clock, self.ingest, access or RmmAccess())

    def import_file(self, client: str, path: Path, by: str, columns: str = "", name: str = "") -> IngestResult:
        return self.ingest.file(client, path, by, columns, name)

    def pull(self, client_text: str = "") -> list[IngestResult]:
        """Pull now: one client (whether due or not), or every client that is due."""
        if not client_text.strip():
            return [self.pulls.pull(name, rmm, org) for name, rmm, org in self.pulls.due()]
        with self.db.read() as session:
            match = resolve_client(session, client_text, kind="client")
            version = latest_version(session, match.client.id) if match.client else None
        if match.client is None or version is None:
            return [IngestResult(client_text, problem=match.problem or f"{client_text} has no published policy.")]
        rmm, org = version.answers.get("data.rmm"), str(version.answers.get("data.rmm_org") or "")
        if not self.pulls.access.configured(str(rmm)) or not org:
            why = f"{match.client.name} has no RMM API to pull from (data.rmm, data.rmm_org and the credentials)."
            return [IngestResult(match.client.name, problem=why)]
        return [self.pulls.pull(match.client.name, str(rmm), org)]

    def status(self, text: str) -> ClientStatus | TableView | Notice:
        """One client's status, or (no client named) one line per client, worst first."""
        now = self.clock.now()
        with self.db.read() as session:
            if not text.strip():
                return self._overview(session, now)
            match = resolve_client(session, text, kind="client")
            if match.client is None:
                return Notice(match.problem or "", "error")
            version = latest_version(session, match.client.id)
            if version is None:
                return Notice(f"{match.client.name} has no published policy yet, so no deadlines to measure.")
            return status_of(session, match.client, version.answers, now)

    def home_lines(self, client_ids: tuple[int, ...]) -> dict[int, str]:
        """A line per client for the App Home: overdue device updates, and how fresh the data is (cheap: read
        from the indexes, without the full status)."""
        now = self.clock.now()
        lines = {}
        with self.db.read() as session:
            for client_id in client_ids:
                run = last_import(session, client_id)
                if run is None:
                    continue
                counted, _, _ = counted_rows(session, client_id, now)  # as status counts: no excepted update
                overdue = session.exec(
                    select(func.count()).where(
                        counted, col(DeviceUpdate.state).in_(OPEN_STATES), DeviceUpdate.deadline_at < now
                    )
                ).one()
                devices, patched = session.exec(
                    select(func.count(), func.sum(case((_fully_patched(), 1), else_=0))).where(
                        Device.client_id == client_id
                    )
                ).one()
                window = due_in_window(session, counted, now)
                due = sum(s.due for s in window)
                on_time = f"on time {sum(s.on_time for s in window) / due * 100:.0f}%" if due else "nothing due"
                days = (now - run.finished_at).days
                age = "today" if days < 1 else f"{days} day{'s' if days != 1 else ''} old"
                lines[client_id] = (
                    f"{overdue:,} device updates overdue · fully patched {int(patched or 0)} of {devices} · "
                    f"{on_time} in 30 days (device data {age})"
                )
        return lines

    def _overview(self, session: Session, now: datetime) -> TableView:
        clients = session.exec(
            select(Client).where(Client.kind == "client", col(Client.archived_at).is_(None)).order_by(Client.key)
        ).all()
        found, without = [], []
        for client in clients:
            version = latest_version(session, client.id)
            status = measure(session, client, policy_from(version.answers), now) if version else None
            (found.append(status) if status else without.append(client.name))
        rows = [
            (
                s.client_name,
                f"{s.overdue} overdue" if s.overdue else "nothing overdue",
                f"on time {_pct(s.on_time_share)} (target {s.target}%)",
                f"fully patched {_pct(s.patched_share)} of {s.seen}",
                f"data {s.refreshed}",
            )
            for s in worst_first(found)
        ]
        rows += [(name, "no device data yet", "", "", "") for name in without]
        footer = "Import device data with `patchpolicy ingest <client> <file>`, or share the export with me in a DM."
        return TableView("Device data: every client, worst first", ("Client", "", "", "", ""), tuple(rows), footer)

    # ----- the overdue digest (ledger subject "overdue") ----------------------------------------

    def plan(self, session: Session, client: Client, version: PolicyVersion, now: datetime) -> int:
        """Today's and tomorrow's digest, at 09:00 in the client's time (each once: the ledger is unique); none
        for a client with no device data."""
        if last_import(session, client.id) is None:
            return 0
        zone = ZoneInfo(Policy(version.answers).timezone)
        local = now.astimezone(zone)
        added = 0
        for offset in (0, 1):
            day = (local + timedelta(days=offset)).date()
            due = datetime(day.year, day.month, day.day, DIGEST_HOUR, tzinfo=zone)
            if due > now - timedelta(hours=1):
                span = (due - timedelta(days=1), due)
                occurrence = f"overdue:{day.isoformat()}"
                added += plan_once(session, client, version, "overdue", occurrence, "digest", due, span, "device data")
        return added

    def skip_reason(self, row: Reminder, now: datetime) -> str | None:
        with self.db.read() as session:
            if session.exec(self._newly(session, row).limit(1)).first() is None:
                return "nothing passed its deadline since the last digest"
        return None

    def reminder(self, row: Reminder) -> DigestView | None:
        with self.db.read() as session:
            client = session.get(Client, row.client_id)
            version = latest_version(session, row.client_id)
            if client is None or version is None or not client.channel_id:
                return None
            newly = session.exec(self._newly(session, row)).all()
            names = {d.device_key: d.name for d in session.exec(select(Device).where(Device.client_id == client.id))}
            now = self.clock.now()
            status = measure(session, client, policy_from(version.answers), now)
        by_device: dict[str, list[str]] = {}
        for update in newly:
            by_device.setdefault(update.device_key, []).append(f"{update.update_key} ({update.severity})")
        ordered = sorted(by_device, key=lambda k: (-len(by_device[k]), names.get(k, k).casefold()))
        return DigestView(
            reminder_id=row.id,
            client_id=client.id,
            client_name=client.name,
            channel_id=client.channel_id,
            day=row.occurrence.split(":", 1)[1],
            devices=tuple(DigestDevice(k, names.get(k, k), tuple(by_device[k][:8])) for k in ordered[:DIGEST_DEVICES]),
            newly=len(newly),
            more_devices=max(0, len(ordered) - DIGEST_DEVICES),
            overdue=status.overdue if status else len(newly),
            owner_ids=tuple(Policy(version.answers).owner_ids),
        )

    def _newly(self, session: Session, row: Reminder):  # type: ignore[no-untyped-def]
        """Open device updates (as status counts them) whose deadline passed in the day before this digest."""
        counted, _, _ = counted_rows(session, row.client_id, row.due_at)
        return (
            select(DeviceUpdate)
            .where(
                counted,
                col(DeviceUpdate.state).in_(OPEN_STATES),
                DeviceUpdate.deadline_at > row.window_start,
                DeviceUpdate.deadline_at <= row.window_end,
            )
            .order_by(col(DeviceUpdate.device_key), col(DeviceUpdate.update_key))
        )


def _fully_patched() -> Any:
    """A device with nothing outstanding: a count-only source's word for it, or no open update at import."""
    return or_(
        Device.status == FULLY_PATCHED,
        and_(col(Device.status).is_(None), func.coalesce(Device.open_updates, 0) == 0),
    )


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.0f}%"
