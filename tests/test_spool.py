"""The ack path's spool on SQLite (storage/spool.py): what a crashed process left is moved at the next start in
the order it was acknowledged, a copy cut short spoils nothing else, a living process's file is left to it,
what the earlier releases left is moved first, a stalled mover never holds up an ack, a request larger than a
file is kept whole, and appends from many threads while seals go on are each moved once, in order."""

from __future__ import annotations

import fcntl
import logging
import os
import sqlite3
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from bot.kernel.spool_mover import SpoolMover
from storage.db import Database
from storage.models import InboxRequest
from storage.spool import CAPACITY, STALE_START, STARTING, Spool

NOW = datetime(2026, 12, 4, 12, tzinfo=UTC)
ROOT = Path(__file__).resolve().parent.parent

ACKING_PROCESS = """
import os, sys
from datetime import UTC, datetime
from storage.spool import Spool

spool, now = Spool.beside(sys.argv[1]), datetime(2026, 12, 4, 12, tzinfo=UTC)
spool.append("trigger:1", "T1:UANN", {"n": 1}, now)
spool.append("trigger:2", "T1:UBOB", {"n": 2}, now)
spool.seal()
spool.append("trigger:3", "T1:UANN", {"n": 3}, now)
half = b'\\n["trigger:half","T1:UANN","2026-12-04T12:00:00+00:00",{"n"'
spool._segment.put(half + bytes(24))  # a copy cut short: its room taken, the rest of it never written (zeros)
spool.append("trigger:4", "T1:UANN", {"n": 4}, now)
spool.append("trigger:2", "T1:UBOB", {"n": 2}, now)  # Slack's retry of a delivery already spooled
if sys.argv[2] == "crash":
    os._exit(0)  # nothing sealed, nothing closed
print("appended", flush=True)
sys.stdin.readline()
spool.close()  # a stop: seals what it appended
"""


@pytest.fixture
def db(db_url):
    if Spool.beside(db_url) is None:
        pytest.skip("PostgreSQL records in the inbox table directly: there is no spool")
    database = Database(db_url)
    database.migrate()
    yield database
    database.dispose()


