"""Compaction: installed updates are kept row by row for KEEP_DAYS after their install, then rolled up into one
row per month, maintenance group (the RMM's) and severity: how many were installed, how many on time, the total
hours to patch and a histogram of them (enough for a share on time, a mean and a median to the bucket).
Roll-ups older than the policy's evidence retention are deleted. Open updates are never compacted."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlmodel import col, select

from bot.patchdata.deadlines import Deadlines
from bot.policy.model import Policy
from storage.db import Database
from storage.device_data import Device, DeviceUpdate, PatchMonth

KEEP_DAYS = 120  # detail for the status window, the monthly report and a quarter's look back
BATCH = 5000
BUCKETS = ((24, "1d"), (48, "2d"), (168, "7d"), (336, "14d"), (720, "30d"), (2160, "90d"))


def bucket(hours: float) -> str:
    """The histogram bucket of a time to patch: the smallest limit it is within, else 'longer'."""
    return next((name for limit, name in BUCKETS if hours <= limit), "longer")


def compact(db: Database, client_id: int, policy: Policy, now: datetime) -> int:
    """Roll up this client's installed updates older than KEEP_DAYS; returns how many rows were rolled up."""
    cutoff = now - timedelta(days=KEEP_DAYS)
    deadlines = Deadlines.of(policy)
    rolled = 0
    while True:
        with db.write() as session:
            rows = session.exec(
                select(DeviceUpdate, Device.rmm_group)
                .join(
                    Device,
                    (Device.client_id == DeviceUpdate.client_id) & (Device.device_key == DeviceUpdate.device_key),
                    isouter=True,
                )
                .where(
                    DeviceUpdate.client_id == client_id,
                    DeviceUpdate.installed == True,  # noqa: E712
                    col(DeviceUpdate.installed_at) < cutoff,
                )
                .limit(BATCH)
            ).all()
            if not rows:
                break
            cells: dict[tuple[str, str, str], PatchMonth] = {}
            for update, group in rows:
                assert update.installed_at is not None
                key = (f"{update.installed_at:%Y-%m}", group or "", update.severity)
                cell = cells.get(key) or _cell(session, client_id, *key)
                cells[key] = cell
                hours = (
                    update.installed_at - deadlines.start(update.released_at, update.first_seen_at)
                ).total_seconds()
                hours = max(0.0, hours / 3600)
                histogram = json.loads(cell.hours_histogram or "{}")
                histogram[bucket(hours)] = histogram.get(bucket(hours), 0) + 1
                cell.installed += 1
                cell.on_time += update.installed_at <= update.deadline_at
                cell.hours_total += hours
                cell.hours_histogram = json.dumps(histogram, sort_keys=True)
            for cell in cells.values():
                session.add(cell)
            session.exec(delete(DeviceUpdate).where(col(DeviceUpdate.id).in_([u.id for u, _ in rows])))  # type: ignore[call-overload]
            rolled += len(rows)
    months = int(policy.value("audit.retention_months") or 12)
    oldest = f"{(now - timedelta(days=31 * months)):%Y-%m}"
    with db.write() as session:
        session.exec(delete(PatchMonth).where(PatchMonth.client_id == client_id, col(PatchMonth.month) < oldest))  # type: ignore[call-overload]
    return rolled


def _cell(session, client_id: int, month: str, group: str, severity: str) -> PatchMonth:  # type: ignore[no-untyped-def]
    found = session.exec(
        select(PatchMonth).where(
            PatchMonth.client_id == client_id,
            PatchMonth.month == month,
            PatchMonth.rmm_group == group,
            PatchMonth.severity == severity,
        )
    ).first()
    return found or PatchMonth(client_id=client_id, month=month, rmm_group=group, severity=severity)
