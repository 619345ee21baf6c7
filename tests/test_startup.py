"""Start-up failures (issue 16, defects 8 and 9): each ends in one line naming the setting and what to do, status 2,
no traceback and nothing started; a damaged database is found before anything runs on it; Ctrl-C in the
console ends it quietly."""

from __future__ import annotations

import os
import resource
import select
import signal
import socket
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.bot_process import free_port
from tests.support.fake_slack import TOKEN
from tests.support.questionnaire import publish_and_stop
from tests.support.slack_driver import SIGNING_SECRET

pytestmark = pytest.mark.slow  # real processes

ROOT = Path(__file__).resolve().parent.parent


def start(
    tmp_path: Path, *args: str, preexec: Callable[[], None] | None = None, **env: str
) -> subprocess.CompletedProcess[str]:
    """`patchpolicy <args>` run to its end (`preexec`: limits set in the child before it starts)."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DATABASE_URL", "PORT"))}
    environment.update({"DATABASE_URL": f"sqlite:///{tmp_path / 'start.db'}", **env})
    return subprocess.run(
        [sys.executable, "-m", "handlers", *args],
        env=environment,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
        preexec_fn=preexec,
    )


def one_line(done: subprocess.CompletedProcess[str]) -> str:
    """The failure's own words: status 2, no traceback, one line on stderr (log lines of libraries aside)."""
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    ours = [line for line in done.stderr.splitlines() if line and not line[:4].isdigit()]  # not timestamped logs
    assert len(ours) == 1, done.stderr
    return ours[0]


def slack(fake_url: str, **extra: str) -> dict[str, str]:
    return {"SLACK_BOT_TOKEN": TOKEN, "SLACK_SIGNING_SECRET": SIGNING_SECRET, "SLACK_API_URL": fake_url, **extra}


def test_a_port_that_is_not_a_number(tmp_path, fake):
    line = one_line(start(tmp_path, "serve", **slack(fake.url, PORT="abc")))
    assert line.startswith("PORT is not valid: ") and "(got 'abc')" in line and line.endswith("environment.")


def test_a_database_url_that_is_not_one(tmp_path):
    line = one_line(start(tmp_path, "console", DATABASE_URL="nonsense-url"))
    assert line == "DATABASE_URL is not a database URL (nonsense-url). See .env.example."


def test_a_database_in_a_folder_that_does_not_exist(tmp_path):
    line = one_line(start(tmp_path, "console", DATABASE_URL=f"sqlite:///{tmp_path / 'missing' / 'x.db'}"))
    assert line.startswith("Can't open the database at DATABASE_URL=sqlite:///") and "folder exists" in line


def test_a_read_only_database(tmp_path):
    (tmp_path / "ro.db").touch()  # an empty database: start-up must write its schema
    url = f"sqlite:///file:{tmp_path / 'ro.db'}?mode=ro&uri=true"
    line = one_line(start(tmp_path, "console", DATABASE_URL=url))
    assert "read-only" in line and "make it writable" in line


def test_a_file_that_is_not_a_database(tmp_path):
    (tmp_path / "start.db").write_bytes(b"this is not SQLite" * 500)
    line = one_line(start(tmp_path, "console"))
    assert "damaged or not a PatchPolicy database" in line and "restore it from a backup" in line


def test_a_damaged_page_is_found_at_start_before_serving_or_the_console(bot, fake, db_url, tmp_path):
    if not db_url.startswith("sqlite"):
        pytest.skip("damages a SQLite file")
    publish_and_stop(bot, fake)
    path = Path(db_url.removeprefix("sqlite:///"))
    with sqlite3.connect(path) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        page_size = connection.execute("PRAGMA page_size").fetchone()[0]
        root = connection.execute("SELECT rootpage FROM sqlite_master WHERE name = 'policyversion'").fetchone()[0]
    with path.open("r+b") as file:  # one page of policyversion overwritten, as a bad disk block would
        file.seek((root - 1) * page_size)
        file.write(b"\xde\xad\xbe\xef" * (page_size // 4))
    calls = len(fake.calls)
    for command, env in (("serve", slack(fake.url, PORT=str(free_port()))), ("console", {})):
        line = one_line(start(tmp_path, command, DATABASE_URL=db_url, **env))
        assert "damaged" in line and "restore it from a backup" in line, line  # by the migration or the check
    assert [c.method for c in fake.calls[calls:]] == []  # nothing started, not even Slack's token check


def test_a_full_disk(tmp_path):
    """A file-size limit stands in for a full disk: SQLite's writes fail as they would on one."""

    def full_disk() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails instead of killing
        resource.setrlimit(resource.RLIMIT_FSIZE, (20_000, 20_000))

    done = start(tmp_path, "console", preexec=full_disk)
    line = one_line(done)
    assert line.startswith("Can't open the database at DATABASE_URL=") and "free some space" in line


def test_a_port_in_use_starts_nothing(tmp_path, fake):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        line = one_line(start(tmp_path, "serve", **slack(fake.url, PORT=str(port), HOST="127.0.0.1")))
    assert line.startswith(f"Can't listen on 127.0.0.1:{port} (") and line.endswith("Set PORT or HOST.")
    with sqlite3.connect(tmp_path / "start.db") as connection:  # the scheduler never started
        assert connection.execute("SELECT count(*) FROM schedulerlease").fetchone() == (0,)
    assert not fake.calls_to("users.list")  # nor the people cache


def test_an_unreachable_slack_api(tmp_path):
    url = f"http://127.0.0.1:{free_port()}/api/"
    line = one_line(start(tmp_path, "serve", SLACK_BOT_TOKEN=TOKEN, SLACK_SIGNING_SECRET="x", SLACK_API_URL=url))
    assert line.startswith(f"Can't reach Slack's Web API at {url} (") and line.endswith("or SLACK_API_URL.")


def test_ctrl_c_in_the_console_ends_it_quietly(tmp_path):
    environment = {k: v for k, v in os.environ.items() if not k.startswith("SLACK_")}
    environment["DATABASE_URL"] = f"sqlite:///{tmp_path / 'console.db'}"
    console = subprocess.Popen(
        [sys.executable, "-m", "bot", "console"],
        env=environment,
        cwd=tmp_path,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    ready, _, _ = select.select([console.stdout], [], [], 60)
    assert ready and console.stdout.readline().strip(), "the console did not greet"  # now waiting for a line
    console.send_signal(signal.SIGINT)
    out, err = console.communicate(timeout=20)
    assert console.returncode == 130
    assert "Traceback" not in out + err and "KeyboardInterrupt" not in out + err