def acking_process(db: Database, ending: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", ACKING_PROCESS, db.url, ending],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )


def inbox_rows(db: Database) -> list[tuple[str, str, int]]:
    with db.read() as session:
        rows = session.exec(select(InboxRequest).order_by(InboxRequest.id)).all()
    return [(row.key, row.user_key, row.body["n"]) for row in rows]


def next_start(db: Database) -> None:
    """What a process does at start and stop: move everything spooled."""
    mover = SpoolMover(Spool.beside(db.url), db, lambda: None)
    mover.start()
    mover.stop()


FOUR = [
    ("trigger:1", "T1:UANN", 1),
    ("trigger:2", "T1:UBOB", 2),
    ("trigger:3", "T1:UANN", 3),
    ("trigger:4", "T1:UANN", 4),
]


def test_what_a_crashed_process_left_is_moved_at_the_next_start_in_the_order_it_was_acknowledged(db, caplog):
    assert acking_process(db, "crash").wait(30) == 0
    spool = Spool.beside(db.url)
    assert spool.count() == 5

    def database_away(entries):
        raise sqlite3.OperationalError("unable to open database file")

    with pytest.raises(sqlite3.OperationalError):
        spool.drain(database_away, 500)  # the inbox could not take them: they stay spooled
    assert spool.count() == 5

    with caplog.at_level(logging.WARNING):
        next_start(db)
    assert inbox_rows(db) == FOUR
    assert spool.count() == 0 and sorted(p.name for p in spool.folder.iterdir()) == ["mover.lock"]
    assert "skipped an unreadable line" in caplog.text


def test_a_mover_leaves_a_living_processs_file_alone_until_it_is_sealed(db):
    process = acking_process(db, "stop")
    try:
        assert process.stdout.readline().strip() == "appended"
        next_start(db)  # its first two requests were sealed; the rest it still holds
        assert inbox_rows(db) == FOUR[:2]
        assert Spool.beside(db.url).count() == 3
    finally:
        process.communicate("stop\n", timeout=30)
    next_start(db)
    assert inbox_rows(db) == FOUR
    assert Spool.beside(db.url).count() == 0


def test_a_mover_removes_a_file_a_crash_left_half_started_but_not_one_a_living_process_is_starting(db):
    spool = Spool.beside(db.url)
    crashed = spool.folder / f"{STARTING}00000000000000000001-4242"  # as a process that died mid-start left it
    crashed.write_bytes(bytes(4096))
    long_ago = time.time() - 2 * STALE_START
    os.utime(crashed, (long_ago, long_ago))
    starting = spool.folder / f"{STARTING}{time.time_ns():020d}-{os.getpid()}"  # a start under way, not locked yet
    starting.write_bytes(b"")
    spool.append("trigger:1", "T1:UANN", {"n": 1}, NOW)
    spool.seal()
    next_start(db)
    assert not crashed.exists()
    assert starting.exists()  # removed under it, that start would fail and its request's ack with it
    assert inbox_rows(db) == FOUR[:1]


def test_what_the_earlier_releases_left_is_moved_first_and_once(db):
    legacy = sqlite3.connect(f"{db.url.removeprefix('sqlite:///')}-spool", isolation_level=None)
    legacy.execute(
        "CREATE TABLE entry (id INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT NOT NULL UNIQUE, "
        "user_key TEXT NOT NULL, body TEXT NOT NULL, received_at TEXT NOT NULL)"
    )
    for n in (1, 2):
        legacy.execute(
            "INSERT INTO entry (key, user_key, body, received_at) VALUES (?, ?, ?, ?)",
            (f"event:Ev{n}", "T1:UANN", f'{{"n": {n}}}', (NOW + timedelta(seconds=n)).isoformat()),
        )
    legacy.close()
    spool = Spool.beside(db.url)
    for n, name in ((3, "sealed-000000000001"), (4, "current")):  # the release of 4 December's files
        (spool.folder / name).write_bytes(b'\n["trigger:%d","T1:UANN","2026-12-04T12:00:00+00:00",{"n":%d}]\n' % (n, n))
    spool.append("trigger:5", "T1:UANN", {"n": 5}, NOW + timedelta(seconds=5))
    assert spool.count() == 5
    spool.close()  # this process stops

    next_start(db)
    next_start(db)
    assert [n for _, _, n in inbox_rows(db)] == [1, 2, 3, 4, 5]
    assert spool.legacy is not None and not spool.legacy.exists() and spool.count() == 0


def test_an_ack_does_not_wait_for_a_stalled_mover(db):
    """A mover (at a lower CPU priority) holds the movers' lock while it is not scheduled: appends, and the seal
    that hands them over, go on; the mover takes them in order when it runs."""
    spool = Spool.beside(db.url)
    with open(spool.folder / "mover.lock", "ab") as stalled, ThreadPoolExecutor(1) as request_thread:
        fcntl.flock(stalled, fcntl.LOCK_EX)
        for n in (1, 2, 3):
            request_thread.submit(spool.append, f"trigger:{n}", "T1:UANN", {"n": n}, NOW).result(timeout=10)
            assert request_thread.submit(spool.seal).result(timeout=10)
    next_start(db)
    assert inbox_rows(db) == [("trigger:1", "T1:UANN", 1), ("trigger:2", "T1:UANN", 2), ("trigger:3", "T1:UANN", 3)]


def test_a_request_larger_than_a_spool_file_is_kept_whole_between_the_others(db):
    spool = Spool.beside(db.url)
    big = "x" * (CAPACITY + CAPACITY // 2)  # a view submission could never be this large; the spool still keeps it
    spool.append("trigger:1", "T1:UANN", {"n": 1}, NOW)
    spool.append("trigger:2", "T1:UANN", {"n": 2, "text": big}, NOW)
    spool.append("trigger:3", "T1:UANN", {"n": 3}, NOW)
    spool.close()
    sealed = [path.read_bytes() for path in spool.folder.glob("sealed-*")]
    assert len(sealed) == 3 and all(b"\0" not in data for data in sealed)  # one each, cut to what was written
    next_start(db)
    assert inbox_rows(db) == [("trigger:1", "T1:UANN", 1), ("trigger:2", "T1:UANN", 2), ("trigger:3", "T1:UANN", 3)]
    with db.read() as session:
        stored = session.exec(select(InboxRequest).where(InboxRequest.key == "trigger:2")).one()
    assert stored.body["text"] == big


def test_appends_from_many_threads_while_seals_go_on_are_each_moved_once_in_order(db):
    spool = Spool.beside(db.url)
    people, each = 8, 150
    padding = "p" * 3000  # about a button's payload: a file fills and rolls over during the run
    sealing = True

    def seal_in_a_loop() -> int:
        seals = 0
        while sealing:
            seals += spool.seal()
        return seals

    def person(n: int) -> None:
        for i in range(each):
            spool.append(f"trigger:{n}-{i}", f"T1:U{n}", {"n": i, "pad": padding}, NOW)

    with ThreadPoolExecutor(people + 1) as pool:
        sealer = pool.submit(seal_in_a_loop)
        for done in [pool.submit(person, n) for n in range(people)]:
            done.result(timeout=60)
        sealing = False
        assert sealer.result(timeout=60) > 1
    spool.close()
    next_start(db)
    rows = inbox_rows(db)
    assert len(rows) == people * each
    for n in range(people):
        assert [i for key, user, i in rows if user == f"T1:U{n}"] == list(range(each))
    assert spool.count() == 0
