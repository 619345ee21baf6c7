"""The compliance check: worst cases against each framework's deadline, and where the verdicts show."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import yaml

from tests.support.policies import recommended_answers
from tests.support.questionnaire import finish, live_prompt, question_id
from tests.support.slack_driver import message_text


def run_cli(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SLACK_")} | (env or {})
    return subprocess.run(
        [sys.executable, "-m", "bot", *args], env=clean, cwd=cwd, capture_output=True, text=True, timeout=60
    )


def policy_file(tmp_path: Path, overrides: dict[str, str]) -> Path:
    path = tmp_path / "acme.yaml"
    path.write_text(yaml.safe_dump({"kind": "client", "name": "Acme", "answers": recommended_answers(overrides)}))
    return path


def test_check_in_slack_and_in_the_sop_and_overview(bot, fake):
    finish(bot, fake, answers={"client.compliance": "1"})  # Cyber Essentials only
    bot.click(fake.last_post("DUTECH"), "pp.publish")
    verdict = message_text(bot.command("check acme").json())
    assert "Acme (v1): compliance check" in verdict and "*Cyber Essentials* · pass" in verdict
    overview = message_text(fake.posts("C0ACME")[0])
    assert "Compliance check:\n• Pass: Cyber Essentials." in overview
    thread = "\n".join(message_text(m) for m in fake.posts("C0ACME")[1:])
    assert "• Pass: Cyber Essentials." in thread


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
    assert "Breach: Cyber Essentials: Pilot, third-party apps: up to 35 days" in warning[0]["text"]
    assert question_id(live_prompt(fake)) == "approval.off_cycle_deploy"  # kept, and the questionnaire went on


def test_the_cli_check_exits_non_zero_on_a_breach(tmp_path, bot, fake, db_url):
    finish(bot, fake, answers={"client.compliance": "1", "approval.third_party_deploy": "1"})
    done = run_cli("check", "acme", cwd=tmp_path, env={"DATABASE_URL": db_url})
    assert done.returncode == 1, done.stderr
    assert "Acme (the draft): compliance check" in done.stdout
    assert "- Breach: Cyber Essentials: Pilot, third-party apps: up to 35 days" in done.stdout
    missing = run_cli("check", "globex", cwd=tmp_path, env={"DATABASE_URL": db_url})
    assert missing.returncode == 2 and "I don't know a client called 'globex'" in missing.stderr


def test_check_of_a_file_exits_on_breaches_of_chosen_frameworks_only(tmp_path):
    advice_only = policy_file(tmp_path, {"client.compliance": "cis_ig1", "oob.triggers": "client_request"})
    done = run_cli("check", str(advice_only), cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "- Pass: CIS Controls v8 IG1." in done.stdout
    assert "- Advice: CISA BOD 26-04 (binding on US federal agencies only): Servers" in done.stdout
    breached = policy_file(tmp_path, {"client.compliance": "cis_ig1, cisa_kev", "oob.triggers": "client_request"})
    done = run_cli("check", str(breached), cwd=tmp_path)
    assert done.returncode == 1 and "- Breach: CISA BOD 26-04: Servers" in done.stdout
    nothing = policy_file(tmp_path, {"client.compliance": "none", "oob.triggers": "client_request"})
    done = run_cli("check", str(nothing), cwd=tmp_path)
    assert done.returncode == 0 and "names no framework" in done.stdout and "- Advice: CISA" in done.stdout


def test_a_rendered_policy_file_carries_its_check(tmp_path):
    path = policy_file(tmp_path, {"client.compliance": "cyber_essentials", "sla.high": "21d"})
    done = run_cli("render", str(path), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "has not been run" not in done.stdout
    assert "Breach: Cyber Essentials: the SOP's own High deadline is 21 days" in done.stdout
