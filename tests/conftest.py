"""Fixtures: a fake Slack on loopback, a real SQLite file per test, the real bot between them."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.kernel.clock import ManualClock
from tests.support.fake_slack import FakeSlack
from tests.support.slack_driver import BotUnderTest

# No test reads the public threat feeds: the feed tests point KEV_URL and MSRC_URL at their own server, and
# every bot and command started here (in this process or a child) has them off unless a test says otherwise.
os.environ["KEV_URL"] = ""
os.environ["MSRC_URL"] = ""


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime(2026, 11, 26, 9, 0, tzinfo=UTC))


@pytest.fixture
def fake(clock: ManualClock) -> Iterator[FakeSlack]:
    slack = FakeSlack(clock).start()
    slack.add_user("UTECH", "Tess Tech", tz="America/New_York")
    slack.add_user("UOTHER", "Otto Other", tz="Europe/London")
    slack.add_channel("C0GENERAL", "general")
    slack.add_channel("C0ACME", "acme-patching")
    yield slack
    slack.stop()


@pytest.fixture(scope="session")
def postgres() -> Iterator[object]:
    """A real PostgreSQL server for the session (pgserver runs one from a wheel; no system install)."""
    import tempfile

    import pgserver

    server = pgserver.get_server(tempfile.mkdtemp(prefix="pp-pg-"), cleanup_mode="stop")
    # A test server: nothing in it must outlive the machine, so it skips flushing to disk (what PostgreSQL's
    # own documentation suggests for throwaway data). Each test's CREATE DATABASE and migrations then cost
    # CPU, not disk waits.
    for setting in ("fsync = off", "synchronous_commit = off", "full_page_writes = off"):
        server.psql(f"ALTER SYSTEM SET {setting};")
    server.psql("SELECT pg_reload_conf();")
    yield server


@pytest.fixture
def db_url(tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """A fresh database per test: a SQLite file, or with PATCHPOLICY_TEST_DB=postgres a new PostgreSQL database."""
    if os.environ.get("PATCHPOLICY_TEST_DB") != "postgres":
        return f"sqlite:///{tmp_path / 'patchpolicy.db'}"
    server = request.getfixturevalue("postgres")
    name = f"t_{uuid.uuid4().hex[:12]}"
    server.psql(f"CREATE DATABASE {name};")
    socket_dir = server.get_uri().split("host=", 1)[1]
    return f"postgresql+psycopg://postgres@/{name}?host={socket_dir}"


@pytest.fixture
def make_bot(fake: FakeSlack, db_url: str, clock: ManualClock) -> Iterator[Callable[..., BotUnderTest]]:
    """Start a bot on the test's fake Slack, database and clock (another replica, or the same after a restart);
    every bot started is stopped at the end."""
    started: list[BotUnderTest] = []

    def start(**options: Any) -> BotUnderTest:
        started.append(BotUnderTest(fake, db_url, clock, **options))
        return started[-1]

    yield start
    for running in started:
        running.stop()


@pytest.fixture
def bot(make_bot: Callable[..., BotUnderTest]) -> BotUnderTest:
    return make_bot()
