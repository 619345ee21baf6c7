"""The scheduler: APScheduler 3 with a persistent job store in the bot's database, run by one replica.

The truth lives in the Reminder table; the job store only holds four jobs, rebuilt from the tables at
start: `pp-plan` (daily: extend every plan, then the chores such as RMM pulls), `pp-watch` (a date job at the
next threat feed read that is due, when a feed is configured), `pp-next` (a date job at the earliest due
reminder, re-armed after each run) and `pp-poll` (re-arms pp-next, so plans made by other replicas are seen). Replicas
share one database, and APScheduler must not share a job store between running schedulers, so a lease
row elects the one process that runs it; the reminder ledger keeps posts single even if two ever do.

Nothing stops it silently: the lease loop catches and logs every error and backs off; APScheduler's own loop
survives a failing job store (it tries again in RETRY seconds); a scheduler thread that died anyway is
restarted by the lease loop; and `status()` tells /healthz whether this process runs it.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from datetime import UTC, datetime, timedelta

from apscheduler.executors.debug import DebugExecutor
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers import SchedulerNotRunningError
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.exc import IntegrityError

from bot.kernel.clock import Clock, SystemClock
from bot.kernel.errors import short
from bot.kernel.instances import dead_here
from bot.scheduling.aps import RETRY, SteppedScheduler, SurvivingScheduler, alive, apscheduler_time
from bot.scheduling.ledger import Poster
from bot.scheduling.manual_drive import ManualDrive
from bot.scheduling.reminders import Reminders
from storage.db import Database
from storage.models import SchedulerLease

log = logging.getLogger(__name__)
LEASE = "scheduler"
LEASE_TTL = timedelta(seconds=60)
MAX_BACKOFF = 30.0
WATCH_RETRY = timedelta(minutes=15)  # a watch that failed outright runs again after this
_SERVICES: dict[str, SchedulerService] = {}  # jobs are pickled by reference; they find their service here


def _run_plan(instance: str) -> None:
    service = _SERVICES.get(instance)
    if service is not None:
        service.plan()


def _run_dispatch(instance: str) -> None:
    service = _SERVICES.get(instance)
    if service is not None:
        service.dispatch()


def _run_watch(instance: str) -> None:
    service = _SERVICES.get(instance)
    if service is not None:
        service.watch()


def _run_poll(instance: str) -> None:
    service = _SERVICES.get(instance)
    if service is not None:
        service.arm_next()


class SchedulerService(ManualDrive):
    """Owns the lease, the APScheduler instance and its jobs, for one process."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        poster: Poster,
        reminders: Reminders,
        poll: timedelta = timedelta(minutes=1),
        use_lease: bool = True,
    ) -> None:
        self.db = db
        self.clock = clock
        self.poster = poster
        self.instance = reminders.instance
        self.poll = poll
        self.use_lease = use_lease
        self.reminders = reminders  # the core's: its subjects (reviews, exceptions) are registered there
        self.manual = not isinstance(clock, SystemClock)
        self.scheduler: BaseScheduler | None = None
        self._stop = threading.Event()
        self._lock = threading.RLock()
        self._renewed: datetime | None = None  # the last time this process held the lease
        self._watch_due: datetime | None = None  # when the threat feeds next want reading
        _SERVICES[self.instance] = self

    # ----- leadership ---------------------------------------------------------------------------

    def hold_lease(self) -> bool:
        """Take or renew the lease; True while this process is the one that schedules."""
        held = self._take_lease()
        if held:
            self._renewed = self.clock.now()
        return held

    def _take_lease(self) -> bool:
        if not self.use_lease:
            return True
        now = self.clock.now()
        try:
            with self.db.write() as session:
                lease = session.get(SchedulerLease, LEASE)
                if lease is None:
                    session.add(SchedulerLease(name=LEASE, holder=self.instance, expires_at=now + LEASE_TTL))
                    return True
                if lease.holder == self.instance or lease.expires_at <= now or dead_here(lease.holder, self.instance):
                    lease.holder, lease.expires_at = self.instance, now + LEASE_TTL
                    session.add(lease)
                    return True
                return False
        except IntegrityError:
            return False

    def lease_expiry(self) -> datetime | None:
        with self.db.read() as session:
            lease = session.get(SchedulerLease, LEASE)
            return lease.expires_at if lease else None

    def release_lease(self) -> None:
        """At a stop: hand back reminder claims and the lease, so the next process schedules at once."""
        self.reminders.hand_back()
        with self.db.write() as session:
            lease = session.get(SchedulerLease, LEASE)
            if lease is not None and lease.holder == self.instance:
                session.delete(lease)

    # ----- APScheduler --------------------------------------------------------------------------

    def start(self) -> None:
        """Production: a thread keeps the lease and runs the scheduler while it holds it (the first turn
        here, so a process that can schedule says so from its first health check)."""
        try:
            self._lead()
        except Exception as err:
            log.warning("scheduler lease check failed (the lease thread tries again): %s", short(err))
        threading.Thread(target=self._lease_loop, name="patchpolicy-lease", daemon=True).start()

    def _lease_loop(self) -> None:
        failures = 0
        while not self._stop.is_set():
            try:
                self._lead()
                failures, wait = 0, LEASE_TTL.total_seconds() / 3
            except Exception as err:
                failures += 1
                wait = min(2.0**failures, MAX_BACKOFF)
                log.warning("scheduler lease check failed (trying again in %.0f s): %s", wait, short(err))
                self._give_up_if_stale()
            self._stop.wait(wait)

    def _lead(self) -> None:
        """One turn of the lease loop: renew or take the lease, and start, restart or stop the scheduler."""
        leader = self.hold_lease()
        if leader and self.scheduler is not None and not alive(self.scheduler):
            log.error("the scheduler had stopped; starting it again")
            self._shutdown_scheduler()
        if leader and self.scheduler is None:
            log.info("this process (%s) now runs the scheduler", self.instance)
            self.begin()
        elif not leader and self.scheduler is not None:
            log.warning("lost the scheduler lease; stopping the scheduler here")
            self._shutdown_scheduler()

    def _give_up_if_stale(self) -> None:
        """Unable to renew for a whole lease: another replica may take it, so stop scheduling here."""
        if self.scheduler is not None and (self._renewed is None or self.clock.now() - self._renewed >= LEASE_TTL):
            log.warning("could not renew the scheduler lease for %s; stopping the scheduler here", LEASE_TTL)
            self._shutdown_scheduler()

    def status(self) -> dict[str, str]:
        """For /healthz: whether this process holds the lease, and whether its scheduler runs."""
        leader = not self.use_lease or (self._renewed is not None and self.clock.now() - self._renewed < LEASE_TTL)
        running = self.scheduler is not None and alive(self.scheduler)
        return {
            "lease": "held" if leader else "elsewhere",
            "scheduler": "running" if running else ("stopped" if leader else "standby"),
        }

    def begin(self) -> None:
        """Start APScheduler on the shared job store and rebuild its jobs from the tables."""
        with self._lock:
            executor = DebugExecutor() if self.manual else ThreadPoolExecutor(2)
            kind = SteppedScheduler if self.manual else SurvivingScheduler
            store = SQLAlchemyJobStore(engine=self.db.write_engine, tablename="apscheduler_jobs")
            self.scheduler = kind(
                jobstores={"default": store},
                executors={"default": executor},
                job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
                jobstore_retry_interval=RETRY,
                timezone=UTC,
            )
            try:
                self.scheduler.start()
                self.rebuild()
            except Exception:
                self._shutdown_scheduler()  # half started: the lease loop starts it again
                raise

    def _time(self) -> contextlib.AbstractContextManager[None]:
        """APScheduler's view of the time: ours when the clock is manual."""
        return apscheduler_time(self.clock.now) if self.manual else contextlib.nullcontext()

    def rebuild(self) -> None:
        """Replace every job with the ones the tables call for (stale or unpicklable jobs are gone)."""
        with self._lock, self._time():
            self._rebuild()

    def _rebuild(self) -> None:
        assert self.scheduler is not None
        now = self.clock.now()
        self.scheduler.remove_all_jobs()
        self.scheduler.add_job(
            _run_plan,
            CronTrigger(hour=0, minute=5, timezone=UTC),
            args=[self.instance],
            id="pp-plan",
            replace_existing=True,
        )
        self.scheduler.add_job(
            _run_plan, DateTrigger(now), args=[self.instance], id="pp-plan-now", replace_existing=True
        )
        if self.reminders.watches:
            self._watch_due = now
            self.scheduler.add_job(
                _run_watch, DateTrigger(now), args=[self.instance], id="pp-watch", replace_existing=True
            )
        self.scheduler.add_job(
            _run_poll,
            IntervalTrigger(seconds=self.poll.total_seconds(), start_date=now),
            args=[self.instance],
            id="pp-poll",
            replace_existing=True,
        )
        self.arm_next()

    def arm_next(self) -> None:
        """Point pp-next at the earliest due reminder (now, if some are overdue); if the database is away,
        pp-poll tries again."""
        try:
            self._arm_next()
        except Exception as err:
            log.warning("could not arm the next reminder (the poll tries again): %s", short(err))

    def _arm_next(self) -> None:
        with self._lock:
            if self.scheduler is None:
                return
            if self._watch_due is not None and self.scheduler.get_job("pp-watch") is None:
                with self._time():
                    self.scheduler.add_job(
                        _run_watch,
                        DateTrigger(max(self._watch_due, self.clock.now())),
                        args=[self.instance],
                        id="pp-watch",
                        replace_existing=True,
                    )
            due = self.reminders.next_due()
            if due is None:
                with contextlib.suppress(Exception):
                    self.scheduler.remove_job("pp-next")
                return
            when = max(due, self.clock.now())
            with self._time():
                self.scheduler.add_job(
                    _run_dispatch, DateTrigger(when), args=[self.instance], id="pp-next", replace_existing=True
                )

    def plan(self) -> None:
        added = self.reminders.plan_all()
        log.info("planned %s new reminders", added)
        self.arm_next()
        self.chores()

    def chores(self) -> None:
        """The daily chores (RMM pulls), after planning: each on its own, so one failing never stops the others."""
        for chore in self.reminders.chores:
            try:
                chore()
            except Exception:
                log.exception("an hourly chore failed; it runs again in an hour")

    def watch(self) -> None:
        """The threat feeds that are due; then pp-watch moves to the next one due, and pp-next to what they found."""
        now = self.clock.now()
        due: list[datetime] = []
        for work in self.reminders.watches:
            try:
                when = work()
            except Exception:
                log.exception("a watch failed; it runs again in %s", WATCH_RETRY)
                when = now + WATCH_RETRY
            if when is not None:
                due.append(max(when, now + timedelta(seconds=1)))
        self._watch_due = min(due, default=None)
        self.arm_next()  # arms pp-watch too: APScheduler retires a date job after its run, re-adding or not

    def dispatch(self) -> None:
        report = self.reminders.dispatch(self.poster)
        if report.sent or report.skipped or report.failed:
            log.info("reminders: %s sent, %s skipped, %s to retry", report.sent, report.skipped, report.failed)
        self.arm_next()

    def stop(self) -> None:
        self._stop.set()
        self._shutdown_scheduler()
        _SERVICES.pop(self.instance, None)

    def _shutdown_scheduler(self) -> None:
        with self._lock:
            if self.scheduler is not None:
                with contextlib.suppress(SchedulerNotRunningError):
                    self.scheduler.shutdown(wait=False)
                self.scheduler = None
