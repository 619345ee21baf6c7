"""The verdict table, part 2 (issue 17, classes 4-9): CIS cadence by the longest gap, CISA's rule as advice
unless chosen, numbers that never round down into a pass, true narratives, advice that can fix the breach,
verdict-first lines, and a policy that breaks its own deadlines. Arithmetic as in tests/support/verdicts.py."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.policy.worst_case import words
from tests.support.verdicts import ALL, assert_verdict, verdicts

CE, PCI, CIS, KEV, OWN = "cyber_essentials", "pci_dss", "cis_ig1", "cisa_kev", "own_deadlines"
NO_KEV = {"oob.triggers": "vendor_oob, cvss9_exploit, internet_facing_critical, client_request"}

# fmt: off
CASES = [
    # --- class 4: CIS by the longest gap between two chances to patch, not by calendar months -----------------
    # Patch Tuesday + 20: some windows fall in the next calendar month, but two are at most 35 days apart,
    # the same longest gap as the recommended Patch Tuesday + 5.
    ("CIS Patch Tuesday + 20", {"client.compliance": CIS,
     "windows.servers.rule": "Patch Tuesday + 20 days, 22:00 for 4h"}, CIS, "pass", None),
    # December blacked out: 15 Nov 22:00 to 17 Jan 22:00 (Patch Tuesday 12 Jan + 5) = 63 days > 35.
    ("CIS a blacked-out month", {"client.compliance": CIS, "windows.servers.blackouts": "2026-12-01..2026-12-31"},
     CIS, "breach", "Servers: up to 63 days between two windows"),
    ("CIS weekly windows", {"client.compliance": "cis_ig2", "windows.pilot.rule": "weekly sun 20:00 2h"}, "cis_ig2",
     "pass", None),
    # the 2nd Saturday: 28 or 35 days apart.
    ("CIS second Saturday", {"client.compliance": CIS, "windows.servers.rule": "2nd Saturday, 22:00 for 3h"}, CIS,
     "pass", None),
    # --- class 5: CISA BOD 26-04 binds US federal agencies; elsewhere it is advice -------------------------
    # without the KEV trigger a known exploited Servers update takes the regular 134h > 72h.
    ("CISA advice beside CE", {"client.compliance": CE, **NO_KEV}, KEV, "advice",
     'add the out-of-band trigger "CISA KEV listing of in-scope software"'),
    ("CE still passes beside the advice", {"client.compliance": CE, **NO_KEV}, CE, "pass", None),
    ("CISA advice with no framework", {"client.compliance": "none", **NO_KEV}, KEV, "advice", None),
    ("CISA advice beside CIS only", {"client.compliance": CIS, **NO_KEV}, KEV, "advice", None),
    ("CISA chosen, no KEV trigger", {"client.compliance": "cisa_kev", **NO_KEV}, KEV, "breach",
     "Servers, Patch Tuesday OS updates: up to 5 days 14 hours after release; CISA BOD 26-04 allows 72 hours"),
    # 24h + 72h = 96h = 4 days > 72 hours.
    ("CISA chosen, slow out of band", {"client.compliance": "cisa_kev", "sla.emergency": "5d",
     "oob.triage_time": "24h", "oob.deploy_time": "72h"}, KEV, "breach", "out-of-band updates: up to 4 days after"),
    ("no CISA advice when KEV is covered", {"client.compliance": CE}, KEV, "absent", None),
    # --- class 6: numbers that never hide a breach --------------------------------------------------------
    # 24h + 49h = 73h: shown as 73 hours against 72, not "3 days ... allows 3 days".
    ("73 hours is not 3 days", {"client.compliance": "cisa_kev", "sla.emergency": "4d", "oob.triage_time": "24h",
     "oob.deploy_time": "49h"}, KEV, "breach", "up to 73 hours after release; CISA BOD 26-04 allows 72 hours"),
    # third-party 7-day delay + a weekly window: 7d + 7d + 4h = 14 days 4 hours > 14 days.
    ("14 days 4 hours is not 14 days", {"client.compliance": CE, "approval.third-party.mode": "delayed",
     "approval.delay_days": "7", "approval.third_party_deploy": "weekly"}, CE, "breach",
     "third-party apps: up to 14 days 4 hours after release; Cyber Essentials allows 14 days"),
    # a 7-day delay: released Patch Tuesday, ready 7 days later, the Pilot's Patch Tuesday + 1 window is missed.
    ("the delay misses the window", {"client.compliance": CE, "approval.security.mode": "delayed",
     "approval.delay_days": "7"}, CE, "breach", "(the delay misses that month's window)"),
    # ... and the fix moves the window after the delay, not "closer to Patch Tuesday".
    ("the fix moves the window after the delay", {"client.compliance": CE, "approval.security.mode": "delayed",
     "approval.delay_days": "7"}, CE, "breach",
     "Change: move the Pilot window to Patch Tuesday + 7 days, when the update is ready for it."),
    ("Workstations wait for the pilot", {"client.compliance": CE, "approval.security.mode": "delayed",
     "approval.delay_days": "7"}, CE, "breach",
     "Change: move the pilot window to Patch Tuesday + 7 days, when the update is ready for it."),
    # Servers at Patch Tuesday + 20 for E8 with an internet-facing system: nothing missed, the window is late.
    ("a late window is moved earlier", {"client.compliance": "essential_eight", "scope.internet_facing": "vpn",
     "windows.servers.rule": "Patch Tuesday + 20 days, 22:00 for 4h"}, "essential_eight", "breach",
     "Change: move the Servers window to Patch Tuesday + 4 days, when the update is ready for it."),
    # --- class 9: the policy's own deadline table --------------------------------------------------------
    # Critical promised in 3 days, Servers take 134h = 5 days 14 hours.
    ("own Critical deadline", {"client.compliance": CE, "sla.critical": "3d"}, OWN, "warning",
     "Servers, Patch Tuesday OS updates: up to 5 days 14 hours after release, beyond the SOP's own deadlines "
     "(Critical 72 hours)"),
    # Emergency promised in 24 hours; out of band takes 4h + 24h = 28 hours.
    ("own Emergency deadline", {"client.compliance": CE, "sla.emergency": "24h", "oob.deploy_time": "24h"}, OWN,
     "warning", "out-of-band updates take up to 28 hours"),
    ("own deadlines kept", {"client.compliance": ALL}, OWN, "absent", None),
    ("own deadlines with no framework", {"client.compliance": "none", "sla.critical": "3d"}, OWN, "warning", None),
]
# fmt: on


@pytest.mark.parametrize(("case", "overrides", "framework", "expected", "fragment"), CASES, ids=[c[0] for c in CASES])
def test_verdict(case, overrides, framework, expected, fragment):
    assert_verdict(overrides, framework, expected, fragment)


@pytest.mark.parametrize(
    ("delta", "said"),
    [
        (timedelta(hours=73), "73 hours"),
        (timedelta(hours=72), "72 hours"),
        (timedelta(days=14, hours=10), "14 days 10 hours"),
        (timedelta(days=14, minutes=1), "14 days 1 hour"),  # rounded up, never down into a pass
        (timedelta(hours=95, minutes=1), "4 days"),
        (timedelta(days=4), "4 days"),
        (timedelta(hours=1), "1 hour"),
    ],
)
def test_durations_are_rounded_up_to_the_hour(delta, said):
    assert words(delta) == said


def test_every_line_leads_with_its_verdict():
    overrides = {
        "client.compliance": ALL,
        "sla.critical": "3d",
        "approval.third_party_deploy": "group_window",
        **NO_KEV,
    }
    found = verdicts(overrides)
    assert {v.kind for v in found.values()} == {"framework", "advice", "warning"}
    lines = [line for v in found.values() for line in v.lines()]
    heads = {line.split(":", 1)[0] for line in lines}
    assert heads == {"Pass", "Breach", "Advice", "Warning"}, lines
    assert "Pass: CIS Controls v8 IG1." in lines
    assert any(line.startswith("Breach: Cyber Essentials: Pilot, third-party apps: up to 35 days") for line in lines)
