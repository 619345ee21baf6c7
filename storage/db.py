"""One engine per process (on SQLite two: reads, and writes that begin with BEGIN IMMEDIATE); short sessions."""

from __future__ import annotations

import random
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, bindparam, create_engine, event, text
from sqlalchemy.exc import DatabaseError, OperationalError
from sqlalchemy.orm import ORMExecuteState
from sqlmodel import Session

from storage.turns import Turns
from storage.types import UTCDateTime

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
BUSY_TIMEOUT_MS = 10_000


def _sqlite_setup(engine: Engine, busy_timeout_ms: int, immediate: bool = False) -> None:
    """Each connection in WAL mode with foreign keys on. `immediate`: the engine of read-modify-write
    transactions, which begin with BEGIN IMMEDIATE and wait for the lock in `_begin_immediate`; its
    connections keep no busy timeout of their own (once the lock is held, WAL mode has nothing left to wait
    for), so taking the lock costs no PRAGMA to switch SQLite's own waiting off and on again."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
        dbapi_connection.isolation_level = None  # SQLAlchemy's begin event emits BEGIN itself
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        if immediate:
            cursor.execute("PRAGMA busy_timeout = 0")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn) -> None:  # type: ignore[no-untyped-def]
        if immediate:
            _begin_immediate(conn.connection.dbapi_connection, busy_timeout_ms)
        else:
            conn.exec_driver_sql("BEGIN")


def _begin_immediate(dbapi_connection: sqlite3.Connection, busy_timeout_ms: int) -> None:
    """Take the write lock, trying again every fraction of a millisecond until the busy timeout. SQLite's own
    busy handler sleeps up to 100 ms between tries, so under steady contention a waiting writer (an ack
    recording its request) can sleep long after the lock was free; this loop notices within a millisecond."""
    deadline = time.monotonic() + busy_timeout_ms / 1000
    while True:
        try:
            dbapi_connection.execute("BEGIN IMMEDIATE")
            return
        except sqlite3.OperationalError as err:
            if ("locked" not in str(err) and "busy" not in str(err)) or time.monotonic() >= deadline:
                raise OperationalError("BEGIN IMMEDIATE", None, err) from err
            time.sleep(random.uniform(0.0002, 0.001))


SQLITE_POOL = 15  # connections a process keeps for reading and uses at most (SQLAlchemy's default: 5 + 10 more)
WRITE_POOL = 5  # and for writing: the process's writers take turns (storage/turns.py), so one is busy at a time


@dataclass
class InboxUnit:
    """The inbox request whose work runs in this thread: the first transaction that writes marks it done."""

    request_id: int
    finished_at: datetime
    done: bool = False


_UNIT: ContextVar[InboxUnit | None] = ContextVar("inbox_unit", default=None)
_MARK_DONE = text(
    "UPDATE inboxrequest SET state = 'done', finished_at = :at, claimed_until = NULL WHERE id = :id"
).bindparams(bindparam("at", type_=UTCDateTime()))


@event.listens_for(Session, "after_flush")
def _flushed(session: Session, _context: object) -> None:
    session.info["wrote"] = True


@event.listens_for(Session, "do_orm_execute")
def _executed(state: ORMExecuteState) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        state.session.info["wrote"] = True


def _wrote(session: Session) -> bool:
    return bool(session.new or session.dirty or session.deleted or session.info.get("wrote"))


class Database:
    """The process's engine and the two kinds of session the core uses."""

    def __init__(self, url: str, busy_timeout_ms: int = BUSY_TIMEOUT_MS) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        self._busy_timeout_ms = busy_timeout_ms
        self._writers: Turns | None = None  # see _turn
        if self.is_sqlite:  # connections kept open: opening and setting one up costs more than a read
            connect_args = {"check_same_thread": False, "timeout": busy_timeout_ms / 1000}
            self.engine = create_engine(url, connect_args=connect_args, pool_size=SQLITE_POOL, max_overflow=0)
            _sqlite_setup(self.engine, busy_timeout_ms)
            self._write_engine = create_engine(url, connect_args=connect_args, pool_size=WRITE_POOL, max_overflow=0)
            _sqlite_setup(self._write_engine, busy_timeout_ms, immediate=True)
            self._writers = Turns()
        else:
            self.engine = create_engine(url, pool_pre_ping=True)
            self._write_engine = self.engine

    @property
    def write_engine(self) -> Engine:
        """The engine whose transactions take the write lock first (SQLite); for code that writes on its own
        connections, such as APScheduler's job store."""
        return self._write_engine

    def migrate(self) -> None:
        """Bring the schema to the newest Alembic revision."""
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        config.set_main_option("sqlalchemy.url", self.url.replace("%", "%%"))
        with self.engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session for reading; nothing it does is committed."""
        with Session(self.engine, expire_on_commit=False) as session:
            yield session

    @contextmanager
    def write(self, ahead: bool = False) -> Iterator[Session]:
        """A read-modify-write transaction: takes the write lock first, commits on success. `ahead`: a short
        write that other work waits on (the inbox's), served before the others queueing in this process."""
        with self._turn(ahead), Session(self._write_engine, expire_on_commit=False) as session:
            yield session
            unit = _UNIT.get()
            marking = unit is not None and not unit.done and _wrote(session)
            if marking:
                session.execute(_MARK_DONE, {"at": unit.finished_at, "id": unit.request_id})
            session.commit()
            if marking:
                unit.done = True

    @contextmanager
    def _turn(self, ahead: bool) -> Iterator[None]:
        """On SQLite, this process's writers queue for their turn here (storage/turns.py) and only the first of
        them waits on SQLite's lock: the lock has no queue, so dozens of threads polling it could leave one
        waiting past the busy timeout while the others take turns."""
        if self._writers is None:
            yield
            return
        if not self._writers.take(self._busy_timeout_ms / 1000, ahead):
            raise OperationalError("BEGIN IMMEDIATE", None, sqlite3.OperationalError("database is locked"))
        try:
            yield
        finally:
            self._writers.give()

    @contextmanager
    def unit_of(self, unit: InboxUnit) -> Iterator[InboxUnit]:
        """Work for one inbox request: the first committed write also marks the request done."""
        token = _UNIT.set(unit)
        try:
            yield unit
        finally:
            _UNIT.reset(token)

    def integrity(self) -> str:
        """SQLite's quick check of every page ("ok" or what is damaged); PostgreSQL checks its own pages."""
        if not self.is_sqlite:
            return "ok"
        try:
            with self.engine.connect() as connection:
                found = [row[0] for row in connection.exec_driver_sql("PRAGMA quick_check(5)")]
        except DatabaseError as err:  # too damaged to check page by page
            return str(err.orig or err).splitlines()[0][:300]
        return "ok" if found == ["ok"] else "; ".join(str(f) for f in found)[:300]

    def dispose(self) -> None:
        self.engine.dispose()
        if self._write_engine is not self.engine:
            self._write_engine.dispose()
