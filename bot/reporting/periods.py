"""Reporting periods in a client's zone: weeks, calendar months and quarters, and the words that name them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

_MONTHS = {
    m: i for i, m in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1)
}


def parse_period(text: str, today: date) -> tuple[int, int] | None:
    """'2026-12', 'dec', 'december 2026' -> (year, month); '' -> the last complete month."""
    text = text.strip().casefold()
    if not text:
        first = today.replace(day=1) - timedelta(days=1)
        return first.year, first.month
    match = re.fullmatch(r"(\d{4})-(\d{1,2})", text)
    if match and 1 <= int(match.group(2)) <= 12:
        return int(match.group(1)), int(match.group(2))
    match = re.fullmatch(r"([a-z]{3})[a-z]*\.?(?:\s+(\d{4}))?", text)
    if match and match.group(1) in _MONTHS:
        month = _MONTHS[match.group(1)]
        year = int(match.group(2)) if match.group(2) else (today.year if month <= today.month else today.year - 1)
        return year, month
    return None


@dataclass(frozen=True)
class Period:
    """A reporting period in the client's zone: [start, end), its key ('2026-12', '2026-Q4', '2026-W49')."""

    key: str
    label: str
    start: datetime
    end: datetime


def period_of(frequency: str, moment: datetime) -> Period:
    """The weekly, monthly or quarterly period holding `moment` (an aware local datetime)."""
    tz = moment.tzinfo
    if frequency == "weekly":
        monday = moment.date() - timedelta(days=moment.weekday())
        start = datetime(monday.year, monday.month, monday.day, tzinfo=tz)
        year, week, _ = monday.isocalendar()
        return Period(f"{year}-W{week:02d}", f"the week of {start:%d %B %Y}", start, _months_later(start, 0, 7))
    first = moment.month if frequency != "quarterly" else 3 * ((moment.month - 1) // 3) + 1
    start = datetime(moment.year, first, 1, tzinfo=tz)
    if frequency == "quarterly":
        quarter = (first - 1) // 3 + 1
        return Period(f"{moment.year}-Q{quarter}", f"Q{quarter} {moment.year}", start, _months_later(start, 3))
    return Period(f"{moment.year:04d}-{first:02d}", start.strftime("%B %Y"), start, _months_later(start, 1))


def _months_later(start: datetime, months: int, days: int = 0) -> datetime:
    """Local midnight `months` (and `days`) after start: wall-clock arithmetic, right across DST changes."""
    if days:
        day = start.date() + timedelta(days=days)
        return datetime(day.year, day.month, day.day, tzinfo=start.tzinfo)
    month = start.month - 1 + months
    return datetime(start.year + month // 12, month % 12 + 1, 1, tzinfo=start.tzinfo)


def months_before(period: Period, count: int) -> list[Period]:
    """The `count` calendar months ending with the one holding `period`'s start, oldest first."""
    found = [period_of("monthly", period.start)]
    while len(found) < count:
        first = found[0].start
        found.insert(0, period_of("monthly", (first - timedelta(days=1)).replace(hour=0)))
    return found
