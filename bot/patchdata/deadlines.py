"""The deadline of an update on a device: when its clock starts (the vendor's release, or when it was first seen)
plus the policy's deadline for its severity. Whole days are days in the client's time zone, so a deadline
keeps its local time across a change of clocks; hours are hours."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.kernel.durations import parse_duration
from bot.policy.model import Policy

DEFAULTS = {"critical": "7d", "high": "14d", "medium": "30d", "low": "90d"}
STALE_DAYS = 14


@dataclass(frozen=True)
class Deadlines:
    """A policy's deadlines per severity, in its time zone."""

    sla: dict[str, timedelta]
    zone: ZoneInfo
    from_release: bool

    @classmethod
    def of(cls, policy: Policy) -> Deadlines:
        sla = {tier: parse_duration(policy.value(f"sla.{tier}") or DEFAULTS[tier]) for tier in DEFAULTS}
        unrated = policy.value("sla.unrated", "high")
        sla["unknown"] = sla["medium"] if unrated == "medium" else sla["high"]  # triage: as High until triaged
        return cls(sla, ZoneInfo(policy.timezone), policy.value("sla.clock_start", "release") != "detection")

    def start(self, released_at: datetime | None, first_seen_at: datetime) -> datetime:
        """When the clock starts: the release when the policy counts from it and the source gives it."""
        return released_at if self.from_release and released_at is not None else first_seen_at

    def due(self, severity: str, released_at: datetime | None, first_seen_at: datetime) -> datetime:
        allowed = self.sla[severity]
        start = self.start(released_at, first_seen_at)
        if allowed % timedelta(days=1):
            return start + allowed
        local = start.astimezone(self.zone)
        return (local + allowed).astimezone(UTC)  # wall-clock days: the same local time, whatever the offset


def stale_days(policy: Policy) -> int:
    """After how many days without a check-in a device counts as stale."""
    return int(policy.value("data.stale_days") or STALE_DAYS)
