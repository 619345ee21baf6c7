"""Patch window occurrences: window rules turned into aware datetimes, across DST and month ends.

Rules (../shared/domain.md): Patch Tuesday is the second Tuesday of the month; a start time that does
not exist locally (spring forward) moves to the first valid minute after it; one that happens twice
(fall back) happens once, at the first of the two; blackout dates skip a window without moving it.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from bot.kernel.durations import parse_duration
from bot.policy.window_rule import WindowRule


@dataclass(frozen=True)
class Occurrence:
    """One window of one maintenance group."""

    group: str
    start: datetime
    end: datetime

    @property
    def key(self) -> str:
        """A stable id of this occurrence: the group and its UTC start."""
        return f"{self.group}@{self.start.astimezone(UTC):%Y-%m-%dT%H:%MZ}"


@lru_cache(maxsize=4096)
def nth_weekday(year: int, month: int, nth: int, weekday: int) -> date:
    """The nth (1-4, or -1 for last) given weekday (0=Monday) of a month."""
    days = [d for d in calendar.Calendar().itermonthdates(year, month) if d.month == month and d.weekday() == weekday]
    return days[nth - 1] if nth > 0 else days[-1]


def patch_tuesday(year: int, month: int) -> date:
    return nth_weekday(year, month, 2, 1)


def local_start(day: date, start: time, zone: ZoneInfo) -> datetime:
    """The aware start of a window on a local date, applying the DST rules."""
    naive = datetime.combine(day, start)
    for _ in range(24 * 60):
        candidate = naive.replace(tzinfo=zone, fold=0)
        if candidate.astimezone(UTC).astimezone(zone).replace(tzinfo=None) == naive:
            return candidate  # exists; fold=0 is the first of two when the time happens twice
        naive += timedelta(minutes=1)  # inside a spring-forward gap: the first valid minute after it
    raise ValueError(f"no valid local time near {day} {start} in {zone}")


def in_blackout(day: date, blackouts: list[str]) -> bool:
    for entry in blackouts:
        first, _, last = entry.partition("..")
        if date.fromisoformat(first) <= day <= date.fromisoformat(last or first):
            return True
    return False


def _days(rule: WindowRule, first: date, last: date) -> Iterator[date]:
    """Candidate local dates of the rule from `first` to `last`, in order."""
    if rule.anchor == "weekly":
        day = first
        while day <= last:
            if day.weekday() in rule.weekdays:
                yield day
            day += timedelta(days=1)
        return
    year, month = first.year, first.month - 1  # the previous month's anchor + offset may land in range
    if month == 0:
        year, month = year - 1, 12
    while True:
        if rule.anchor == "patch_tuesday":
            base = patch_tuesday(year, month)
        else:
            base = nth_weekday(year, month, rule.nth or 1, rule.weekday or 0)
        day = base + timedelta(days=rule.offset_days)
        if day > last and base > last:
            return
        if first <= day <= last:
            yield day
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)


def occurrences(
    group: str, rule: WindowRule, client_tz: str, start: datetime, end: datetime, blackouts: list[str] | None = None
) -> Iterator[Occurrence]:
    """Windows of one group that start in [start, end), soonest first."""
    zone = ZoneInfo(rule.tz or client_tz)
    at = time.fromisoformat(rule.start)
    length = parse_duration(rule.length)
    first = start.astimezone(zone).date() - timedelta(days=1)
    last = end.astimezone(zone).date() + timedelta(days=1)
    for day in _days(rule, first, last):
        if blackouts and in_blackout(day, blackouts):
            continue
        begins = local_start(day, at, zone)
        if start <= begins < end:
            yield Occurrence(group, begins, begins + length)


def next_occurrences(
    group: str, rule: WindowRule, client_tz: str, now: datetime, count: int, blackouts: list[str] | None = None
) -> list[Occurrence]:
    """The next `count` windows that have not ended yet (one under way counts)."""
    found: list[Occurrence] = []
    begin = now - parse_duration(rule.length)
    horizon = now + timedelta(days=70)
    while len(found) < count and horizon - now < timedelta(days=3660):
        found = [o for o in occurrences(group, rule, client_tz, begin, horizon, blackouts) if o.end > now]
        horizon += timedelta(days=365)
    return found[:count]
