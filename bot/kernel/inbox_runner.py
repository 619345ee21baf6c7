"""Runs the work of recorded requests: claims them from the inbox, one person's in order, and finishes each.

A request's work runs inside `Database.unit_of`, so its first committed write marks it done in the same
transaction; work that writes nothing (a `show`) is marked done in the process's next claim, so a burst of
reads costs one write per claim, not one per request. A transient failure (the database locked or restarting,
a connection dropped) puts it back with a backoff; any other failure marks it failed, logged once. `stop`
hands back what is unfinished.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Executor
from datetime import datetime, timedelta

from sqlalchemy.exc import DBAPIError, OperationalError

from bot.kernel.clock import Clock
from bot.kernel.errors import short
from bot.kernel.instances import dead_here
from bot.kernel.woken_thread import WokenThread
from storage import inbox
from storage.db import Database, InboxUnit

log = logging.getLogger(__name__)
CLAIM = timedelta(seconds=10)  # a worker that dies holding a request gives it up after this (the poll renews it)
CLAIM_BATCH = 4  # at most this many per claim: worker processes woken together share a burst between them
MAX_ATTEMPTS = 5
KEEP_DONE = timedelta(days=1)


def transient(err: BaseException) -> bool:
    """Failures worth another try: the database busy or away, a network hiccup."""
    if isinstance(err, OperationalError | ConnectionError | TimeoutError):
        return True
    return isinstance(err, DBAPIError) and bool(err.connection_invalidated)


class InboxRunner:
    """One dispatcher thread per process claims inbox requests while it has free slots and runs each on the
    executor; `wake` (a request was recorded, or one finished) makes it look at once, else it looks every
    `poll` seconds (requests of other processes, retries, what a crash left behind). One claimer per process
    keeps write transactions few: an idle look is a read."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        handle: Callable[[inbox.Claimed], None],
        worker: str,
        executor: Executor,
        slots: int,
        poll: float = 1.0,
        claim: timedelta = CLAIM,
        active: bool = True,
    ) -> None:
        self.db, self.clock, self.handle, self.worker = db, clock, handle, worker
        self.executor, self.poll, self.claim = executor, poll, claim
        self.active = active and slots > 0  # False: this process only records; other processes run the work
        self._slots = threading.Semaphore(max(slots, 1))
        self._thread = WokenThread("patchpolicy-inbox", self._step, poll)
        self._pruned_at: datetime | None = None
        self._renewed_at: datetime | None = None
        self._idle = threading.Condition()
        self._running: set[int] = set()  # requests this process is working on
        self._finished: list[int] = []  # requests whose work is over, to be marked done

    def wake(self) -> None:
        """Look for claimable requests now."""
        self._thread.wake()

    def _dispatch(self) -> None:
        """Claim claimable requests while there are free slots, CLAIM_BATCH at a time (a transaction each);
        hand each to the executor."""
        while not self._thread.stopping:
            free = 0
            while free < CLAIM_BATCH and self._slots.acquire(blocking=False):
                free += 1
            finished = self._take_finished()
            if not free and not finished:
                return
            try:
                now = self.clock.now()
                claimed = (
                    inbox.claim(self.db, self.worker, now, self.claim, free, finished)
                    if finished or inbox.has_claimable(self.db, now)
                    else []
                )
            except Exception as err:  # the database is away: the next look tries again
                log.warning("could not read the inbox: %s", short(err))
                claimed = []
                self._put_back(finished)
            for _ in range(free - len(claimed)):
                self._slots.release()
            if not claimed:
                return
            with self._idle:
                self._running.update(c.id for c in claimed)
            for one in claimed:
                self.executor.submit(self._run_slot, one)

    def _take_finished(self) -> list[int]:
        with self._idle:
            finished, self._finished = self._finished, []
        return finished

    def _put_back(self, finished: list[int]) -> None:
        with self._idle:
            self._finished[:0] = finished

    def _run_slot(self, claimed: inbox.Claimed) -> None:
        try:
            self._run(claimed)
        finally:
            with self._idle:
                self._running.discard(claimed.id)
                self._idle.notify_all()
            self._slots.release()
            self.wake()  # a slot is free, and this person's next request may be claimable now

    def _run(self, claimed: inbox.Claimed) -> None:
        unit = InboxUnit(claimed.id, self.clock.now())
        try:
            with self.db.unit_of(unit):
                self.handle(claimed)
        except Exception as err:
            self._failed(claimed, unit, err)
            return
        if not unit.done:  # work that stored nothing: marked done with the next claim, in its transaction
            with self._idle:
                self._finished.append(claimed.id)

    def _failed(self, claimed: inbox.Claimed, unit: InboxUnit, err: Exception) -> None:
        if unit.done:
            log.error("request %s failed after its effect was stored: %s", claimed.key, short(err))
        elif transient(err) and claimed.attempts < MAX_ATTEMPTS:
            delay = timedelta(seconds=min(2**claimed.attempts, 60))
            log.warning("request %s will be tried again in %s: %s", claimed.key, delay, short(err))
            self._settle(lambda: inbox.retry(self.db, claimed.id, self.clock.now() + delay, short(err)))
        else:
            log.error("request %s failed: %s", claimed.key, short(err), exc_info=not transient(err))
            self._settle(lambda: inbox.finish(self.db, [claimed.id], self.clock.now(), "failed", short(err)))

    def _settle(self, write: Callable[[], None]) -> None:
        """Record a request's end; if the database is away, its claim runs out and it is tried again."""
        try:
            write()
        except Exception as err:
            log.warning("could not record a request's end: %s", short(err))

    # ----- the poll: requests recorded by other processes, retries, and what a crash left behind -----

    def start(self) -> None:
        if not self.active:
            return
        self.recover()
        self.wake()  # look at once: what an earlier process left
        self._thread.start()

    def recover(self) -> None:
        """Hand back at once what processes on this host that have died were working on."""
        try:
            for worker in inbox.claimers(self.db):
                if dead_here(worker, self.worker) and (count := inbox.release(self.db, worker)):
                    log.info("took back %s request(s) from %s, which has stopped", count, worker)
        except Exception as err:
            log.warning("could not look for requests left by a stopped process: %s", short(err))

    def _step(self) -> None:
        """Claim what there is room for; renew the claims in hand; prune done requests now and then."""
        self._dispatch()
        try:
            now = self.clock.now()
            with self._idle:
                running = list(self._running)
            if running and (self._renewed_at is None or now - self._renewed_at >= self.claim / 4):
                inbox.renew(self.db, self.worker, running, now + self.claim)
                self._renewed_at = now
            if self._pruned_at is None or now - self._pruned_at > timedelta(hours=1):
                inbox.prune(self.db, now - KEEP_DONE)
                self._pruned_at = now
        except Exception as err:
            log.warning("inbox upkeep failed, trying again in %ss: %s", self.poll, short(err))

    def stop(self, timeout: float) -> int:
        """Claim nothing more, wait up to `timeout` for work in hand, hand back the rest; returns how many."""
        self._thread.stop(timeout)  # a claim in progress ends before what is held is handed back
        with self._idle:
            self._idle.wait_for(lambda: not self._running, timeout=timeout)
        try:
            inbox.finish(self.db, self._take_finished(), self.clock.now())
            return inbox.release(self.db, self.worker)
        except Exception as err:
            log.warning("could not hand back unfinished requests (their claims run out): %s", short(err))
            return 0
