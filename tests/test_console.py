"""The console, end to end: a real process, piped stdin, the same SQLite file."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from storage.db import Database
from tests.support.questionnaire import stored_answers

ROOT = Path(__file__).resolve().parent.parent


def run_console(tmp_path: Path, script: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLACK_")}
    env.update(DATABASE_URL=f"sqlite:///{tmp_path / 'console.db'}", CONSOLE_USER="tess", TZ="")
    done = subprocess.run(
        [sys.executable, "-m", "bot"], input=script, capture_output=True, text=True, cwd=tmp_path, env=env, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_a_scripted_console_session_writes_a_complete_policy(tmp_path):
    # An empty line takes the recommendation; `rest` takes the rest of a section.
    script = "\n".join(
        [
            "/patchpolicy new Acme",
            "",  # client name: Acme
            "Europe/Lodnon",  # a typo
            "Europe/London",
            "@tess",
            "Jo Bloggs, IT manager",
            "",  # channel: #acme-patching
            "1, 3",  # Cyber Essentials, Essential Eight
            "2",  # maturity level 2
            "rest",
            *["rest"] * 12,
            "edit 1",
            "Acme Ltd",
            "finish",
        ]
    )
    out = run_console(tmp_path, script + "\n")

    assert "Did you mean Europe/London?" in out
    assert "Acme · Client and document - 1 of" in out
    assert "== Acme: Summary ==" in out
    assert "Acme Ltd's policy is complete" in out
    assert out.rstrip().endswith("Bye. Your answers are saved.")
    answers = stored_answers(Database(f"sqlite:///{tmp_path / 'console.db'}"), status="complete")
    assert answers["client.name"] == "Acme Ltd"
    assert answers["client.timezone"] == "Europe/London"
    assert answers["client.owner"] == [{"id": "@tess", "name": "tess"}]
    assert answers["client.channel"] == {"id": "#acme-patching", "name": "acme-patching"}
    assert answers["client.compliance"] == ["cyber_essentials", "essential_eight"]
    assert answers["client.e8_level"] == "ml2"
    assert answers["windows.servers.rule"]["offset_days"] == 5


def test_the_console_resumes_after_a_restart_and_ends_cleanly_at_eof(tmp_path):
    run_console(tmp_path, "/patchpolicy new Globex\n\nAsia/Tokyo\n")
    out = run_console(tmp_path, "/patchpolicy resume\n")
    assert "Picking up Globex's policy where you left off." in out
    assert "Who at your MSP owns this SOP?" in out
    out = run_console(tmp_path, "/patchpolicy new globex\nresume\n")
    assert "Globex already has an open draft (question 3 of" in out
    assert out.count("Who at your MSP owns this SOP?") == 1


def test_help_and_an_unknown_command_in_the_console(tmp_path):
    out = run_console(tmp_path, "/patchpolicy\n/patchpolicy wibble\nhello\n")
    assert "/patchpolicy new <client>" in out
    assert "I don't know `wibble`" in out
    assert "You have no policy in progress" in out
