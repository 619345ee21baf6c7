"""The compliance check: worst cases against each framework's deadline, and where the verdicts show."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime

import pytest

from bot.policy.compliance import check
from bot.policy.model import Policy
from tests.support.policies import recommended_answers
from tests.support.questionnaire import finish, live_prompt, question_id
from tests.support.slack_driver import message_text

NOW = datetime(2026, 11, 26, 9, tzinfo=UTC)
ALL = "cyber_essentials, pci_dss, essential_eight, cis_ig1"

CASES = [
    # (case, answers typed over the recommendations, framework, None for pass or text every breach line shows)
    ("recommended: Cyber Essentials", {"client.compliance": ALL}, "cyber_essentials", None),
    ("recommended: PCI DSS", {"client.compliance": ALL}, "pci_dss", None),
    ("recommended: Essential Eight ML1", {"client.compliance": ALL}, "essential_eight", None),
    ("recommended: CIS IG1", {"client.compliance": ALL}, "cis_ig1", None),
    ("recommended: CISA 3 days", {"client.compliance": ALL}, "cisa_kev", None),
    (
        "7-day approval delay misses Servers' window",
        {"client.compliance": "cyber_essentials", "approval.security.mode": "delayed", "approval.delay_days": "7"},
        "cyber_essentials",
        "Servers, Critical and High severity: up to 41 days after release (a 7-day approval delay",
    ),
    (
        "monthly third-party trap",
        {"client.compliance": "cyber_essentials", "approval.third_party_deploy": "group_window"},
        "cyber_essentials",
        "(third-party apps): up to 35 days after release",
    ),
    (
        "third-party weekly passes",
        {"client.compliance": "cyber_essentials", "approval.third_party_deploy": "weekly"},
        "cyber_essentials",
        None,
    ),
    (
        "unrated updates as Medium",
        {"client.compliance": "cyber_essentials", "sla.unrated": "medium"},
        "cyber_essentials",
        "updates with no severity rating are not treated as High",
    ),
    (
        "security updates on request",
        {"client.compliance": "cyber_essentials", "approval.security.mode": "on_request"},
        "cyber_essentials",
        "no time limit",
    ),
    (
        "security updates not deployed",
        {"client.compliance": "cyber_essentials", "approval.types": "cumulative"},
        "cyber_essentials",
        "security updates are never deployed",
    ),
    (
        "Servers at Patch Tuesday + 20",
        {"client.compliance": "cyber_essentials", "windows.servers.rule": "Patch Tuesday + 20 days, 22:00 for 4h"},
        "cyber_essentials",
        "Servers, Critical and High severity: up to 21 days",
    ),
    (
        "weekly windows with a 3-day delay pass",
        {
            "client.compliance": "cyber_essentials",
            "approval.security.mode": "delayed",
            "approval.delay_days": "3",
            "windows.pilot.rule": "Weekly on Mon at 20:00 for 4h",
            "windows.workstations.rule": "Weekly on Wed at 20:00 for 4h",
            "windows.servers.rule": "Weekly on Sat at 22:00 for 4h",
            "approval.third_party_deploy": "group_window",
        },
        "cyber_essentials",
        None,
    ),
    (
        "E8 ML1: 4h triage + 48h deploy",
        {"client.compliance": "essential_eight", "oob.deploy_time": "48h"},
        "essential_eight",
        "(out-of-band): up to 52 hours after release",
    ),
    (
        "E8 ML2 passes like ML1",
        {"client.compliance": "essential_eight", "client.e8_level": "ml2"},
        "essential_eight",
        None,
    ),
    (
        "E8 ML3: critical in 48 hours",
        {"client.compliance": "essential_eight", "client.e8_level": "ml3"},
        "essential_eight",
        "Critical severity: up to",
    ),
    (
        "E8 ML1: two weeks for Servers at Patch Tuesday + 20",
        {"client.compliance": "essential_eight", "windows.servers.rule": "Patch Tuesday + 20 days, 22:00 for 4h"},
        "essential_eight",
        "Essential Eight allows 14 days",
    ),
    (
        "PCI: 7-day delay exceeds one month",
        {"client.compliance": "pci_dss", "approval.security.mode": "delayed", "approval.delay_days": "7"},
        "pci_dss",
        "PCI DSS 4.0.1 allows 30 days",
    ),
    (
        "PCI: Servers at Patch Tuesday + 20 is within a month",
        {"client.compliance": "pci_dss", "windows.servers.rule": "Patch Tuesday + 20 days, 22:00 for 4h"},
        "pci_dss",
        None,
    ),
    (
        "PCI: monthly third-party trap",
        {"client.compliance": "pci_dss", "approval.third_party_deploy": "group_window"},
        "pci_dss",
        "PCI DSS 4.0.1 allows 30 days",
    ),
    (
        "CIS: a blacked-out December",
        {"client.compliance": "cis_ig1", "windows.servers.blackouts": "2026-12-01..2026-12-31"},
        "cis_ig1",
        "Servers: no window in 2026-12",
    ),
    (
        "CIS: weekly windows pass",
        {"client.compliance": "cis_ig2", "windows.pilot.rule": "weekly sun 20:00 2h"},
        "cis_ig2",
        None,
    ),
    (
        "CISA: 24h triage + 72h deploy",
        {
            "client.compliance": "cyber_essentials",
            "sla.emergency": "5d",
            "oob.triage_time": "24h",
            "oob.deploy_time": "72h",
        },
        "cisa_kev",
        "up to 4 days after release",
    ),
    ("HIPAA with six years of evidence", {"client.compliance": "hipaa", "audit.retention_months": "72"}, "hipaa", None),
    (
        "E8 ML1 emergency path fast enough",
        {"client.compliance": "essential_eight", "oob.triage_time": "2h", "oob.deploy_time": "46h"},
        "essential_eight",
        None,
    ),
]


@pytest.mark.parametrize(("case", "overrides", "framework", "expected"), CASES, ids=[c[0] for c in CASES])
def test_verdicts(case, overrides, framework, expected):
    verdicts = {v.framework: v for v in check(Policy(recommended_answers(overrides)), NOW)}
    verdict = verdicts[framework]
    if expected is None:
        assert verdict.passed, verdict.breaches
    else:
        assert not verdict.passed
        assert any(expected in breach for breach in verdict.breaches), verdict.breaches
        assert all("Change: " in breach for breach in verdict.breaches)


def test_no_framework_means_no_verdicts():
    assert check(Policy(recommended_answers({"client.compliance": "none"})), NOW) == []


def test_check_in_slack_and_in_the_sop_and_overview(bot, fake):
    finish(bot, fake, answers={"client.compliance": "1"})  # Cyber Essentials only
    bot.click(fake.last_post("DUTECH"), "pp.publish")
    verdict = message_text(bot.command("check acme").json())
    assert "Acme (v1): compliance check" in verdict and "*Cyber Essentials* · pass" in verdict
    overview = message_text(fake.posts("C0ACME")[0])
    assert "Compliance check:\n• Cyber Essentials: pass." in overview
    thread = "\n".join(message_text(m) for m in fake.posts("C0ACME")[1:])
    assert "• Cyber Essentials: pass." in thread


def test_a_breaking_answer_is_flagged_at_once_and_can_be_kept(bot, fake):
    bot.command("new Acme", channel="C0ACME", channel_name="acme-patching")
    for _ in range(100):
        prompt = live_prompt(fake)
        qid = question_id(prompt)
        if qid == "approval.third_party_deploy":
            bot.click(prompt, "pp.choice", label="In the group's patch window")
            break
        bot.click(prompt, "pp.recommended")
    warning = [m for m in fake.posts("DUTECH") if "breaks a chosen framework" in m["text"]]
    assert len(warning) == 1
    assert "Cyber Essentials: Pilot, Critical and High severity (third-party apps): up to 35 days" in warning[0]["text"]
    assert question_id(live_prompt(fake)) == "sla.source"  # kept, and the questionnaire went on


def test_the_cli_check_exits_non_zero_on_a_breach(tmp_path, bot, fake, db_url):
    finish(bot, fake, answers={"client.compliance": "1", "approval.third_party_deploy": "1"})
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLACK_")} | {"DATABASE_URL": db_url}
    done = subprocess.run(
        [sys.executable, "-m", "bot", "check", "acme"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1, done.stderr
    assert "Acme (the draft): compliance check" in done.stdout
    assert "- Cyber Essentials: Pilot, Critical and High severity (third-party apps)" in done.stdout
    missing = subprocess.run(
        [sys.executable, "-m", "bot", "check", "globex"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert missing.returncode == 2 and "I don't know a client called 'globex'" in missing.stderr
