"""Two bot processes on one database (SQLite, or PostgreSQL with PATCHPOLICY_TEST_DB=postgres) post each
reminder once: the ledger's conditional claim decides, across real OS processes."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import col, select

from bot.kernel.clock import SystemClock
from bot.scheduling.reminders import STALE_CLAIM
from storage.models import Client, Reminder
from tests.support.questionnaire import finish
from tests.support.slack_driver import BotUnderTest

pytestmark = pytest.mark.slow  # real processes, loads or restarts: `-m "not slow"` skips them

ROOT = Path(__file__).resolve().parent.parent
COUNT = 120


def plant(bot: BotUnderTest, prefix: str, count: int) -> None:
    """`count` window reminders due now on the real clock, for windows still ahead."""
    now = datetime.now(UTC)  # the workers run on the real clock
    with bot.db.write() as session:
        client = session.exec(select(Client)).one()
        for i in range(count):
            session.add(
                Reminder(
                    client_id=client.id,
                    version=1,
                    group_name="Pilot",
                    occurrence=f"{prefix}-{i:03d}",
                    kind="start",
                    due_at=now - timedelta(minutes=1),
                    window_start=now + timedelta(hours=1),
                    window_end=now + timedelta(hours=5),
                )
            )


def worker(db_url: str, fake, name: str, shift: float = 0) -> subprocess.Popen[str]:
    """`tests.support.dispatch_worker` as its own OS process: dispatches until nothing is due."""
    args = [sys.executable, "-m", "tests.support.dispatch_worker", db_url, fake.url, name, str(shift)]
    return subprocess.Popen(args, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def posted_ids(fake) -> list[int]:
    return [
        m["metadata"]["event_payload"]["reminder_id"]
        for m in fake.posts("C0ACME")
        if (m.get("metadata") or {}).get("event_type") == "patchpolicy_reminder"
    ]


def test_two_processes_post_each_due_reminder_exactly_once(bot, fake, db_url):
    finish(bot, fake)
    bot.click(fake.last_post("DUTECH"), "pp.publish")
    plant(bot, "Pilot@replica-test", COUNT)
    bot.stop()  # only the two workers dispatch

    workers = [worker(db_url, fake, "replica-a"), worker(db_url, fake, "replica-b")]
    outputs = [w.communicate(timeout=120) for w in workers]
    assert all(w.returncode == 0 for w in workers), [err for _, err in outputs]
    sent = [int(out.strip()) for out, _ in outputs]

    posted = posted_ids(fake)
    assert sum(sent) == COUNT and len(posted) == COUNT and len(set(posted)) == COUNT
    with bot.db.read() as session:
        rows = session.exec(select(Reminder).where(Reminder.occurrence.startswith("Pilot@replica-test"))).all()
    assert {r.status for r in rows} == {"sent"}
    assert {r.claimed_by for r in rows} <= {"replica-a", "replica-b"}


def test_a_process_killed_mid_run_and_restarted_posts_each_reminder_once(bot, fake, db_url):
    """SIGKILL a dispatching process at random moments; the next one (after the stale-claim time) finishes."""
    finish(bot, fake)
    bot.click(fake.last_post("DUTECH"), "pp.publish")
    bot.stop()
    fake.post_delay = 0.01
    fake.clock = SystemClock()  # message timestamps on the workers' real clock, as Slack's are
    rng = random.Random(7)
    for round_no in range(3):
        plant(bot, f"Pilot@kill-{round_no}", 60)
        before = len(posted_ids(fake))
        first = worker(db_url, fake, f"doomed-{round_no}")
        target = before + rng.randint(1, 50)  # kill once it has posted some, at a random point of its run
        deadline = time.monotonic() + 30
        while len(posted_ids(fake)) < target and time.monotonic() < deadline:
            time.sleep(0.002)
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
        later = worker(db_url, fake, f"heir-{round_no}", shift=STALE_CLAIM.total_seconds() + 60)
        assert later.wait(timeout=120) == 0, later.stderr.read() if later.stderr else ""
    posted = posted_ids(fake)
    assert len(posted) == 180 and len(set(posted)) == 180  # every reminder once: none lost, none doubled
    with bot.db.read() as session:
        rows = session.exec(select(Reminder).where(col(Reminder.occurrence).startswith("Pilot@kill-"))).all()
    assert {r.status for r in rows} == {"sent"}
    assert {r.claimed_by.split("-")[0] for r in rows} == {"doomed", "heir"}  # the kill landed mid-run
