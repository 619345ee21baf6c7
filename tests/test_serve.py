"""`patchpolicy serve` as a real process: token checks at start, HTTP mode on PORT."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.support.bot_process import free_port
from tests.support.fake_slack import TOKEN

pytestmark = pytest.mark.slow  # real processes, loads or restarts: `-m "not slow"` skips them


def env_for(tmp_path: Path, fake_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLACK_")}
    env.update(DATABASE_URL=f"sqlite:///{tmp_path / 'serve.db'}", SLACK_API_URL=fake_url, **extra)
    return env


def test_serve_without_a_token_explains_what_to_set(tmp_path, fake):
    done = subprocess.run(
        [sys.executable, "-m", "handlers", "serve"],
        env=env_for(tmp_path, fake.url),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "SLACK_BOT_TOKEN is not set" in done.stderr


def test_serve_with_a_token_slack_refuses_exits_with_a_clear_message(tmp_path, fake):
    env = env_for(tmp_path, fake.url, SLACK_BOT_TOKEN="xoxb-wrong", SLACK_SIGNING_SECRET="s3cret-value")
    done = subprocess.run(
        [sys.executable, "-m", "handlers", "serve"], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2
    assert "Slack did not accept SLACK_BOT_TOKEN" in done.stderr
    assert "xoxb-wrong" not in done.stderr + done.stdout and "s3cret-value" not in done.stderr + done.stdout


def serve_until_healthy(tmp_path: Path, fake) -> tuple[dict | None, list[str], str]:
    """Start `patchpolicy` in HTTP mode, wait for /healthz, stop it: (health body, Slack calls made, output)."""
    port = free_port()
    env = env_for(
        tmp_path,
        fake.url,
        SLACK_BOT_TOKEN=TOKEN,
        SLACK_SIGNING_SECRET="s3cret-value",
        PORT=str(port),
        HOST="127.0.0.1",
        LOG_LEVEL="DEBUG",
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "handlers"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        body = None
        for _ in range(200):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as response:
                    body = json.loads(response.read())
                    break
            except OSError:
                time.sleep(0.05)
        fake.wait_for("users.list", 1)  # the people cache loads in the background
        calls = sorted(c.method for c in fake.calls)
    finally:
        process.terminate()
        output = process.communicate(timeout=20)[0]
    return body, calls, output


STANDBY = {"status": "ok", "database": "ok", "integrity": "ok", "lease": "elsewhere", "scheduler": "standby"}


def test_serve_in_http_mode_answers_health_checks(tmp_path, fake):
    """With its worker processes (one per core by default) the serving process leaves the scheduler to them."""
    body, calls, output = serve_until_healthy(tmp_path, fake)
    assert body == STANDBY
    # Bolt's token check, the granted-scopes check, the people cache: nothing else until a request comes
    assert calls == ["auth.test", "auth.test", "users.list"]
    assert TOKEN not in output and "s3cret-value" not in output
    assert "scopes missing" not in output


def test_serve_names_the_scopes_an_install_from_an_older_manifest_lacks(tmp_path, fake):
    fake.scopes -= {"channels:history", "groups:history", "channels:join", "usergroups:read"}
    body, _calls, output = serve_until_healthy(tmp_path, fake)
    assert body == STANDBY
    (line,) = [line for line in output.splitlines() if "scopes missing" in line]
    assert "channels:history, channels:join, groups:history, usergroups:read." in line
    assert "Reinstall PatchPolicy from the updated manifest.yml" in line
