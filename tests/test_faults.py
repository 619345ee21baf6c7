"""Faults a deployment meets: a process killed or stopped right after an ack, or in the middle of a reminder run,
and the database locked for longer than the busy timeout. Nothing acknowledged is lost, nothing is posted
twice, and the scheduler runs afterwards. Real processes, real signals, a real SQLite file."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import threading
import time
import urllib.request
from datetime import timedelta
from pathlib import Path

import pytest
from slack_sdk import WebClient
from sqlmodel import col, func, select

from bot.kernel.clock import SystemClock
from bot.scheduling.reminders import Reminders
from bot.scheduling.scheduler import SchedulerService
from handlers.reminders import SlackPoster
from storage.db import Database
from storage.models import InboxRequest, Reminder, SchedulerLease
from storage.spool import Spool
from tests.support.bot_process import BotProcess, children_of, wait_until
from tests.support.fake_slack import TOKEN
from tests.support.questionnaire import answer_count, finish, live_prompt, publish_and_stop
from tests.support.slack_driver import message_text
from tests.test_replicas import plant, posted_ids

pytestmark = [pytest.mark.slow, pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX signals")]


def inbox_states(db_url: str) -> dict[str, int]:
    """Requests by state; "spooled": acknowledged, not yet moved into the inbox table."""
    database = Database(db_url)
    try:
        with database.read() as session:
            rows = session.exec(select(InboxRequest.state, func.count()).group_by(InboxRequest.state)).all()
    finally:
        database.dispose()
    spool = Spool.beside(db_url)
    spooled = spool.count() if spool else 0
    if spool:
        spool.close()
    return dict(rows) | ({"spooled": spooled} if spooled else {})


def lease_holder_pid(db_url: str) -> int | None:
    database = Database(db_url)
    try:
        with database.read() as session:
            lease = session.exec(select(SchedulerLease)).first()
    finally:
        database.dispose()
    return int(lease.holder.split(":")[1]) if lease else None


def start_questionnaire(fake, db_url: str, tmp_path: Path) -> BotProcess:  # type: ignore[no-untyped-def]
    process = BotProcess(fake, db_url, tmp_path)
    process.driver.command("new Acme", channel="C0ACME", channel_name="acme-patching", settle=False)
    wait_until(lambda: any(b.get("type") == "actions" for m in fake.posts("DUTECH") for b in m.get("blocks") or []))
    return process


def test_an_answer_acknowledged_then_killed_before_any_work_is_stored_by_the_next_process(fake, tmp_path):
    db_url = f"sqlite:///{tmp_path / 'kill.db'}"
    start_questionnaire(fake, db_url, tmp_path).kill()
    recorder = BotProcess(fake, db_url, tmp_path, INBOX_WORKERS="0", WORKER_PROCESSES="0")  # only records
    before = answer_count(db_url)
    response = recorder.driver.click(live_prompt(fake), "pp.recommended", settle=False)
    assert response.status == 200
    recorder.kill()
    waiting = inbox_states(db_url)
    assert answer_count(db_url) == before and waiting.get("pending", 0) + waiting.get("spooled", 0) == 1

    heir = BotProcess(fake, db_url, tmp_path)
    wait_until(lambda: answer_count(db_url) == before + 1)
    wait_until(lambda: inbox_states(db_url) == {"done": inbox_states(db_url).get("done", 0)})
    heir.kill()


def test_sigkill_at_once_after_each_of_three_acks_loses_no_answer(fake, tmp_path):
    """The reported reproduction: answer, get the 200, SIGKILL at once; 3 of 3 answers were lost."""
    db_url = f"sqlite:///{tmp_path / 'kill3.db'}"
    process = start_questionnaire(fake, db_url, tmp_path)
    for _ in range(3):
        before = answer_count(db_url)
        response = process.driver.click(live_prompt(fake), "pp.recommended", settle=False)
        assert response.status == 200
        process.kill()
        process = BotProcess(fake, db_url, tmp_path)
        wait_until(lambda b=before: answer_count(db_url) == b + 1)  # the restarted process finishes it (claims expire)
        wait_until(lambda: "running" not in inbox_states(db_url) and "pending" not in inbox_states(db_url))
        wait_until(lambda: live_prompt(fake) is not None)
    process.kill()
    assert "failed" not in inbox_states(db_url)


def test_sigterm_right_after_an_ack_exits_0_within_10_s_releases_the_lease_and_keeps_the_answer(fake, tmp_path):
    db_url = f"sqlite:///{tmp_path / 'term.db'}"
    process = start_questionnaire(fake, db_url, tmp_path)
    before = answer_count(db_url)
    assert process.driver.click(live_prompt(fake), "pp.recommended", settle=False).status == 200
    status, seconds = process.terminate()
    assert status == 0 and seconds < 10, process.log()
    assert "Traceback" not in process.log()
    database = Database(db_url)
    with database.read() as session:
        assert session.exec(select(SchedulerLease)).all() == []  # the next process schedules at once
    database.dispose()
    assert "running" not in inbox_states(db_url)  # finished, or handed back
    heir = BotProcess(fake, db_url, tmp_path)
    wait_until(lambda: answer_count(db_url) == before + 1)
    heir.terminate()


def test_sigterm_during_a_reminder_run_against_a_stalled_slack_posts_each_reminder_once(bot, fake, db_url, tmp_path):
    if not db_url.startswith("sqlite"):
        pytest.skip("the process runs on the test's SQLite file")
    publish_and_stop(bot, fake)
    fake.clock = SystemClock()  # message timestamps on the processes' real clock
    process = BotProcess(fake, db_url, tmp_path, REMINDER_POLL_SECONDS="5")
    fake.hold.clear()  # Slack stops answering
    plant(bot, "Pilot@term", 5)  # due now; the poll arms them
    wait_until(lambda: fake.waiting >= 1)  # the run is under way, stuck on Slack
    status, seconds = process.terminate()
    assert status == 0 and seconds < 10, process.log()
    fake.hold.set()
    heir = BotProcess(fake, db_url, tmp_path, REMINDER_POLL_SECONDS="5")
    wait_until(lambda: len(set(posted_ids(fake))) == 5)
    time.sleep(1)  # a double would come now
    heir.terminate()
    posted = posted_ids(fake)
    assert len(posted) == 5 == len(set(posted))
    database = Database(db_url)
    with database.read() as session:
        rows = session.exec(select(Reminder).where(col(Reminder.occurrence).startswith("Pilot@term"))).all()
    assert {r.status for r in rows} == {"sent"}
    database.dispose()


def test_the_scheduler_survives_the_database_locked_longer_than_the_busy_timeout(bot, fake, db_url, tmp_path):
    if not db_url.startswith("sqlite"):
        pytest.skip("locks a SQLite file")
    publish_and_stop(bot, fake)
    fake.clock = SystemClock()
    path = db_url.removeprefix("sqlite:///")
    database = Database(db_url, busy_timeout_ms=200)
    clock = SystemClock()
    service = SchedulerService(
        database,
        clock,
        SlackPoster(WebClient(token=TOKEN, base_url=fake.url)),
        Reminders(database, clock, "survivor"),
        poll=timedelta(seconds=1),
    )
    plant(bot, "Pilot@locked-start", 3)
    locker = sqlite3.connect(path, isolation_level=None)
    locker.execute("BEGIN EXCLUSIVE")  # held well past the 200 ms busy timeout
    service.start()  # the lease cannot be taken: logged, tried again
    time.sleep(1.5)
    locker.execute("ROLLBACK")
    try:
        wait_until(lambda: len(posted_ids(fake)) == 3)
        assert service.status() == {"lease": "held", "scheduler": "running"}

        locker.execute("BEGIN EXCLUSIVE")  # again, while the scheduler runs and reminders fall due
        writer = threading.Thread(target=plant, args=(bot, "Pilot@locked-run", 3))  # waits for the lock
        writer.start()
        time.sleep(2.5)  # the job store and every poll fail meanwhile
        locker.execute("ROLLBACK")
        writer.join(15)
        wait_until(lambda: len(posted_ids(fake)) == 6)
        assert service.status() == {"lease": "held", "scheduler": "running"}
        posted = posted_ids(fake)
        assert len(posted) == len(set(posted))
    finally:
        service.stop()
        locker.close()
        database.dispose()


def test_a_worker_process_runs_what_a_recording_web_process_acknowledged(fake, tmp_path):
    """`patchpolicy worker` beside a `serve` that only records (INBOX_WORKERS=0): the work, and the scheduler,
    happen in the worker."""
    db_url = f"sqlite:///{tmp_path / 'split.db'}"
    web = BotProcess(fake, db_url, tmp_path, INBOX_WORKERS="0", WORKER_PROCESSES="0")
    worker = BotProcess(fake, db_url, tmp_path, command="worker")
    try:
        wait_until(lambda: lease_holder_pid(db_url) == worker.child.pid)
        web.driver.command("new Acme", channel="C0ACME", channel_name="acme-patching", settle=False)
        wait_until(lambda: any(b.get("type") == "actions" for m in fake.posts("DUTECH") for b in m.get("blocks") or []))
        assert web.driver.click(live_prompt(fake), "pp.recommended", settle=False).status == 200
        wait_until(lambda: answer_count(db_url) == 1)
        assert inbox_states(db_url) == {"done": 2}
    finally:
        statuses = [web.terminate()[0], worker.terminate()[0]]
    assert statuses == [0, 0], worker.log()


def test_one_persons_order_holds_across_worker_processes(bot, fake, db_url, tmp_path):
    """Publish, then at once `show`: with two worker processes taking requests, the show still sees v1."""
    if not db_url.startswith("sqlite"):
        pytest.skip("the process runs on the test's SQLite file")
    finish(bot, fake)
    offer = fake.last_post("DUTECH")
    bot.stop()
    process = BotProcess(fake, db_url, tmp_path, WORKER_PROCESSES="2")
    try:
        wait_until(lambda: len(fake.calls_to("users.list")) >= 4)  # the web process and both workers are up
        fake.hold.clear()  # Slack stalls: Publish's work waits on it, and the other worker could take the show
        assert process.driver.click(offer, "pp.publish", settle=False).status == 200
        before = len(fake.responses)
        assert process.driver.command("show acme", settle=False).status == 200
        time.sleep(0.5)
        fake.hold.set()
        wait_until(lambda: any("Acme" in message_text(r) for r in fake.responses[before:]))
        shown = [message_text(r) for r in fake.responses[before:] if "Acme" in message_text(r)]
        assert "has no published SOP yet" not in shown[-1] and "v1" in shown[-1]
    finally:
        assert process.terminate()[0] == 0, process.log()


def test_a_worker_process_that_dies_is_started_again_and_the_work_goes_on(fake, tmp_path):
    """`serve` with one worker process: the scheduler runs in the worker, never beside the acks. The worker is
    killed; another takes its place within seconds, takes the scheduler over and runs the next request's work,
    and the serving process still stops cleanly."""
    db_url = f"sqlite:///{tmp_path / 'restart.db'}"
    process = BotProcess(fake, db_url, tmp_path, WORKER_PROCESSES="1")
    try:
        wait_until(lambda: len(children_of(process.child.pid)) == 1)
        (first,) = children_of(process.child.pid)
        wait_until(lambda: lease_holder_pid(db_url) == first)
        with urllib.request.urlopen(f"http://127.0.0.1:{process.port}/healthz", timeout=5) as response:
            health = json.loads(response.read())
        assert health["status"] == "ok" and (health["lease"], health["scheduler"]) == ("elsewhere", "standby")
        os.kill(first, signal.SIGKILL)
        wait_until(lambda: len(set(children_of(process.child.pid)) - {first}) == 1, timeout=10)
        (second,) = children_of(process.child.pid)
        wait_until(lambda: lease_holder_pid(db_url) == second, timeout=10)  # a dead holder's lease is taken at once
        process.driver.command("new Acme", channel="C0ACME", channel_name="acme-patching", settle=False)
        wait_until(lambda: any(b.get("type") == "actions" for m in fake.posts("DUTECH") for b in m.get("blocks") or []))
        assert inbox_states(db_url) == {"done": 1}
        assert f"worker process {first} exited with -9; starting another" in process.log()
    finally:
        assert process.terminate()[0] == 0, process.log()
