"""Shared set-up for the benchmarks: the real bot behind waitress, the loopback fake Slack, a SQLite file."""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

from sqlmodel import Session

from bot.kernel.clock import ManualClock
from storage.db import Database
from storage.models import Client, Draft, PolicyVersion
from tests.support.fake_slack import FakeSlack
from tests.support.policies import recommended_answers
from tests.support.slack_driver import BotUnderTest

START = datetime(2026, 11, 26, 9, tzinfo=UTC)


def environment(name: str) -> tuple[FakeSlack, BotUnderTest, ManualClock]:
    clock = ManualClock(START)
    fake = FakeSlack(clock).start()
    fake.add_user("UTECH", "Tess Tech", tz="America/New_York")
    fake.add_channel("C0ACME", "acme-patching")
    folder = Path(tempfile.mkdtemp(prefix=f"pp-bench-{name}-"))
    return fake, BotUnderTest(fake, f"sqlite:///{folder / 'bench.db'}", clock), clock


def seed_clients(db: Database, count: int, first_name: str = "Acme") -> None:
    """`count` clients, each with a published version of the recommended policy (rows written directly)."""
    answers = recommended_answers()
    with Session(db.engine) as session:
        for index in range(count):
            name = first_name if index == 0 else f"Client {index:05d}"
            client = Client(
                key=name.casefold(),
                name=name,
                timezone="America/New_York",
                channel_id="C0ACME",
                channel_name="acme-patching",
                created_by="UTECH",
                created_at=START,
                published_version=1,
            )
            session.add(client)
            session.flush()
            draft = Draft(client_id=client.id, owner_id="UTECH", status="published", created_at=START, updated_at=START)
            session.add(draft)
            session.flush()
            session.add(
                PolicyVersion(
                    client_id=client.id,
                    version=1,
                    draft_id=draft.id,
                    answers={**answers, "client.name": name},
                    markdown="",
                    published_by="UTECH",
                    published_by_name="Tess Tech",
                    published_at=START,
                    channel_id="C0ACME",
                    posted_at=START,
                    message_ts="1.1",
                    permalink="https://fake/p",
                )
            )
        session.commit()


def timed(action: Callable[[], object], runs: int, concurrency: int = 1) -> list[float]:
    """Latencies in milliseconds of `runs` calls, `concurrency` at a time."""

    def one(_: int) -> float:
        begin = time.perf_counter()
        action()
        return (time.perf_counter() - begin) * 1000

    if concurrency == 1:
        return [one(i) for i in range(runs)]
    with ThreadPoolExecutor(concurrency) as pool:
        return list(pool.map(one, range(runs)))


def percentiles(samples: list[float]) -> dict[str, float]:
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return {"p50": round(cuts[49], 2), "p95": round(cuts[94], 2), "p99": round(cuts[98], 2)}
