"""One person's requests run in the order they came (issue 16): Publish, then at once a `show` that reads what
Publish writes; the show sees the published SOP even though both were queued while Slack was stalled."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from bot.kernel.spool_mover import SpoolMover
from storage import inbox
from storage.db import Database
from storage.models import InboxRequest
from storage.spool import Spool
from tests.support.questionnaire import finish
from tests.support.slack_driver import message_text


def test_a_show_right_after_publish_sees_the_published_sop(bot, fake):
    finish(bot, fake)
    offer = fake.last_post("DUTECH")
    fake.hold.clear()  # Slack stalls: Publish's work waits on it, and a show could overtake it
    assert bot.click(offer, "pp.publish", settle=False).status == 200
    before = len(fake.responses)
    assert bot.command("show acme", settle=False).status == 200
    time.sleep(0.3)  # both queued; without the order the show would run now, beside the stalled publish
    assert len(fake.responses) == before
    fake.hold.set()
    bot.settle()
    shown = [r for r in fake.responses[before:] if "Acme" in message_text(r)]
    assert shown, fake.responses[before:]
    assert "has no published SOP yet" not in message_text(shown[-1])
    assert "v1" in message_text(shown[-1])


def test_another_persons_request_is_not_held_behind_it(bot, fake):
    finish(bot, fake)
    offer = fake.last_post("DUTECH")
    fake.hold.clear()
    assert bot.click(offer, "pp.publish", settle=False).status == 200
    time.sleep(0.2)
    assert bot.command("show acme", user="UOTHER", settle=False).status == 200
    deadline = time.monotonic() + 5
    while fake.waiting < 2 and time.monotonic() < deadline:  # the other person's show runs (and waits on Slack)
        time.sleep(0.01)
    assert fake.waiting >= 2
    fake.hold.set()
    bot.settle()


def test_a_backlog_of_one_person_neither_blocks_others_nor_runs_out_of_order(db_url):
    """500 queued requests of one person, then one of another: a claim of 10 takes each person's oldest."""
    db = Database(db_url)
    db.migrate()
    now = datetime(2026, 11, 29, 12, tzinfo=UTC)
    for n in range(500):
        inbox.record(db, f"trigger:a{n}", "T1:UBUSY", {"n": n}, now)
    inbox.record(db, "trigger:b0", "T1:UCALM", {"n": "calm"}, now)
    taken = inbox.claim(db, "worker-1", now, timedelta(seconds=10), limit=10)
    assert [(c.user_key, c.body["n"]) for c in taken] == [("T1:UBUSY", 0), ("T1:UCALM", "calm")]
    assert inbox.claim(db, "worker-2", now, timedelta(seconds=10), limit=10) == []  # both persons are busy
    inbox.finish(db, [taken[0].id], now)
    assert [c.body["n"] for c in inbox.claim(db, "worker-2", now, timedelta(seconds=10), limit=10)] == [1]
    db.dispose()


def test_two_movers_and_a_stream_of_acks_lose_nothing_and_keep_each_persons_order(db_url):
    """Worker processes each move the spool: 3 movers race 4 appending threads; every request lands once."""
    db = Database(db_url)
    db.migrate()
    spool = Spool.beside(db_url)
    if spool is None:
        pytest.skip("PostgreSQL records in the inbox table directly")
    movers = [SpoolMover(spool, db, lambda: None, poll=0.0005) for _ in range(3)]
    for mover in movers:
        mover.start()
    now = datetime(2026, 11, 29, 12, tzinfo=UTC)

    def ack(person: int) -> None:
        for n in range(150):
            spool.append(f"trigger:{person}-{n}", f"T1:U{person}", {"n": n}, now)
            time.sleep(0.001)  # the spool empties between appends, and a mover may be behind the others

    threads = [threading.Thread(target=ack, args=(person,)) for person in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for mover in movers:
        mover.stop()
    with db.read() as session:
        rows = session.exec(select(InboxRequest.user_key, InboxRequest.body).order_by(InboxRequest.id)).all()
    assert spool.count() == 0 and len(rows) == 600
    for person in range(4):
        assert [body["n"] for user, body in rows if user == f"T1:U{person}"] == list(range(150))
    db.dispose()
