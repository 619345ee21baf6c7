"""The verdict table's runner: a policy of recommended answers with some typed over, checked at a fixed time.

Arithmetic in the tables' comments uses the recommended policy (client in America/New_York; Patch Tuesday
releases at 17:00 UTC, 12:00 EST): Pilot window Patch Tuesday + 1 day 20:00 for 4h, 32 hours after release;
promotion 2 days, so Workstations (Patch Tuesday + 3 days 20:00) start 80 hours after release and Servers
(Patch Tuesday + 5 days 22:00) 130 hours after; Workstations and Pilot reboot by a 24-hour forced reboot,
Servers only if required. Worst cases: Pilot 32+4+24 = 60 hours, Workstations 80+4+24 = 108 hours
(4 days 12 hours), Servers 130+4 = 134 hours (5 days 14 hours). Daily third-party and off-cycle delivery:
1 day (+ 24 hours of forced reboot for an OS update on Pilot and Workstations). Out of band: 4h + 44h.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bot.policy.compliance import Verdict, check
from bot.policy.model import Policy
from tests.support.policies import recommended_answers

NOW = datetime(2026, 11, 26, 9, tzinfo=UTC)
ALL = "cyber_essentials, pci_dss, essential_eight, cis_ig1"


def verdicts(overrides: dict[str, Any]) -> dict[str, Verdict]:
    return {v.framework: v for v in check(Policy(recommended_answers(overrides)), NOW)}


def assert_verdict(overrides: dict[str, Any], framework: str, expected: str, fragment: str | None) -> None:
    """`expected`: pass, breach (a chosen framework), advice (CISA not chosen), warning (own deadlines), or
    absent (no such verdict at all). Every gap line names a change; `fragment` must be in one of its lines."""
    found = verdicts(overrides).get(framework)
    if expected == "absent":
        assert found is None, found
        return
    assert found is not None, f"no verdict for {framework}"
    lines = found.lines()
    if expected == "pass":
        assert found.passed and found.binding, lines
        return
    assert not found.passed, lines
    assert found.kind == {"breach": "framework", "advice": "advice", "warning": "warning"}[expected]
    assert all(line.startswith(f"{expected.capitalize()}: ") for line in lines), lines
    assert all("Change: " in line for line in lines), lines
    if fragment is not None:
        assert any(fragment in line for line in lines), lines
