"""Turns at SQLite's write lock for one process's threads, handed out in the order they were asked for.

SQLite's lock has no queue, and neither has `threading.Lock`: under load a thread can keep losing to threads
that came later, past the busy timeout. Here each waiter gets its own gate and a release opens the gate of the
longest waiter. Turns asked for `ahead` (the inbox's short writes: moving acknowledged requests in, claiming
the next, the claims' heartbeat) are handed out before the others, because all other work waits on them.
"""

from __future__ import annotations

import threading
from collections import deque


class Turns:
    """A first-come, first-served lock of one process (not reentrant: a write inside a write would wait for
    SQLite's lock, held by the outer one, anyway)."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._ahead: deque[tuple[int, threading.Lock]] = deque()
        self._behind: deque[tuple[int, threading.Lock]] = deque()
        self._holder: int | None = None

    def take(self, timeout: float, ahead: bool = False) -> bool:
        """Wait for this thread's turn; False when `timeout` seconds passed first (then it holds nothing)."""
        me = threading.get_ident()
        with self._guard:
            if self._holder is None:  # nobody holds it, so nobody waits
                self._holder = me
                return True
            waiter = (me, threading.Lock())
            waiter[1].acquire()
            (self._ahead if ahead else self._behind).append(waiter)
        if waiter[1].acquire(timeout=timeout):
            return True  # handed over by give: this thread holds it now
        with self._guard:
            if self._holder == me:  # handed over just as the wait ran out
                return True
            (self._ahead if ahead else self._behind).remove(waiter)
            return False

    def give(self) -> None:
        """End this thread's turn and hand it to the next waiter."""
        with self._guard:
            if self._holder != threading.get_ident():
                raise RuntimeError("a turn was given back by a thread that does not hold it")
            queue = self._ahead or self._behind
            if not queue:
                self._holder = None
                return
            self._holder, gate = queue.popleft()
            gate.release()
