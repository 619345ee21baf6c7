"""The ack path's spool on SQLite: a request is appended to a plain file beside the database before its ack, so
an ack never waits for a write lock (the database's, held by claims and work); a mover in the background takes
what is spooled into the inbox table, in order, and forgets it.

The spool is a folder beside the database (`<database>-spool.d`):
- A process that acknowledges appends to a file of its own, `current-<started>-<pid>`, mapped into memory:
  an append reserves its bytes (a lock held for two lines) and copies the line into the map. It makes no
  system call: under load every call that lets go of Python's lock puts the thread at the back of the queue
  for it, which is what made acks wait. The file is made at full size (`CAPACITY`, its blocks allocated up
  front, so a copy never meets a full disk); a line that does not fit starts the next file.
- The same process seals its file when told to (after an append, `seal`): the next appends go to a new file,
  the appends in flight on the old one finish, it is cut to what was written and renamed
  `sealed-<started>-<pid>`. One seal at a time, so files are sealed in the order they were started and a
  mover never stores a later file's requests before an earlier one's. A sealed file is
  complete: a mover (one at a time in any process, an exclusive `flock` on `mover.lock`) reads it whole,
  stores it in the inbox and deletes it, oldest first.
- Each process holds an exclusive `flock` on its own file for as long as it appends to it. A file nobody holds
  is a crash's leftover (the kernel lets go of a dead process's locks); a mover seals it and moves it. A file
  is created under a temporary name and renamed to `current-...` only once it is locked, so a mover never
  takes a new file for a leftover; a mover removes a temporary file only once it is a minute old (a crash's:
  a start takes microseconds), never one a living process is starting. What the earlier releases left is
  moved first: their SQLite spool (`<database>-spool`) and their `current` and `sealed-<n>` files.

The durability is the SQLite spool's (written to the page cache, not fsynced: it survives the process, not
the machine), and, like SQLite, it needs a local file system. Each line starts with a newline too, so a copy
cut short by a crash (never acknowledged) cannot spoil the next line; the unwritten rest of a crashed
process's file reads as zero bytes, which a reader skips. PostgreSQL needs none of this: its inserts do not
serialise.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import mmap
import os
import sqlite3
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

log = logging.getLogger(__name__)
CURRENT, LOCK, SEALED, STARTING = "current", "mover.lock", "sealed-", ".starting-"
ATTEMPTS = 10  # times an append follows a seal to the next file before it gives up (sealing in a loop)
CAPACITY = 1 << 20  # bytes a file is made with (a seal every few milliseconds cuts it to what was written)
STALE_START = 60.0  # seconds after which a file still being started is a crash's (a start takes microseconds)


@dataclass(frozen=True)
class Entry:
    key: str
    user_key: str
    body: dict[str, Any]
    received_at: datetime


class _Segment:
    """This process's open file, mapped: appended to by every request thread, sealed by one."""

    def __init__(self, folder: Path, line: int = 0) -> None:
        """A new file of CAPACITY bytes, or of `line` bytes when a line that long must fit."""
        capacity = max(CAPACITY, line)
        self.name = f"{time.time_ns():020d}-{os.getpid()}"  # sorts by when it was started
        starting = folder / f"{STARTING}{self.name}"
        self.path = folder / f"{CURRENT}-{self.name}"
        self.fd = os.open(starting, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX)  # alive while held: a mover leaves the file alone
            _allocate(self.fd, capacity)
            os.rename(starting, self.path)
            self.map = mmap.mmap(self.fd, capacity)
        except OSError:
            os.close(self.fd)
            starting.unlink(missing_ok=True)
            self.path.unlink(missing_ok=True)
            raise
        self.capacity, self.end = capacity, 0
        self._reserving = threading.Lock()  # held for two lines, so it is never waited on in practice
        self.writing: deque[None] = deque()  # one item per append in flight (deque operations are atomic)

    def put(self, line: bytes) -> bool:
        """Copy a line in after the lines before it; False when it does not fit."""
        with self._reserving:
            start = self.end
            if start + len(line) > self.capacity:
                return False
            self.end = start + len(line)
        self.map[start : start + len(line)] = line  # a copy into the page cache: Python's lock is kept
        return True

    def cut(self) -> None:
        """Let go of the map and cut the file to what was written (the appends in flight have finished)."""
        self.map.close()
        os.ftruncate(self.fd, self.end)


def _allocate(fd: int, size: int) -> None:
    """Size the file with its blocks allocated now: a copy into a map that meets a full disk kills the process
    (SIGBUS), where a failed allocation here is an OSError the ack turns into a refusal."""
    if hasattr(os, "posix_fallocate"):
        os.posix_fallocate(fd, 0, size)
    else:  # macOS: no allocation ahead
        os.ftruncate(fd, size)


