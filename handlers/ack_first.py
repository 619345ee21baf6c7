"""A worker pool for the work after an ack that gives way to requests still waiting for theirs."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Executor, Future
from typing import Any

QUIET = 0.010  # seconds without a request in flight before the whole pool may run
PATIENCE = 0.25  # seconds a task waits at most while requests keep arriving; then one at a time runs


class AckFirstExecutor(Executor):
    """Tasks start once no request has been in flight for QUIET; while requests keep arriving, a task that
    has waited PATIENCE starts, one at a time.

    Python runs one thread at a time, so work running beside an incoming request takes turns with it;
    holding the queue back while requests arrive keeps every ack quick, and the work starts a moment later.
    """

    def __init__(self, workers: int) -> None:
        self._queue: deque[tuple[float, Future[Any], Callable[..., Any], tuple[Any, ...], dict[str, Any]]] = deque()
        self._cond = threading.Condition()
        self._in_flight = 0  # requests inside the app
        self._running = 0  # tasks running
        self._last_request = 0.0
        self._shutdown = False
        self._threads = [threading.Thread(target=self._work, daemon=True, name=f"work-{n}") for n in range(workers)]
        for thread in self._threads:
            thread.start()

    def request_started(self) -> None:
        with self._cond:
            self._in_flight += 1

    def request_finished(self) -> None:
        with self._cond:
            self._in_flight -= 1
            self._last_request = time.monotonic()
            if self._queue:  # as many workers as there are tasks; with none queued, waking one is for nothing
                self._cond.notify(len(self._queue))

    def submit(self, fn, /, *args, **kwargs):  # type: ignore[no-untyped-def]
        future: Future[Any] = Future()
        with self._cond:
            if self._shutdown:
                raise RuntimeError("cannot schedule new work after shutdown")
            self._queue.append((time.monotonic(), future, fn, args, kwargs))
            self._cond.notify()  # one worker per task: waking all of them cost each task a dozen thread switches
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        with self._cond:
            self._shutdown = True
            self._cond.notify_all()
        if wait:
            for thread in self._threads:
                thread.join()

    def _next(self) -> tuple[float, Future[Any], Callable[..., Any], tuple[Any, ...], dict[str, Any]] | None:
        with self._cond:
            while True:
                if self._queue:
                    now = time.monotonic()
                    quiet_for, waited = now - self._last_request, now - self._queue[0][0]
                    if (self._in_flight == 0 and quiet_for >= QUIET) or (waited >= PATIENCE and not self._running):
                        self._running += 1
                        return self._queue.popleft()
                    self._cond.wait(max(min(QUIET - quiet_for, PATIENCE - waited), 0.001))
                elif self._shutdown:
                    return None
                else:
                    self._cond.wait()

    def _work(self) -> None:
        while (item := self._next()) is not None:
            _, future, fn, args, kwargs = item
            try:
                if future.set_running_or_notify_cancel():
                    try:
                        future.set_result(fn(*args, **kwargs))
                    except BaseException as err:
                        future.set_exception(err)
            finally:
                with self._cond:
                    self._running -= 1
                    if self._queue:  # a task held back for the one running may start now
                        self._cond.notify()
