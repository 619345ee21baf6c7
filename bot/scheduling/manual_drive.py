"""Driving the scheduler on a manual clock: tests and benchmarks run years of schedule in milliseconds, each
job at its own time, with the lease renewed at every step as the lease thread does in real time."""

from __future__ import annotations

from datetime import datetime

from bot.scheduling.aps import apscheduler_time


class ManualDrive:
    """`advance` for SchedulerService (whose clock, lease and APScheduler it uses)."""

    def advance(self, until: datetime) -> None:
        """Move the manual clock to `until`, running each job at its own time on the way."""
        assert self.manual, "advance() drives a manual clock"
        while True:
            if not self.hold_lease():  # renewed at every step, as the lease thread does in real time
                self._shutdown_scheduler()
                expiry = self.lease_expiry()
                if expiry is None or expiry >= until:
                    self._set(until)
                    return
                self._set(expiry)  # the holder stopped renewing: wait out its lease, then take over
                continue
            if self.scheduler is None:
                self.begin()
            times = [j.next_run_time for j in self.scheduler.get_jobs() if j.next_run_time is not None]
            upcoming = min(times, default=None)
            last = upcoming is None or upcoming > until
            self._set(until if last else max(upcoming, self.clock.now()))
            if not self.hold_lease():
                self._shutdown_scheduler()
                return
            self.run_pending()
            self.arm_next()  # the synchronous executor ran pp-next before APScheduler retired it
            if last:
                return

    def run_pending(self) -> None:
        """Let APScheduler run every job due at the manual clock's time."""
        with self._lock, apscheduler_time(self.clock.now):
            self.scheduler._process_jobs()

    def _set(self, moment: datetime) -> None:
        if moment > self.clock.now():
            self.clock.set(moment)  # type: ignore[attr-defined]
