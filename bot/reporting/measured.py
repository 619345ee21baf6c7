"""Measured figures of one period from the RMM's device data: per severity and per maintenance group, the
updates that fell due and how many were installed by their deadline; time to patch (mean and median); what was
overdue when the period ended. Months whose detail compaction has rolled up are counted by install month from
the roll-ups, and say so."""

from __future__ import annotations

import json
import statistics
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import and_, case, func, or_
from sqlmodel import Session, col, select

from bot.patchdata.compaction import BUCKETS, bucket
from bot.patchdata.coverage import group_map
from bot.patchdata.deadlines import Deadlines
from bot.patchdata.records import SEVERITIES
from bot.patchdata.status import counted_rows
from bot.policy.model import Policy
from storage.device_data import Device, DeviceUpdate, PatchMonth, last_import

BUCKET_NAMES = (*(name for _, name in BUCKETS), "longer")
BUCKET_WORDS = {name: f"within {name.replace('d', ' days').replace('1 days', '1 day')}" for _, name in BUCKETS}
BUCKET_WORDS["longer"] = "over 90 days"
TOP = 5
NO_GROUP = "(no group)"


@dataclass
class Tally:
    """Updates that fell due (or, from roll-ups, were installed): on time, and hours to patch."""

    due: int = 0
    on_time: int = 0
    installed: int = 0
    hours_total: float = 0.0
    exact: list[float] = field(default_factory=list)  # hours of each install still held in detail
    histogram: Counter[str] = field(default_factory=Counter)

    def add(self, on_time: bool, hours: float | None) -> None:
        self.due += 1
        self.on_time += on_time
        if hours is not None:
            self.installed += 1
            self.hours_total += hours
            self.exact.append(hours)
            self.histogram[bucket(hours)] += 1

    def add_rollup(self, cell: PatchMonth) -> None:
        self.due += cell.installed
        self.on_time += cell.on_time
        self.installed += cell.installed
        self.hours_total += cell.hours_total
        self.histogram.update(json.loads(cell.hours_histogram or "{}"))

    @property
    def share(self) -> float | None:
        return self.on_time / self.due if self.due else None

    @property
    def mean(self) -> str:
        return hours_words(self.hours_total / self.installed) if self.installed else "-"

    @property
    def median(self) -> str:
        """Exact while every install is held in detail; from the roll-up's histogram, to its bucket, after."""
        if not self.installed:
            return "-"
        if len(self.exact) == self.installed:
            return hours_words(statistics.median(self.exact))
        middle, seen = (self.installed + 1) / 2, 0
        for name in BUCKET_NAMES:
            seen += self.histogram.get(name, 0)
            if seen >= middle:
                return BUCKET_WORDS[name]
        return BUCKET_WORDS["longer"]


@dataclass(frozen=True)
class Overdue:
    device: str
    group: str
    update: str
    severity: str
    days: int


@dataclass(frozen=True)
class Measured:
    """One period's measured figures. basis: 'deadline' (updates that fell due in it) or 'install' (roll-ups)."""

    basis: str
    severities: tuple[tuple[str, Tally], ...]
    groups: tuple[tuple[str, Tally], ...]
    total: Tally
    overdue_count: int
    overdue: tuple[Overdue, ...]


def hours_words(hours: float) -> str:
    return f"{hours:.1f} hours" if hours < 48 else f"{hours / 24:.1f} days"


