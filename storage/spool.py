"""The ack path's spool on SQLite: a request is appended to a plain file beside the database before its ack, so
an ack never waits for a write lock (the database's, held by claims and work, or a spool database's); a mover
in the background takes what is spooled into the inbox table, in order, and forgets it.

The spool is a folder beside the database (`<database>-spool.d`):
- Every request thread appends one line per request to `current` through its own open file (O_APPEND, one
  write per line: lines never interleave, and their order is the order the acks were written). It holds a
  shared `flock` while it checks that `current` is still the file it has open and writes; a lock belongs to
  an open file, so each thread has its own.
- A mover, one at a time in any process (an exclusive `flock` on `mover.lock`), renames `current` to
  `sealed-<n>` and takes an exclusive lock on it, which waits for the writes in flight. Nobody writes to it
  after that, so it is read whole, stored in the inbox, and deleted.
- A crash leaves sealed files or `current`; the next start moves them, in order. What a crash left in the
  earlier release's spool (`<database>-spool`, a SQLite file) is moved first, once.

The durability is the SQLite spool's (written, not fsynced: it survives the process, not the machine), and,
like SQLite, it needs a local file system. Each line starts with a newline too, so a write that failed half
way (never acknowledged) cannot spoil the next line. PostgreSQL needs none of this: its inserts do not
serialise.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

log = logging.getLogger(__name__)
CURRENT, LOCK, SEALED = "current", "mover.lock", "sealed-"
ATTEMPTS = 10  # times an append follows `current` to a new file before it gives up (a mover sealing in a loop)


@dataclass(frozen=True)
class Entry:
    key: str
    user_key: str
    body: dict[str, Any]
    received_at: datetime


class _Segment:
    """One thread's open `current`. Its own open file, because a `flock` belongs to the open file: threads
    sharing one would release each other's locks."""

    def __init__(self, path: Path) -> None:
        self.file = open(path, "ab", buffering=0)  # noqa: SIM115 - closed with the thread's segment
        stat = os.fstat(self.file.fileno())
        self.identity = (stat.st_dev, stat.st_ino)

    def __del__(self) -> None:
        if hasattr(self, "file"):
            self.file.close()


