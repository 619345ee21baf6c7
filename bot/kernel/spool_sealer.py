"""Seals the spool of a process that acknowledges but does not move requests (`patchpolicy serve` with worker
processes): after appends, one thread seals this process's file (storage/spool.py), once for all the appends
meanwhile, and then tells the movers. A request thread only sets a flag."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from storage.spool import Spool

log = logging.getLogger(__name__)
GAP = 0.005  # seconds between seals at least: under load a seal hands over several requests, each move costs


class SpoolSealer:
    """One thread; `then` (the worker processes' wake) is called after each seal."""

    def __init__(self, spool: Spool, then: Callable[[], None], poll: float = 1.0) -> None:
        self.spool, self.then, self.poll = spool, then, poll
        self._wanted = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._sealed_at = 0.0

    def wake(self) -> None:
        """A request was appended."""
        self._wanted.set()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="patchpolicy-seal", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stopping.is_set():
            self._wanted.wait(self.poll)  # the poll retries a seal that failed
            self._wanted.clear()
            time.sleep(max(self._sealed_at + GAP - time.monotonic(), 0))  # appends meanwhile go with this seal
            self._seal_logged()
            self._sealed_at = time.monotonic()

    def _seal_logged(self) -> None:
        try:
            if self.spool.seal():
                self.then()
        except OSError as err:  # the appends are kept in the open file; the next wake or poll tries again
            log.warning("could not seal the spool for the movers: %s", err)

    def stop(self) -> None:
        """Seal what is left and let go of this process's file (what no mover takes now, the next start does)."""
        self._stopping.set()
        self._wanted.set()
        if self._thread is not None:
            self._thread.join(5)
        try:
            self.spool.close()
        except OSError as err:
            log.warning("could not seal the spool at stop: %s", err)
        self.then()