def measure_period(
    session: Session, client_id: int, policy: Policy, start: datetime, end: datetime, now: datetime
) -> Measured | None:
    """The figures of [start, end) as far as `now`; None when the client has no device data at all."""
    if last_import(session, client_id) is None:
        return None
    stop = min(end, now)
    deadlines = Deadlines.of(policy)
    mapping = group_map(policy)
    devices = {
        key: (name, mapping.get(group.casefold(), group or NO_GROUP))
        for key, name, group in session.connection().execute(
            select(Device.device_key, Device.name, Device.rmm_group).where(Device.client_id == client_id)
        )
    }
    counted, _covered, _any = counted_rows(session, client_id, now)
    per_severity: dict[str, Tally] = {}
    per_group: dict[str, Tally] = {}
    total = Tally()
    months = _month_keys(start, stop)
    rollups = (
        session.exec(
            select(PatchMonth).where(PatchMonth.client_id == client_id, col(PatchMonth.month).in_(months))
        ).all()
        if months
        else []
    )
    basis = "install" if rollups else "deadline"
    for cell in rollups:
        group = mapping.get(cell.rmm_group.casefold(), cell.rmm_group or NO_GROUP)
        for tally in (per_severity.setdefault(cell.severity, Tally()), per_group.setdefault(group, Tally()), total):
            tally.add_rollup(cell)
    when = DeviceUpdate.installed_at if basis == "install" else DeviceUpdate.deadline_at
    rows = session.connection().execute(
        select(
            DeviceUpdate.device_key,
            DeviceUpdate.severity,
            DeviceUpdate.state,
            DeviceUpdate.deadline_at,
            DeviceUpdate.installed_at,
            DeviceUpdate.released_at,
            DeviceUpdate.first_seen_at,
        ).where(counted, when >= start, when < stop, *([DeviceUpdate.state == "installed"] if rollups else []))
    )
    for key, severity, state, deadline, installed_at, released, first_seen in rows:
        done = state == "installed" and installed_at is not None
        hours = (installed_at - deadlines.start(released, first_seen)).total_seconds() / 3600 if done else None
        hours = max(0.0, hours) if hours is not None else None
        on_time = done and installed_at <= deadline
        group = devices.get(key, (key, NO_GROUP))[1]
        for tally in (per_severity.setdefault(severity, Tally()), per_group.setdefault(group, Tally()), total):
            tally.add(on_time, hours)
    late_at_end = (
        counted,
        DeviceUpdate.deadline_at < stop,
        or_(
            col(DeviceUpdate.installed_at).is_(None),
            DeviceUpdate.state != "installed",
            col(DeviceUpdate.installed_at) > stop,
        ),
    )
    overdue_count = session.connection().execute(select(func.count()).where(*late_at_end)).scalar_one()
    top = session.connection().execute(
        select(DeviceUpdate.device_key, DeviceUpdate.update_key, DeviceUpdate.severity, DeviceUpdate.deadline_at)
        .where(*late_at_end)
        .order_by(col(DeviceUpdate.deadline_at), col(DeviceUpdate.device_key))
        .limit(TOP)
    )
    order = [g.name for g in policy.groups]
    return Measured(
        basis=basis,
        severities=tuple((s, per_severity[s]) for s in SEVERITIES if s in per_severity),
        groups=tuple((g, per_group[g]) for g in sorted(per_group, key=lambda g: _group_order(order, g))),
        total=total,
        overdue_count=int(overdue_count),
        overdue=tuple(
            Overdue(
                device=devices.get(key, (key, NO_GROUP))[0],
                group=devices.get(key, (key, NO_GROUP))[1],
                update=update,
                severity=severity,
                days=max(1, -(-int((stop - deadline).total_seconds()) // 86400)),
            )
            for key, update, severity, deadline in top
        ),
    )


def month_shares(
    session: Session, client_id: int, start: datetime, end: datetime, now: datetime
) -> dict[str, float | None] | None:
    """Per severity, the share installed by the deadline in [start, end): what the trend chart needs, counted in
    the database (the index on deadlines answers it) on the same basis as `measure_period`."""
    if last_import(session, client_id) is None:
        return None
    stop = min(end, now)
    counted, _covered, _any = counted_rows(session, client_id, now)
    months = _month_keys(start, stop)
    totals: dict[str, list[int]] = {}
    rollups = session.exec(
        select(PatchMonth.severity, func.sum(PatchMonth.installed), func.sum(PatchMonth.on_time))
        .where(PatchMonth.client_id == client_id, col(PatchMonth.month).in_(months))
        .group_by(PatchMonth.severity)
    ).all()
    for severity, installed, on_time in rollups:
        totals[severity] = [int(installed or 0), int(on_time or 0)]
    on_time = and_(DeviceUpdate.state == "installed", DeviceUpdate.installed_at <= DeviceUpdate.deadline_at)
    when = DeviceUpdate.installed_at if rollups else DeviceUpdate.deadline_at
    only = [DeviceUpdate.state == "installed"] if rollups else []
    rows = session.exec(
        select(DeviceUpdate.severity, func.count(), func.sum(case((on_time, 1), else_=0)))
        .where(counted, when >= start, when < stop, *only)
        .group_by(DeviceUpdate.severity)
    ).all()
    for severity, due, met in rows:
        cell = totals.setdefault(severity, [0, 0])
        cell[0] += int(due)
        cell[1] += int(met or 0)
    return {s: (met / due if due else None) for s, (due, met) in totals.items()}


def _group_order(order: list[str], group: str) -> tuple[int, str]:
    """The policy's groups in its order, then the RMM's unmapped ones by name."""
    return (order.index(group), "") if group in order else (len(order), group.casefold())


def _month_keys(start: datetime, stop: datetime) -> list[str]:
    """The months ('2026-07') that [start, stop) touches, in the period's zone: the roll-ups' keys (which are
    UTC months: a few hours apart at the edges)."""
    keys: list[str] = []
    moment = start
    while moment < stop:
        keys.append(f"{moment:%Y-%m}")
        moment = (moment.replace(day=1) + timedelta(days=32)).replace(day=1, hour=0, minute=0, second=0)
    return keys
