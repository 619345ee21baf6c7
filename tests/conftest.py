"""Fixtures: a fake Slack on loopback, a real SQLite file per test, the real bot between them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.clock import ManualClock
from tests.fake_slack import FakeSlack
from tests.slack_driver import BotUnderTest


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


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'patchpolicy.db'}"


@pytest.fixture
def bot(fake: FakeSlack, db_url: str, clock: ManualClock) -> Iterator[BotUnderTest]:
    running = BotUnderTest(fake, db_url, clock)
    yield running
    running.stop()
