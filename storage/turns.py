"""Turns at SQLite's write lock for one process's threads, the inbox's short writes before the writers that
come after them.

SQLite's lock has no queue: under load a thread can keep losing to the others. A process's writers therefore
take turns on a lock of the process first, so only one of them at a time waits on SQLite's. That lock has no
queue either, and CI once saw the spool mover wait 6.5 s for it while work threads that came later kept taking
it. So a turn asked for `ahead` (the inbox's writes: moving acknowledged requests in, claiming the next, the
claims' heartbeat, which all other work waits on) holds back every writer that asks after it until it had its
turn; it still waits for those already waiting. Strict order for everyone was tried: a woken thread must be
scheduled before the lock is used again, and the acknowledgement benchmark's work took 7-9 s to drain, not 3.
"""

from __future__ import annotations

import threading
import time


class Turns:
    """A lock of one process whose `ahead` takers go before the takers that come after them (not reentrant: a
    write inside a write would wait for SQLite's lock, held by the outer one, anyway)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counting = threading.Lock()
        self._ahead = 0  # `ahead` takers waiting
        self._clear = threading.Event()  # set while none waits
        self._clear.set()

    def take(self, timeout: float, ahead: bool = False) -> bool:
        """Wait for a turn; False when `timeout` seconds passed first (then it holds nothing)."""
        if ahead:
            return self._take_ahead(timeout)
        deadline = time.monotonic() + timeout
        if self._ahead and not self._clear.wait(timeout):
            return False
        return self._lock.acquire(timeout=max(deadline - time.monotonic(), 0))

    def _take_ahead(self, timeout: float) -> bool:
        with self._counting:
            self._ahead += 1
            self._clear.clear()
        try:
            return self._lock.acquire(timeout=timeout)
        finally:
            with self._counting:
                self._ahead -= 1
                if not self._ahead:
                    self._clear.set()

    def give(self) -> None:
        """End this turn."""
        self._lock.release()
