"""The APScheduler kinds the scheduler service runs: a background scheduler whose loop outlives a failing job
store, and a threadless one that a manual clock steps through years of schedule in milliseconds."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator
from datetime import datetime

import apscheduler.executors.base as aps_executors
import apscheduler.schedulers.base as aps_base
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler

from bot.kernel.errors import short

log = logging.getLogger(__name__)
RETRY = 5.0  # seconds before APScheduler's loop tries its job store again


class SurvivingScheduler(BackgroundScheduler):
    """APScheduler's background scheduler whose loop outlives a failing job store (a locked or restarting
    database): the error is logged and the loop tries again in RETRY seconds."""

    def _process_jobs(self):  # type: ignore[no-untyped-def]
        try:
            return super()._process_jobs()
        except Exception as err:
            log.warning("the scheduler's job store failed (trying again in %.0f s): %s", RETRY, short(err))
            return RETRY


def alive(scheduler: BaseScheduler) -> bool:
    """Started and, for a background scheduler, its thread still going."""
    thread = getattr(scheduler, "_thread", None)
    return scheduler.running and (thread is None or thread.is_alive())


class SteppedScheduler(BaseScheduler):
    """APScheduler's own scheduler, without a thread: advance() steps it on a manual clock."""

    def wakeup(self) -> None:
        pass  # nothing sleeps; the next advance() step looks at the jobs again

    def shutdown(self, wait: bool = True) -> None:
        super().shutdown(wait=False)


@contextlib.contextmanager
def apscheduler_time(now: Callable[[], datetime]) -> Iterator[None]:
    """APScheduler 3 reads the wall clock itself; for a manual clock, it reads ours for one step."""

    class _Clocked(datetime):
        @classmethod
        def now(cls, tz=None):  # type: ignore[no-untyped-def, override]
            current = now()
            return current.astimezone(tz) if tz else current.replace(tzinfo=None)

    saved = aps_base.datetime, aps_executors.datetime
    aps_base.datetime = aps_executors.datetime = _Clocked  # type: ignore[misc]
    try:
        yield
    finally:
        aps_base.datetime, aps_executors.datetime = saved
