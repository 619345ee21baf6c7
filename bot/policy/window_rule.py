"""Patch window rules: anchor + offset in days, local start time, length, optional time zone."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from bot.kernel.durations import DurationError, format_duration, parse_duration
from bot.kernel.timezones import TimezoneError, resolve_timezone

WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
_ORDINALS = {"1st": 1, "first": 1, "2nd": 2, "second": 2, "3rd": 3, "third": 3, "4th": 4, "fourth": 4, "last": -1}
_ORDINAL_WORDS = {1: "1st", 2: "2nd", 3: "3rd", 4: "4th", -1: "last"}
MIN_LENGTH = timedelta(minutes=15)
MAX_LENGTH = timedelta(hours=24)
MAX_OFFSET_DAYS = 27


class WindowRuleError(ValueError):
    """The text is not a window rule; the message says what is wrong."""


@dataclass(frozen=True)
class WindowRule:
    """One maintenance group's recurring window."""

    anchor: str  # "patch_tuesday" | "nth_weekday" | "weekly"
    start: str  # "HH:MM", local wall-clock time
    length: str  # canonical duration, e.g. "4h"
    offset_days: int = 0
    nth: int | None = None  # 1-4 or -1 (last), for nth_weekday
    weekday: int | None = None  # 0=Monday, for nth_weekday
    weekdays: tuple[int, ...] = field(default_factory=tuple)  # for weekly
    tz: str | None = None  # None: the client's time zone

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"anchor": self.anchor, "start": self.start, "length": self.length}
        if self.offset_days:
            data["offset_days"] = self.offset_days
        if self.anchor == "nth_weekday":
            data["nth"], data["weekday"] = self.nth, self.weekday
        if self.anchor == "weekly":
            data["weekdays"] = list(self.weekdays)
        if self.tz:
            data["tz"] = self.tz
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> WindowRule:
        return cls(
            anchor=data["anchor"],
            start=data["start"],
            length=data["length"],
            offset_days=int(data.get("offset_days", 0)),
            nth=data.get("nth"),
            weekday=data.get("weekday"),
            weekdays=tuple(data.get("weekdays", ())),
            tz=data.get("tz"),
        )

    def describe(self) -> str:
        """The canonical text, which parse_window_rule reads back to the same rule."""
        if self.anchor == "weekly":
            days = ", ".join(WEEKDAYS[d][:3].title() for d in self.weekdays)
            text = f"Weekly on {days} at {self.start} for {self.length}"
        else:
            if self.anchor == "patch_tuesday":
                base = "Patch Tuesday"
            else:
                base = f"{_ORDINAL_WORDS[self.nth or 1]} {WEEKDAYS[self.weekday or 0].title()}"
            if self.offset_days:
                base += f" + {self.offset_days} day{'s' if self.offset_days != 1 else ''}"
            text = f"{base}, {self.start} for {self.length}"
        return f"{text}, {self.tz}" if self.tz else text


def _weekday(word: str) -> int | None:
    word = word.strip(".,").lower()
    if len(word) < 3:
        return None
    for index, name in enumerate(WEEKDAYS):
        if name.startswith(word) or (word.endswith("s") and name.startswith(word[:-1])):
            return index
    return None


def _take(pattern: str, text: str) -> tuple[re.Match[str] | None, str]:
    match = re.search(pattern, text)
    if not match:
        return None, text
    return match, (text[: match.start()] + " " + text[match.end() :])


def parse_window_rule(text: str) -> WindowRule:
    """Read 'Patch Tuesday + 1 day, 20:00 for 4h', '2nd Sat 22:00 3h', 'weekly sun,wed 21:00 2h'."""
    rest = " " + text.strip().lower() + " "
    if len(rest) > 200:
        raise WindowRuleError("That is too long for a window rule.")
    tz = None
    tz_match, rest = _take(r"\s([a-z_]+/[a-z_/+\-0-9]+|utc)(?=[\s,.]|$)", rest)
    if tz_match:
        try:
            tz = resolve_timezone(tz_match.group(1))
        except TimezoneError as err:
            hint = f" Did you mean {err.suggestion}?" if err.suggestion else ""
            raise WindowRuleError(f"'{tz_match.group(1)}' is not a time zone.{hint}") from None
    time_match, rest = _take(r"(?:\bat\s+)?\b(\d{1,2}):(\d{2})\b", rest)
    if not time_match:
        raise WindowRuleError("Give the start time as HH:MM, e.g. 20:00.")
    hour, minute = int(time_match.group(1)), int(time_match.group(2))
    if hour > 23 or minute > 59:
        raise WindowRuleError(f"{time_match.group(1)}:{time_match.group(2)} is not a time of day.")
    length_match, rest = _take(r"(?:\bfor\s+)?\b(\d+\s*(?:m|min|mins|minutes?|h|hrs?|hours?))(?=[\s,.]|$)", rest)
    if not length_match:
        raise WindowRuleError("Give the window's length, e.g. 'for 4h'.")
    try:
        length = parse_duration(length_match.group(1))
    except DurationError:
        raise WindowRuleError("Give the window's length, e.g. 'for 4h'.") from None
    if not MIN_LENGTH <= length <= MAX_LENGTH:
        raise WindowRuleError("A window lasts between 15 minutes and 24 hours.")
    offset_match, rest = _take(r"\+\s*(\d{1,3})\s*(?:d|days?)?(?=[\s,.]|$)", rest)
    offset = int(offset_match.group(1)) if offset_match else 0
    if offset > MAX_OFFSET_DAYS:
        raise WindowRuleError(f"An offset of {offset} days runs into the next month; use at most 27.")
    words = [w for w in re.split(r"[\s,]+", rest) if w and w not in {"on", "and", "every", "of", "the", "month"}]
    common = {"start": f"{hour:02d}:{minute:02d}", "length": format_duration(length), "tz": tz}
    if words[:2] == ["patch", "tuesday"] or words[:1] == ["pt"]:
        extra = words[2:] if words[0] == "patch" else words[1:]
        if extra:
            raise WindowRuleError(f"I don't understand '{' '.join(extra)}' in the window rule.")
        return WindowRule(anchor="patch_tuesday", offset_days=offset, **common)
    if (words and words[0] == "weekly") or (
        words and _weekday(words[0]) is not None and not offset_match and all(_weekday(w) is not None for w in words)
    ):
        days = [_weekday(w) for w in (words[1:] if words[0] == "weekly" else words)]
        if not days or any(d is None for d in days):
            raise WindowRuleError("Name the weekdays of a weekly window, e.g. 'Weekly on Sun, Wed at 21:00 for 2h'.")
        if offset:
            raise WindowRuleError("A weekly window has no day offset; name the weekdays instead.")
        return WindowRule(anchor="weekly", weekdays=tuple(sorted({d for d in days if d is not None})), **common)
    if len(words) == 2 and words[0] in _ORDINALS and _weekday(words[1]) is not None:
        return WindowRule(
            anchor="nth_weekday", nth=_ORDINALS[words[0]], weekday=_weekday(words[1]), offset_days=offset, **common
        )
    raise WindowRuleError(
        "Start with 'Patch Tuesday', an nth weekday ('2nd Saturday', 'last Friday') or 'Weekly on ...'."
    )
