"""The ack path's spool on SQLite (storage/spool.py): what a crash leaves is moved at the next start in the
order it was acknowledged, a write that failed half way spoils nothing else, the earlier release's spool is
moved once, and a stalled mover never holds up an ack."""

from __future__ import annotations

import fcntl
import logging
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from bot.kernel.spool_mover import SpoolMover
from storage.db import Database
from storage.models import InboxRequest
from storage.spool import Spool

NOW = datetime(2026, 12, 4, 12, tzinfo=UTC)


@pytest.fixture
def db(db_url):
    if Spool.beside(db_url) is None:
        pytest.skip("PostgreSQL records in the inbox table directly: there is no spool")
    database = Database(db_url)
    database.migrate()
    yield database
    database.dispose()


def inbox_rows(db: Database) -> list[tuple[str, str, int]]:
    with db.read() as session:
        rows = session.exec(select(InboxRequest).order_by(InboxRequest.id)).all()
    return [(row.key, row.user_key, row.body["n"]) for row in rows]


def next_start(db: Database) -> None:
    """What a process does at start and stop: move everything spooled."""
    mover = SpoolMover(Spool.beside(db.url), db, lambda: None)
    mover.start()
    mover.stop()


def test_what_a_crash_left_is_moved_at_the_next_start_in_the_order_it_was_acknowledged(db, caplog):
    spool = Spool.beside(db.url)
    spool.append("trigger:1", "T1:UANN", {"n": 1}, NOW)
    spool.append("trigger:2", "T1:UBOB", {"n": 2}, NOW)

    def database_away(entries):
        raise sqlite3.OperationalError("unable to open database file")

    with pytest.raises(sqlite3.OperationalError):
        spool.drain(database_away, 500)  # sealed, then the inbox could not take it: it stays spooled
    spool.append("trigger:3", "T1:UANN", {"n": 3}, NOW)
    with open(spool.folder / "current", "ab") as current:
        current.write(b'\n["trigger:half","T1:UANN","2026-12-04T12:00:00+00:00",{"n"')  # a write cut short
    spool.append("trigger:4", "T1:UANN", {"n": 4}, NOW)
    spool.append("trigger:2", "T1:UBOB", {"n": 2}, NOW)  # Slack's retry of a delivery already spooled
    assert spool.count() == 5

    with caplog.at_level(logging.WARNING):
        next_start(db)
    assert inbox_rows(db) == [
        ("trigger:1", "T1:UANN", 1),
        ("trigger:2", "T1:UBOB", 2),
        ("trigger:3", "T1:UANN", 3),
        ("trigger:4", "T1:UANN", 4),
    ]
    assert spool.count() == 0 and sorted(p.name for p in spool.folder.iterdir()) == ["mover.lock"]
    assert "skipped an unreadable line" in caplog.text


def test_the_earlier_releases_spool_is_moved_once(db):
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
    spool.append("trigger:3", "T1:UANN", {"n": 3}, NOW + timedelta(seconds=3))
    assert spool.count() == 3

    next_start(db)
    next_start(db)
    assert inbox_rows(db) == [("event:Ev1", "T1:UANN", 1), ("event:Ev2", "T1:UANN", 2), ("trigger:3", "T1:UANN", 3)]
    assert spool.legacy is not None and not spool.legacy.exists() and spool.count() == 0


def test_an_ack_does_not_wait_for_a_stalled_mover(db):
    """A mover (at a lower CPU priority) renamed `current` and holds its lock while it is not scheduled: the
    request thread that had that file open writes to a new `current` at once; nothing is lost or reordered."""
    spool = Spool.beside(db.url)
    with ThreadPoolExecutor(1) as request_thread:  # one thread, as a server's request thread is reused
        request_thread.submit(spool.append, "trigger:1", "T1:UANN", {"n": 1}, NOW).result()
        sealed = spool.folder / "sealed-000000000001"
        (spool.folder / "current").rename(sealed)
        with open(sealed, "rb") as stalled:
            fcntl.flock(stalled, fcntl.LOCK_EX)
            request_thread.submit(spool.append, "trigger:2", "T1:UANN", {"n": 2}, NOW).result(timeout=10)
        request_thread.submit(spool.append, "trigger:3", "T1:UANN", {"n": 3}, NOW).result()
    next_start(db)
    assert inbox_rows(db) == [("trigger:1", "T1:UANN", 1), ("trigger:2", "T1:UANN", 2), ("trigger:3", "T1:UANN", 3)]
