"""The verdict table, part 1 (issue 17, classes 1-3): answers that delay an update, Essential Eight by maturity
level and asset class, and releases off the Patch Tuesday cycle. Each verdict is derived from the framework's
sentence quoted in bot/policy/frameworks.yaml; the arithmetic (see tests/support/verdicts.py) is in the comment."""

from __future__ import annotations

import pytest

from tests.support.verdicts import ALL, assert_verdict

CE, E8, PCI, CIS = "cyber_essentials", "essential_eight", "pci_dss", "cis_ig1"
FACING = {"scope.internet_facing": "vpn.acme.example"}
E8_FACING = {"client.compliance": E8, **FACING}

# fmt: off
CASES = [
    # --- the recommended policy passes every framework it claims (domain.md) -----------------------------------
    # worst regular case 134h (Servers) <= 14 days; out of band 48h <= 72h; windows at most 35 days apart.
    ("recommended CE", {"client.compliance": ALL}, CE, "pass", None),
    ("recommended PCI", {"client.compliance": ALL}, PCI, "pass", None),
    ("recommended E8 ML1", {"client.compliance": ALL}, E8, "pass", None),
    ("recommended E8 ML2", {"client.compliance": E8, "client.e8_level": "ml2"}, E8, "pass", None),
    ("recommended CIS IG1", {"client.compliance": ALL}, CIS, "pass", None),
    ("recommended CIS IG2", {"client.compliance": "cis_ig2"}, "cis_ig2", "pass", None),
    ("recommended CIS IG3", {"client.compliance": "cis_ig3"}, "cis_ig3", "pass", None),
    # 4h triage + 44h deploy = 48h <= 72h.
    ("recommended CISA chosen", {"client.compliance": "cisa_kev"}, "cisa_kev", "pass", None),
    # E8 with an internet-facing system: kev + internet_facing_critical send it out of band, 48h <= 48h.
    ("recommended E8 with internet-facing", E8_FACING, E8, "pass", None),
    ("no framework, nothing to say", {"client.compliance": "none"}, CE, "absent", None),
    # --- class 1: answers the check used to ignore -------------------------------------------------------------
    # third-party approval 14 days + 1 day to the daily run = 15 days > 14 (CE: all software).
    ("third-party delay, CE", {"client.compliance": CE, "approval.third-party.mode": "delayed",
     "approval.delay_days": "14"}, CE, "breach", "third-party apps: up to 15 days after"),
    # the same 15 days > E8's two weeks for browsers, office, PDF and email.
    ("third-party delay, E8", {"client.compliance": E8, "approval.third-party.mode": "delayed",
     "approval.delay_days": "14"}, E8, "breach", "third-party apps: up to 15 days after"),
    # 15 days <= PCI's one month.
    ("third-party delay, PCI", {"client.compliance": PCI, "approval.third-party.mode": "delayed",
     "approval.delay_days": "14"}, PCI, "pass", None),
    # the SOP's own High deadline 21 days > 14.
    ("SLA High 21 days", {"client.compliance": CE, "sla.high": "21d"}, CE, "breach",
     "the SOP's own High deadline is 21 days"),
    # Critical 30 days > 14.
    ("SLA Critical and High 30 days", {"client.compliance": CE, "sla.critical": "30d", "sla.high": "30d"}, CE,
     "breach", "the SOP's own Critical deadline is 30 days"),
    # PCI's one month: a Critical deadline of 30 days is within it.
    ("SLA Critical 30 days, PCI", {"client.compliance": PCI, "sla.critical": "30d", "sla.high": "30d"}, PCI,
     "pass", None),
    # firmware in scope, never approved: no time limit; CE covers router and firewall firmware.
    ("firmware never", {"client.compliance": CE, "approval.firmware.mode": "never"}, CE, "breach",
     "network firmware: no time limit"),
    ("firmware on request", {"client.compliance": CE, "approval.firmware.mode": "on_request"}, CE, "breach",
     "firmware updates wait for a request"),
    ("firmware not a deployed type", {"client.compliance": CE, "approval.types": "security, third_party"}, CE,
     "breach", "firmware updates are not deployed"),
    # no network firmware in scope: nothing to measure.
    ("firmware never, not in scope", {"client.compliance": CE, "approval.firmware.mode": "never",
     "scope.device_classes": "windows_workstations, windows_servers, macos"}, CE, "pass", None),
    # only "client request" triggers: Workstations' regular path 108h > 48h.
    ("internet-facing, client request only", {**E8_FACING, "oob.triggers": "client_request"}, E8, "breach",
     'add the out-of-band trigger "Vendor critical on an internet-facing system"'),
    # no internet-facing system: the 48-hour rule does not apply; OS paths <= one month.
    ("client request only, nothing internet-facing", {"client.compliance": E8, "oob.triggers": "client_request"},
     E8, "pass", None),
    # vendor-critical covered, exploits not: Servers 134h > 48h.
    ("internet-facing, critical trigger only", {**E8_FACING, "oob.triggers": "internet_facing_critical"}, E8,
     "breach", '"CISA KEV listing of in-scope software"'),
    ("internet-facing, both triggers", {**E8_FACING, "oob.triggers": "kev, internet_facing_critical"}, E8,
     "pass", None),
    # Servers wait for the next window when they miss theirs: 134h + 35 days = 40 days 14 hours > 14.
    ("missed window waits, CE", {"client.compliance": CE, "windows.servers.missed": "next_window"}, CE, "breach",
     "Servers, Patch Tuesday OS updates: up to 40 days"),
    ("missed window waits, PCI", {"client.compliance": PCI, "windows.servers.missed": "next_window"}, PCI,
     "breach", "install on Servers devices that missed their window as soon as they are online"),
    # a reboot that never comes: the update is not in effect (CE: "changes required to make it effective").
    ("workstations never reboot", {"client.compliance": CE, "deployment.workstations.reboot": "never"}, CE,
     "breach", "Workstations devices never reboot"),
    ("servers never reboot, PCI", {"client.compliance": PCI, "deployment.servers.reboot": "never"}, PCI,
     "breach", "reboot Servers devices when an update needs it"),
    # forced reboot 72h: Workstations 80+4+72 = 156h = 6 days 12 hours <= 14 days.
    ("forced reboot 72h", {"client.compliance": CE, "deployment.forced_reboot": "72h"}, CE, "pass", None),
    ("excluded device, CE", {"client.compliance": CE, "scope.exclusions": "LATHE-PC - vendor forbids updates"},
     CE, "breach", "1 in-scope device(s) excluded from patching (LATHE-PC - vendor forbids updates)"),
    ("excluded device, CIS", {"client.compliance": CIS, "scope.exclusions": "LATHE-PC - vendor"}, CIS, "breach",
     "excluded from patching"),
    ("excluded device, HIPAA", {"client.compliance": "hipaa", "scope.exclusions": "LATHE-PC - vendor",
     "audit.retention_months": "72"}, "hipaa", "pass", None),
    ("clock at detection, CE", {"client.compliance": CE, "sla.clock_start": "detection"}, CE, "breach",
     "start the clock at the vendor's release"),
    ("clock at detection, E8", {"client.compliance": E8, "sla.clock_start": "detection"}, E8, "breach",
     "counts from its release"),
    ("clock at detection, PCI", {"client.compliance": PCI, "sla.clock_start": "detection"}, PCI, "breach", None),
    ("clock at detection, CIS", {"client.compliance": CIS, "sla.clock_start": "detection"}, CIS, "pass", None),
    ("technician deploys, CIS", {"client.compliance": CIS, "deployment.who": "technician"}, CIS, "breach",
     "automated patch management"),
    ("technician deploys, CE", {"client.compliance": CE, "deployment.who": "technician"}, CE, "pass", None),
    ("mixed deployment, CIS", {"client.compliance": CIS, "deployment.who": "mixed"}, CIS, "pass", None),
    ("security on request, CIS", {"client.compliance": CIS, "approval.security.mode": "on_request"}, CIS,
     "breach", "operating system security updates are not approved automatically"),
    ("third-party on request, CIS", {"client.compliance": CIS, "approval.third-party.mode": "on_request"}, CIS,
     "breach", "7.4 asks for automated application updates"),
    ("unrated as Medium, CE", {"client.compliance": CE, "sla.unrated": "medium"}, CE, "breach",
     "updates with no severity rating are not treated as High"),
    # --- class 2: Essential Eight by maturity level and asset class ---------------------------------------
    # Workstations at Patch Tuesday + 20: 80h + 17 days + 4h + 24h = 21 days 12 hours <= one month (ML1, ML2).
    ("E8 ML1 workstation OS in a month", {"client.compliance": E8,
     "windows.workstations.rule": "Patch Tuesday + 20 days, 20:00 for 4h"}, E8, "pass", None),
    ("E8 ML2 workstation OS in a month", {"client.compliance": E8, "client.e8_level": "ml2",
     "windows.workstations.rule": "Patch Tuesday + 20 days, 20:00 for 4h"}, E8, "pass", None),
    # ML3: two weeks for those operating systems; 21 days 12 hours > 14 days.
    ("E8 ML3 workstation OS in two weeks", {"client.compliance": E8, "client.e8_level": "ml3",
     "windows.workstations.rule": "Patch Tuesday + 20 days, 20:00 for 4h"}, E8, "breach",
     "Workstations, Patch Tuesday OS updates: up to 21 days 12 hours"),
    # Servers at Patch Tuesday + 20 with no internet-facing system: 80h + 17d 2h + 4h = 20 days 14 hours.
    ("E8 ML1 internal servers", {"client.compliance": E8,
     "windows.servers.rule": "Patch Tuesday + 20 days, 22:00 for 4h"}, E8, "pass", None),
    # ... with an internet-facing system, two weeks apply: 20 days 14 hours > 14 days.
    ("E8 ML1 internet-facing servers", {**E8_FACING, "windows.servers.rule": "Patch Tuesday + 20 days, 22:00 for 4h"},
     E8, "breach", "Servers, Patch Tuesday OS updates: up to 20 days 14 hours"),
    # third-party weekly: 7 days + 4h <= two weeks.
    ("E8 ML1 apps weekly", {"client.compliance": E8, "approval.third_party_deploy": "weekly"}, E8, "pass", None),
    # third-party in the monthly window: up to 35 days between two windows + 4h > two weeks.
    ("E8 ML1 apps monthly", {"client.compliance": E8, "approval.third_party_deploy": "group_window"}, E8, "breach",
     "third-party apps: up to 35 days"),
    # ML2 adds one month for other applications: 35 days 4 hours > 30 days too.
    ("E8 ML2 apps monthly", {"client.compliance": E8, "client.e8_level": "ml2",
     "approval.third_party_deploy": "group_window"}, E8, "breach", "other applications"),
    # ML3, 48 hours when vendor-critical: Workstations 108h = 4 days 12 hours; no trigger covers an internal
    # critical update, and a window behind a 32-hour pilot and 2 days of promotion cannot reach it.
    ("E8 ML3 critical in 48 hours", {"client.compliance": E8, "client.e8_level": "ml3"}, E8, "breach",
     "Workstations, Patch Tuesday OS updates: up to 4 days 12 hours after release; Essential Eight ML3 allows "
     "48 hours for operating systems and common applications, when vendor-critical or a working exploit exists. "
     "Why: 32 hours until the pilot window + 2 days of promotion + a window of 4 hours + up to 24 hours until the "
     "forced reboot. Change: send these updates out of band"),
    # Pilot: 32h wait + 4h + 24h = 60h; moving its window to Patch Tuesday evening leaves 8+4+24 = 36h.
    ("E8 ML3 pilot can move", {"client.compliance": E8, "client.e8_level": "ml3"}, E8, "breach",
     "Pilot, Patch Tuesday OS updates: up to 60 hours"),
    ("E8 ML3 own Critical deadline", {"client.compliance": E8, "client.e8_level": "ml3"}, E8, "breach",
     "the SOP's own Critical deadline is 7 days"),
    # --- class 3: releases that are not on Patch Tuesday -------------------------------------------------------
    # macOS in scope, off-cycle releases wait for the group window: 35 days + 4h + 24h forced reboot.
    ("off-cycle in the window, CE", {"client.compliance": CE, "approval.off_cycle_deploy": "group_window"}, CE,
     "breach", "Workstations, off-cycle OS updates: up to 36 days"),
    ("off-cycle in the window, E8 ML1", {"client.compliance": E8, "approval.off_cycle_deploy": "group_window"}, E8,
     "breach", "off-cycle OS updates: up to 36 days"),
    ("off-cycle in the window, PCI", {"client.compliance": PCI, "approval.off_cycle_deploy": "group_window"}, PCI,
     "breach", "deploy off-cycle releases daily"),
    # weekly: 7 days + 4h + 24h = 8 days 4 hours <= 14 days.
    ("off-cycle weekly, CE", {"client.compliance": CE, "approval.off_cycle_deploy": "weekly"}, CE, "pass", None),
    # Windows only, no firmware: no off-cycle path at all.
    ("Windows only", {"client.compliance": CE, "scope.device_classes": "windows_workstations, windows_servers",
     "approval.third_party_deploy": "weekly"}, CE, "pass", None),
    # firmware follows the off-cycle answer: 35 days + 4h (no user reboot).
    ("firmware in the window", {"client.compliance": CE, "approval.off_cycle_deploy": "group_window",
     "scope.device_classes": "windows_workstations, windows_servers, network_firmware"}, CE, "breach",
     "network firmware: up to 35 days"),
]
# fmt: on


@pytest.mark.parametrize(("case", "overrides", "framework", "expected", "fragment"), CASES, ids=[c[0] for c in CASES])
def test_verdict(case, overrides, framework, expected, fragment):
    assert_verdict(overrides, framework, expected, fragment)