class Spool:
    """Appends from request threads (any process), drains from movers (any process, one at a time)."""

    def __init__(self, folder: Path, legacy: Path | None = None) -> None:
        self.folder, self.legacy = folder, legacy
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        self._current = folder / CURRENT
        self._local = threading.local()  # .segment: this thread's _Segment

    @classmethod
    def beside(cls, database_url: str) -> Spool | None:
        """The spool of a SQLite database file; None for PostgreSQL or an in-memory database."""
        url = make_url(database_url)
        if not url.drivername.startswith("sqlite") or not url.database or url.database == ":memory:":
            return None
        return cls(Path(f"{url.database}-spool.d"), Path(f"{url.database}-spool"))

    def append(self, key: str, user_key: str, body: dict[str, Any], at: datetime) -> None:
        """Keep a request (raises OSError when it could not be written whole: then it must not be acked)."""
        line = b"\n" + json.dumps([key, user_key, at.isoformat(), body], separators=(",", ":")).encode() + b"\n"
        for _ in range(ATTEMPTS):
            segment = getattr(self._local, "segment", None) or self._open()
            if self._locked(segment):
                try:
                    if self._is_current(segment):
                        if segment.file.write(line) != len(line):
                            raise OSError("the spool took part of a request (is the disk full?)")
                        return
                finally:
                    fcntl.flock(segment.file, fcntl.LOCK_UN)
            self._open()
        raise OSError("the spool was sealed under every attempt to append")

    @staticmethod
    def _locked(segment: _Segment) -> bool:
        """A shared lock on the thread's file, without waiting: a mover holds it exclusively only after it renamed
        the file, and a mover at low priority must not hold up an ack."""
        try:
            fcntl.flock(segment.file, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def _is_current(self, segment: _Segment) -> bool:
        try:
            stat = os.stat(self._current)
        except FileNotFoundError:
            return False
        return (stat.st_dev, stat.st_ino) == segment.identity

    def _open(self) -> _Segment:
        """Open `current` for this thread (a mover sealed the one it had)."""
        self._local.segment = _Segment(self._current)
        return self._local.segment

    def drain(self, store: Callable[[list[Entry]], int], batch: int) -> int:
        """Seal `current` and give everything spooled to `store`, oldest first, in lists of at most `batch`;
        a file is deleted once all of it is stored. Returns the sum of what `store` returned. If `store`
        raises, what it was given stays spooled for the next drain."""
        with open(self.folder / LOCK, "ab") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # one mover at a time, in any process; released on close
            stored = self._drain_legacy(store, batch)
            self._seal()
            for path in sorted(self.folder.glob(f"{SEALED}*")):
                stored += sum(store(entries) for entries in _chunks(_read(path), batch))
                path.unlink()
            return stored

    def _seal(self) -> None:
        try:
            if os.stat(self._current).st_size == 0:
                return
        except FileNotFoundError:
            return
        numbers = [int(path.name.removeprefix(SEALED)) for path in self.folder.glob(f"{SEALED}*")]
        sealed = self.folder / f"{SEALED}{max(numbers, default=0) + 1:012d}"  # after what an earlier drain left
        os.rename(self._current, sealed)
        with open(sealed, "rb") as file:
            fcntl.flock(file, fcntl.LOCK_EX)  # waits for the writes in flight; later ones see the new `current`

    def _drain_legacy(self, store: Callable[[list[Entry]], int], batch: int) -> int:
        """The earlier release's SQLite spool: moved whole, then deleted; looked for until it is gone (a drain
        at start), not on every drain after."""
        if self.legacy is None:
            return 0
        entries = self._legacy_entries()
        stored = sum(store(chunk) for chunk in _chunks(iter(entries), batch))
        if self.legacy.exists():
            for suffix in ("", "-wal", "-shm", "-journal"):
                Path(f"{self.legacy}{suffix}").unlink(missing_ok=True)
            log.info("moved %s request(s) from the earlier spool %s", len(entries), self.legacy.name)
        self.legacy = None
        return stored

    def _legacy_entries(self) -> list[Entry]:
        if self.legacy is None or not self.legacy.exists():
            return []
        connection = sqlite3.connect(self.legacy, isolation_level=None)
        try:
            rows = connection.execute("SELECT key, user_key, body, received_at FROM entry ORDER BY id").fetchall()
        except sqlite3.OperationalError:
            rows = []  # created, never written
        finally:
            connection.close()
        return [Entry(k, u, json.loads(b), datetime.fromisoformat(at)) for k, u, b, at in rows]

    def count(self) -> int:
        """Requests spooled and not yet drained."""
        spooled = sum(1 for _ in _read(self._current, quiet=True))  # before the sealed files: a mover may seal it
        sealed = sum(1 for path in self.folder.glob(f"{SEALED}*") for _ in _read(path, quiet=True))
        return spooled + sealed + len(self._legacy_entries())

    def close(self) -> None:
        """Let go of this thread's `current` (its next append opens it again)."""
        self._local.segment = None


def _read(path: Path, quiet: bool = False) -> Iterator[Entry]:
    """A spool file's whole lines (a last line without its newline is a write still going on, or one that
    failed and was never acknowledged)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return
    for line in data.split(b"\n")[:-1]:
        if not line:
            continue
        try:
            key, user_key, at, body = json.loads(line)
            yield Entry(key, user_key, body, datetime.fromisoformat(at))
        except (ValueError, TypeError) as err:
            if not quiet:
                log.warning("skipped an unreadable line in %s (a write that failed): %s", path.name, err)


def _chunks(entries: Iterator[Entry], size: int) -> Iterator[list[Entry]]:
    chunk: list[Entry] = []
    for entry in entries:
        chunk.append(entry)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