class Spool:
    """Appends from request threads, seals by the process that appends, drains from movers (any process, one at
    a time)."""

    def __init__(self, folder: Path, legacy: Path | None = None) -> None:
        self.folder, self.legacy = folder, legacy
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        self._segment: _Segment | None = None  # opened by the first append
        self._turn = threading.Lock()  # starting and sealing segments; never taken by an append in flight
        self._sealing = threading.Lock()  # one seal at a time: files become `sealed-...` in the order started

    @classmethod
    def beside(cls, database_url: str) -> Spool | None:
        """The spool of a SQLite database file; None for PostgreSQL or an in-memory database."""
        url = make_url(database_url)
        if not url.drivername.startswith("sqlite") or not url.database or url.database == ":memory:":
            return None
        return cls(Path(f"{url.database}-spool.d"), Path(f"{url.database}-spool"))

    def append(self, key: str, user_key: str, body: dict[str, Any], at: datetime) -> None:
        """Keep a request (raises OSError when it could not be kept: then it must not be acked)."""
        line = b"\n" + json.dumps([key, user_key, at.isoformat(), body], separators=(",", ":")).encode() + b"\n"
        for _ in range(ATTEMPTS):
            segment = self._segment or self._start(len(line))
            segment.writing.append(None)
            try:
                if segment is not self._segment:
                    continue  # sealed between the two lines above: this request goes to the next file
                if segment.put(line):
                    return
            finally:
                segment.writing.pop()
            self._roll(segment, len(line))  # full: this request starts the next file
        raise OSError("the spool was sealed under every attempt to append")

    def _start(self, size: int) -> _Segment:
        with self._turn:
            if self._segment is None:
                self._segment = _Segment(self.folder, size)
            return self._segment

    def seal(self) -> bool:
        """Hand what this process appended to the movers: later appends go to a new file, and the current one
        becomes `sealed-...` once the appends in flight are done. False when there was nothing to seal."""
        return self._hand_over(lambda segment: segment.end > 0)  # the next file made here, off request threads

    def _roll(self, full: _Segment, size: int) -> None:
        """A request that does not fit: the next file (one of its size if it is larger), the full one sealed
        (unless it was sealed or rolled meanwhile)."""
        self._hand_over(lambda segment: segment is full, size)

    def _hand_over(self, due: Callable[[_Segment], bool], size: int = 0) -> bool:
        """Start the next file and seal the current one, if there is one and `due` holds for it. One seal at a
        time, so files are sealed in the order they were started."""
        with self._sealing:
            with self._turn:
                segment = self._segment
                if segment is None or not due(segment):
                    return False
                self._segment = _Segment(self.folder, size)
            self._seal(segment)
        return True

    def _seal(self, segment: _Segment) -> None:
        while segment.writing:  # each is one copy already under way
            time.sleep(0.0001)
        try:
            segment.cut()
            os.rename(segment.path, self.folder / f"{SEALED}{segment.name}")
        finally:
            os.close(segment.fd)  # and with it the lock: a file left unsealed is a leftover a mover seals

    def close(self) -> None:
        """Seal what this process appended and let go of its file (a stop); the next append starts another.
        A file it cannot seal is left for the next start, which seals it as a leftover."""
        try:
            self.seal()
        except OSError as err:
            log.warning("could not seal the spool at stop (the next start moves it): %s", err)
        with self._turn:
            segment, self._segment = self._segment, None
        if segment is not None:
            segment.map.close()
            if not segment.end:
                segment.path.unlink(missing_ok=True)  # unused: nothing was written to it
            os.close(segment.fd)  # a file the seal above failed on stays, for the next start

    def drain(self, store: Callable[[list[Entry]], int], batch: int) -> int:
        """Give everything sealed to `store`, oldest first, in lists of at most `batch`; a file is deleted once
        all of it is stored. Returns the sum of what `store` returned. If `store` raises, what it was given
        stays spooled for the next drain. Files of processes that are gone are sealed first."""
        with open(self.folder / LOCK, "ab") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # one mover at a time, in any process; released on close
            stored = self._drain_legacy(store, batch)
            self._seal_leftovers()
            for path in _sealed(self.folder):
                stored += sum(store(entries) for entries in _chunks(_read(path), batch))
                path.unlink()
            return stored

    def _seal_leftovers(self) -> None:
        """Seal the files no living process holds: a crash's, or the earlier releases' `current`."""
        for path in self.folder.glob(f"{CURRENT}*"):
            try:
                fd = os.open(path, os.O_RDONLY)
            except FileNotFoundError:
                continue  # sealed by its process meanwhile
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue  # its process is alive and appending
            else:
                suffix = path.name.removeprefix(f"{CURRENT}-") if path.name != CURRENT else "999999999999"
                with contextlib.suppress(FileNotFoundError):  # its process sealed it between the open and the lock
                    os.rename(path, self.folder / f"{SEALED}{suffix}")
            finally:
                os.close(fd)
        for path in self.folder.glob(f"{STARTING}*"):
            _remove_stale_start(path)

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
        current = list(self.folder.glob(f"{CURRENT}*"))  # before the sealed files: a file is sealed by a rename
        spooled = sum(1 for path in current for _ in _read(path, quiet=True))
        sealed = sum(1 for path in _sealed(self.folder) for _ in _read(path, quiet=True))
        return spooled + sealed + len(self._legacy_entries())


def _remove_stale_start(path: Path) -> None:
    """A file left while being started by a process that crashed (nothing was written to it). A young one is
    a living process's start, which takes microseconds: removed under it, that start would fail."""
    with contextlib.suppress(FileNotFoundError):  # renamed to `current-...` meanwhile: started
        if time.time() - path.stat().st_mtime > STALE_START:
            path.unlink(missing_ok=True)


def _sealed(folder: Path) -> list[Path]:
    """Sealed files, oldest first: the earlier releases' (`sealed-<n>`), then by when each file was started."""
    return sorted(folder.glob(f"{SEALED}*"), key=lambda path: (path.name.count("-") > 1, path.name))


def _read(path: Path, quiet: bool = False) -> Iterator[Entry]:
    """A spool file's whole lines (a last line without its newline is a copy still going on, or one cut short
    and never acknowledged); zero bytes are the unwritten part of a file its process left unsealed."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return
    for piece in data.split(b"\n")[:-1]:
        line = piece.strip(b"\0")
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
