"""Seals the spool of a process that acknowledges but does not move requests (`patchpolicy serve` with worker
processes): after appends, one thread seals this process's file (storage/spool.py), once for all the appends
meanwhile, and then tells the movers. A request thread only sets a flag."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from bot.kernel.woken_thread import WokenThread
from storage.spool import Spool

log = logging.getLogger(__name__)
GAP = 0.005  # seconds between seals at least: under load a seal hands over several requests, each move costs


class SpoolSealer:
    """One thread; `then` (the worker processes' wake) is called after each seal."""

    def __init__(self, spool: Spool, then: Callable[[], None], poll: float = 1.0) -> None:
        self.spool, self.then = spool, then
        self._thread = WokenThread("patchpolicy-seal", self._seal_logged, poll)  # the poll retries a failed seal
        self._sealed_at = 0.0

    def wake(self) -> None:
        """A request was appended."""
        self._thread.wake()

    def start(self) -> None:
        self._thread.start()

    def _seal_logged(self) -> None:
        time.sleep(max(self._sealed_at + GAP - time.monotonic(), 0))  # appends meanwhile go with this seal
        try:
            if self.spool.seal():
                self.then()
        except OSError as err:  # the appends are kept in the open file; the next wake or poll tries again
            log.warning("could not seal the spool for the movers: %s", err)
        self._sealed_at = time.monotonic()

    def stop(self) -> None:
        """Seal what is left and let go of this process's file (what no mover takes now, the next start does)."""
        self._thread.stop()
        self.spool.close()
        self.then()
