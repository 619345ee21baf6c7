"""Two bot processes on one database (SQLite, or PostgreSQL with PATCHPOLICY_TEST_DB=postgres) post each
reminder once: the ledger's conditional claim decides, across real OS processes."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlmodel import select

from storage.models import Client, Reminder
from tests.questionnaire_helpers import finish

ROOT = Path(__file__).resolve().parent.parent
COUNT = 120


def test_two_processes_post_each_due_reminder_exactly_once(bot, fake, db_url):
    finish(bot, fake)
    bot.click(fake.last_post("DUTECH"), "pp.publish")
    now = datetime.now(UTC)  # the workers run on the real clock
    with bot.db.write() as session:
        client = session.exec(select(Client)).one()
        for i in range(COUNT):
            session.add(
                Reminder(
                    client_id=client.id,
                    version=1,
                    group_name="Pilot",
                    occurrence=f"Pilot@replica-test-{i:03d}",
                    kind="start",
                    due_at=now - timedelta(minutes=1),
                    window_start=now + timedelta(hours=1),
                    window_end=now + timedelta(hours=5),
                )
            )
    bot.stop()  # only the two workers dispatch

    def worker(name: str) -> subprocess.Popen[str]:
        args = [sys.executable, "-m", "tests.dispatch_worker", db_url, fake.url, name]
        return subprocess.Popen(args, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    workers = [worker("replica-a"), worker("replica-b")]
    outputs = [w.communicate(timeout=120) for w in workers]
    assert all(w.returncode == 0 for w in workers), [err for _, err in outputs]
    sent = [int(out.strip()) for out, _ in outputs]

    posted = [
        m["metadata"]["event_payload"]["reminder_id"]
        for m in fake.posts("C0ACME")
        if (m.get("metadata") or {}).get("event_type") == "patchpolicy_reminder"
    ]
    assert sum(sent) == COUNT and len(posted) == COUNT and len(set(posted)) == COUNT
    with bot.db.read() as session:
        rows = session.exec(select(Reminder).where(Reminder.occurrence.startswith("Pilot@replica-test"))).all()
    assert {r.status for r in rows} == {"sent"}
    assert {r.claimed_by for r in rows} <= {"replica-a", "replica-b"}
