"""Durations as people type them (48h, 14d, 2w, 1d 12h) and their canonical form."""

from __future__ import annotations

import re
from datetime import timedelta

_UNITS = {
    "m": 60,
    "min": 60,
    "mins": 60,
    "minute": 60,
    "minutes": 60,
    "h": 3600,
    "hr": 3600,
    "hrs": 3600,
    "hour": 3600,
    "hours": 3600,
    "d": 86400,
    "day": 86400,
    "days": 86400,
    "w": 604800,
    "wk": 604800,
    "wks": 604800,
    "week": 604800,
    "weeks": 604800,
}
_PART = re.compile(r"(\d{1,6})\s*([a-z]+)")
_MAX_SECONDS = 10 * 365 * 86400


class DurationError(ValueError):
    """The text is not a duration."""


def parse_duration(text: str) -> timedelta:
    """Parse '48h', '14d', '2w', '1d 12h', '90 minutes' into a timedelta."""
    cleaned = text.strip().lower().replace(",", " ").replace(" and ", " ")
    if not cleaned:
        raise DurationError("empty")
    total = 0
    pos = 0
    for match in _PART.finditer(cleaned):
        if cleaned[pos : match.start()].strip():
            raise DurationError(text)
        unit = _UNITS.get(match.group(2))
        if unit is None:
            raise DurationError(text)
        total += int(match.group(1)) * unit
        pos = match.end()
    if pos == 0 or cleaned[pos:].strip():
        raise DurationError(text)
    if total > _MAX_SECONDS:
        raise DurationError(text)
    return timedelta(seconds=total)


def format_duration(value: timedelta) -> str:
    """The canonical form: hours up to 72h ('48h'), whole days beyond ('14d'), else minutes."""
    seconds = int(value.total_seconds())
    if seconds and seconds % 86400 == 0 and seconds > 72 * 3600:
        return f"{seconds // 86400}d"
    if seconds and seconds % 3600 == 0:
        return f"{seconds // 3600}h"
    return f"{seconds // 60}m"


def describe_duration(value: timedelta) -> str:
    """Human words: '14 days', '48 hours', '90 minutes' (hours up to 72, like the canonical form)."""
    seconds = int(value.total_seconds())
    if seconds <= 72 * 3600 and seconds % 3600 == 0 and seconds:
        hours = seconds // 3600
        return f"{hours} hour{'s' if hours != 1 else ''}"
    parts = []
    for size, name in ((86400, "day"), (3600, "hour"), (60, "minute")):
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count} {name}{'s' if count != 1 else ''}")
    return " ".join(parts) or "0 minutes"
