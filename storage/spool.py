"""The ack path's spool on SQLite: requests are appended to a small file of their own before the ack, so an
ack never waits for the database's single write lock (held by claims and by work); a mover in the background
copies them into the inbox table in order and forgets them.

The file sits beside the database (`<database>-spool`); it is empty whenever the mover keeps up, and whatever
a crash leaves in it is moved at the next start. It is a spool, not part of the schema: its one table is
created on open, versioned by `PRAGMA user_version`. PostgreSQL needs none (inserts do not serialise).
"""

from __future__ import annotations

import json
import sqlite3
import threading
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

VERSION = 1
BUSY_TIMEOUT_MS = 10_000


@dataclass(frozen=True)
class Entry:
    id: int
    key: str
    user_key: str
    body: dict[str, Any]
    received_at: datetime


class Spool:
    """Appends from the request threads, reads and forgets from the mover; one connection per thread."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._local = threading.local()
        with self._connection() as connection:
            connection.execute(
                "CREATE TABLE IF NOT EXISTS entry (id INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT NOT NULL UNIQUE, "
                "user_key TEXT NOT NULL, body TEXT NOT NULL, received_at TEXT NOT NULL)"
            )
            connection.execute(f"PRAGMA user_version = {VERSION}")

    @classmethod
    def beside(cls, database_url: str) -> Spool | None:
        """The spool of a SQLite database file; None for PostgreSQL or an in-memory database."""
        url = make_url(database_url)
        if not url.drivername.startswith("sqlite") or not url.database or url.database == ":memory:":
            return None
        return cls(Path(f"{url.database}-spool"))

    def _connection(self) -> sqlite3.Connection:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            connection = sqlite3.connect(
                self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=False
            )
            connection.execute("PRAGMA journal_mode = WAL")
            connection.execute("PRAGMA synchronous = NORMAL")
            self._local.connection = connection
        return connection

    def append(self, key: str, user_key: str, body: dict[str, Any], at: datetime) -> bool:
        """Keep a request; False when the same key is already spooled (a repeat delivery)."""
        cursor = self._connection().execute(
            "INSERT OR IGNORE INTO entry (key, user_key, body, received_at) VALUES (?, ?, ?, ?)",
            (key, user_key, json.dumps(body, separators=(",", ":")), at.isoformat()),
        )
        return cursor.rowcount == 1

    def oldest(self, limit: int) -> list[Entry]:
        rows = self._connection().execute(
            "SELECT id, key, user_key, body, received_at FROM entry ORDER BY id LIMIT ?", (limit,)
        )
        return [Entry(r[0], r[1], r[2], json.loads(r[3]), datetime.fromisoformat(r[4])) for r in rows]

    def forget(self, entries: list[Entry]) -> None:
        """Drop entries that are stored in the inbox (by id: ids are never reused, so an entry appended after
        another mover's read is never dropped unread)."""
        self._connection().executemany("DELETE FROM entry WHERE id = ?", [(e.id,) for e in entries])

    def count(self) -> int:
        return int(self._connection().execute("SELECT count(*) FROM entry").fetchone()[0])

    def close(self) -> None:
        connection = getattr(self._local, "connection", None)
        if connection is not None:
            connection.close()
            self._local.connection = None
