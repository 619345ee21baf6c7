"""IANA time zone names: exact matches, case and spacing forgiven, and 'did you mean' suggestions."""

from __future__ import annotations

import difflib
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, available_timezones


class TimezoneError(ValueError):
    """Not an IANA zone; `suggestion` is the closest real one, if any."""

    def __init__(self, text: str, suggestion: str | None) -> None:
        super().__init__(text)
        self.suggestion = suggestion


@lru_cache(maxsize=1)
def _zones() -> dict[str, str]:
    """Canonical region/city zones (and UTC), keyed by a forgiving lowercase form."""
    names = {z for z in available_timezones() if "/" in z and not z.startswith(("Etc/", "SystemV/", "US/"))}
    names.add("UTC")
    return {_key(name): name for name in names}


def _key(text: str) -> str:
    return text.strip().lower().replace(" ", "_")


def resolve_timezone(text: str) -> str:
    """Return the canonical IANA name for `text`, or raise TimezoneError with a suggestion."""
    zones = _zones()
    key = _key(text)
    if key in zones:
        return zones[key]
    by_city = {name.rsplit("/", 1)[-1].lower(): name for name in zones.values()}
    if key in by_city:
        raise TimezoneError(text, by_city[key])
    close = difflib.get_close_matches(key, list(zones), n=1, cutoff=0.6)
    if not close:
        close_city = difflib.get_close_matches(key.rsplit("/", 1)[-1], list(by_city), n=1, cutoff=0.7)
        return_zone = by_city[close_city[0]] if close_city else None
        raise TimezoneError(text, return_zone)
    raise TimezoneError(text, zones[close[0]])


def end_of_local_day(day: date, zone: str) -> datetime:
    """The moment a local calendar day ends (midnight after it) in an IANA zone: 'until 31 Dec' means this."""
    return datetime.combine(day + timedelta(days=1), time(0), ZoneInfo(zone))


def last_local_day(ends: datetime, zone: str, pattern: str = "%d %b %Y") -> str:
    """The last local day something lasts when it ends at the midnight after it (end_of_local_day's inverse)."""
    return (ends - timedelta(seconds=1)).astimezone(ZoneInfo(zone)).strftime(pattern)
