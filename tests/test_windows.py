"""Patch window occurrences: 2026-2030 against an independent table, DST edges, blackouts."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.policy.window_rule import parse_window_rule
from bot.policy.windows import next_occurrences, occurrences

START = datetime(2026, 1, 1, tzinfo=UTC)
END = datetime(2031, 1, 1, tzinfo=UTC)


def second_tuesday(year: int, month: int) -> date:
    """Computed differently from the code under test: from the 8th, step back to a Tuesday."""
    eighth = date(year, month, 8)
    return eighth + timedelta(days=(1 - eighth.weekday()) % 7)


@pytest.mark.parametrize("zone", ["America/New_York", "Europe/London", "Australia/Sydney"])
@pytest.mark.parametrize("offset", [0, 1, 5, 20])
def test_patch_tuesday_plus_n_for_five_years(zone, offset):
    rule = parse_window_rule(f"Patch Tuesday + {offset} days, 20:00 for 4h")
    got = [o.start for o in occurrences("G", rule, zone, START, END)]
    expected = []
    for year in range(2025, 2031):
        for month in range(1, 13):
            day = second_tuesday(year, month) + timedelta(days=offset)
            moment = datetime(day.year, day.month, day.day, 20, 0, tzinfo=ZoneInfo(zone))
            if START <= moment < END:
                expected.append(moment)
    assert got == expected
    assert len(got) == 60
    assert all(o.hour == 20 and o.utcoffset() == ZoneInfo(zone).utcoffset(o.replace(tzinfo=None)) for o in got)


def test_known_patch_tuesdays():
    rule = parse_window_rule("Patch Tuesday, 10:00 for 1h")
    days = [o.start.date() for o in occurrences("G", rule, "UTC", START, datetime(2027, 1, 1, tzinfo=UTC))]
    assert days[:3] == [date(2026, 1, 13), date(2026, 2, 10), date(2026, 3, 10)]
    assert date(2026, 12, 8) in days


def test_a_start_that_does_not_exist_moves_to_the_first_valid_minute_after_it():
    rule = parse_window_rule("2nd Sunday, 02:30 for 1h")  # US clocks go forward on 14 March 2027 at 02:00
    (spring,) = occurrences(
        "G", rule, "America/New_York", datetime(2027, 3, 1, tzinfo=UTC), datetime(2027, 4, 1, tzinfo=UTC)
    )
    assert spring.start.strftime("%Y-%m-%d %H:%M %Z") == "2027-03-14 03:00 EDT"
    assert spring.end - spring.start == timedelta(hours=1)


def test_a_start_that_happens_twice_happens_once_at_the_first():
    rule = parse_window_rule("1st Sunday, 01:30 for 1h")  # US clocks go back on 7 November 2027 at 02:00
    found = list(
        occurrences(
            "G", rule, "America/New_York", datetime(2027, 11, 1, tzinfo=UTC), datetime(2027, 11, 30, tzinfo=UTC)
        )
    )
    assert [o.start.strftime("%Y-%m-%d %H:%M %Z") for o in found] == ["2027-11-07 01:30 EDT"]


def test_london_and_sydney_dst_days():
    london = parse_window_rule("last Sunday, 01:30 for 1h")  # UK goes forward 28 March 2027 at 01:00
    (start,) = occurrences(
        "G", london, "Europe/London", datetime(2027, 3, 1, tzinfo=UTC), datetime(2027, 4, 1, tzinfo=UTC)
    )
    assert start.start.strftime("%H:%M %Z") == "02:00 BST"
    sydney = parse_window_rule("1st Sunday, 02:15 for 1h")  # Sydney goes back 4 April 2027 at 03:00 -> 02:00
    (start,) = occurrences(
        "G", sydney, "Australia/Sydney", datetime(2027, 4, 1, tzinfo=UTC), datetime(2027, 4, 30, tzinfo=UTC)
    )
    assert start.start.strftime("%H:%M %Z") == "02:15 AEDT"


def test_blackout_dates_skip_a_window_without_moving_it():
    rule = parse_window_rule("Weekly on Sun, Wed at 21:00 for 2h")
    now = datetime(2026, 11, 26, tzinfo=UTC)
    found = next_occurrences("G", rule, "Europe/London", now, 3, ["2026-11-29", "2026-12-02..2026-12-03"])
    assert [o.start.date() for o in found] == [date(2026, 12, 6), date(2026, 12, 9), date(2026, 12, 13)]


def test_month_ends_and_an_offset_into_the_next_month():
    rule = parse_window_rule("last Friday + 3 days, 22:00 for 4h")
    found = list(occurrences("G", rule, "UTC", datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 4, 1, tzinfo=UTC)))
    assert [o.start.date() for o in found] == [date(2026, 2, 2), date(2026, 3, 2), date(2026, 3, 30)]


def test_a_window_under_way_is_still_next():
    rule = parse_window_rule("Patch Tuesday, 20:00 for 4h")
    during = datetime(2026, 12, 8, 21, 0, tzinfo=ZoneInfo("UTC"))
    (current,) = next_occurrences("G", rule, "UTC", during, 1)
    assert current.start == datetime(2026, 12, 8, 20, 0, tzinfo=ZoneInfo("UTC"))
