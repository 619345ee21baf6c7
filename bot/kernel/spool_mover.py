"""Moves spooled requests (storage/spool.py) into the inbox table, in order, off the ack path: woken by each
append, it stores what is spooled (a transaction per batch), lets the spool forget it, then wakes whoever runs
the work. A crash between the two leaves copies the next move skips (the inbox keys requests uniquely, which
also drops a repeat delivery that was spooled twice)."""

from __future__ import annotations

import logging
from collections.abc import Callable

from bot.kernel.errors import short
from bot.kernel.woken_thread import WokenThread
from storage import inbox
from storage.db import Database
from storage.spool import Entry, Spool

log = logging.getLogger(__name__)
BATCH = 500


class SpoolMover:
    """One thread per process that has a spool; `then` (the runner's wake) is called after each move."""

    def __init__(self, spool: Spool, db: Database, then: Callable[[], None], poll: float = 1.0) -> None:
        self.spool, self.db, self.then = spool, db, then
        self._thread = WokenThread("patchpolicy-spool", self._move_logged, poll)

    def wake(self) -> None:
        self._thread.wake()

    def move(self) -> int:
        """Copy everything spooled into the inbox (this process's appends sealed first); returns how many
        requests were new there."""
        self.spool.seal()
        moved = self.spool.drain(self._store, BATCH)
        self.then()  # also when another process moved them first: its runner may have no free slot
        return moved

    def _store(self, entries: list[Entry]) -> int:
        return inbox.record_many(self.db, [(e.key, e.user_key, e.body, e.received_at) for e in entries])

    def start(self) -> None:
        self._move_logged()  # what a stopped process left spooled
        self._thread.start()

    def _move_logged(self) -> None:
        try:
            self.move()
        except Exception as err:  # the database is away: the spool keeps the requests, the next wake retries
            log.warning("could not move spooled requests into the inbox: %s", short(err))

    def stop(self) -> None:
        """Move what is spooled, then stop (what cannot be moved now stays spooled for the next start)."""
        self._thread.stop()
        self.spool.close()  # seals this process's appends and lets go of its file
        self._move_logged()
