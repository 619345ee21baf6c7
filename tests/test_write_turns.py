"""A process's SQLite writers take turns, the inbox's writes before the writers that come after them, and one
that waits out the busy timeout is told the database is locked without keeping a place."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

import pytest
from sqlalchemy.exc import OperationalError
from sqlmodel import select

from storage.db import Database
from storage.models import Client

NOW = datetime(2026, 12, 4, 9, tzinfo=UTC)
QUEUED = 0.2  # time for a started thread to reach the queue


@pytest.fixture
def db(tmp_path):
    database = Database(f"sqlite:///{tmp_path / 'patchpolicy.db'}", busy_timeout_ms=5_000)
    database.migrate()
    yield database
    database.dispose()


def _write_client(db: Database, key: str, order: list[str], ahead: bool = False) -> None:
    with db.write(ahead) as session:
        order.append(key)  # inside the turn: the order of the turns themselves
        session.add(Client(key=key, name=key, created_by="U1", created_at=NOW))


def test_a_write_asked_ahead_goes_before_the_writers_that_come_after_it(db):
    order: list[str] = []
    holding, release = threading.Event(), threading.Event()

    def hold() -> None:
        with db.write() as session:
            order.append("holder")
            holding.set()
            release.wait(10)
            session.add(Client(key="holder", name="holder", created_by="U1", created_at=NOW))
        _write_client(db, "again", order)  # a running thread asks again at once, before the waiters wake

    threads = [threading.Thread(target=hold)]
    threads[0].start()
    assert holding.wait(5)
    threads.append(threading.Thread(target=_write_client, args=(db, "inbox", order, True)))  # as storage/inbox.py
    threads[-1].start()
    time.sleep(QUEUED)
    for key in ("w1", "w2", "w3", "w4"):
        threads.append(threading.Thread(target=_write_client, args=(db, key, order)))
        threads[-1].start()
        time.sleep(QUEUED)
    release.set()
    for thread in threads:
        thread.join(10)

    assert order[:2] == ["holder", "inbox"] and sorted(order[2:]) == ["again", "w1", "w2", "w3", "w4"]
    with db.read() as session:
        assert len(session.exec(select(Client)).all()) == 7


def test_a_writer_that_waits_out_the_busy_timeout_is_told_and_keeps_no_place(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'patchpolicy.db'}", busy_timeout_ms=300)
    db.migrate()
    errors: list[str] = []
    order: list[str] = []

    def late() -> None:
        try:
            _write_client(db, "late", order)
        except OperationalError as err:
            errors.append(str(err))

    with db.write() as session:
        session.add(Client(key="first", name="first", created_by="U1", created_at=NOW))
        waiter = threading.Thread(target=late)
        waiter.start()
        waiter.join(5)
    assert len(errors) == 1 and "database is locked" in errors[0]

    _write_client(db, "next", order)  # served at once: the writer that gave up is not in the queue
    with db.read() as session:
        assert sorted(session.exec(select(Client.key)).all()) == ["first", "next"]
    assert order == ["next"]
    db.dispose()
