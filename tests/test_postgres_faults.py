"""PostgreSQL stopped and started in the middle of a reminder run (issue 16): the scheduler keeps going, and
every reminder is posted once. Runs in the PostgreSQL suite (PATCHPOLICY_TEST_DB=postgres)."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from slack_sdk import WebClient
from sqlmodel import col, select

from bot.kernel.clock import SystemClock
from bot.scheduling.reminders import Reminders
from bot.scheduling.scheduler import SchedulerService
from handlers.reminders import SlackPoster
from storage.db import Database
from storage.models import Reminder
from tests.support.bot_process import wait_until
from tests.support.fake_slack import TOKEN
from tests.support.questionnaire import publish_and_stop
from tests.test_replicas import plant, posted_ids

pytestmark = pytest.mark.slow


def test_postgresql_stopped_and_started_during_a_reminder_run(bot, fake, db_url, request):
    if not db_url.startswith("postgresql"):
        pytest.skip("PostgreSQL only (PATCHPOLICY_TEST_DB=postgres)")
    from pgserver._commands import pg_ctl

    server = request.getfixturevalue("postgres")
    publish_and_stop(bot, fake)
    fake.clock = SystemClock()
    database, clock = Database(db_url), SystemClock()
    reminders = Reminders(database, clock, "pg-survivor")
    service = SchedulerService(
        database, clock, SlackPoster(WebClient(token=TOKEN, base_url=fake.url)), reminders, poll=timedelta(seconds=1)
    )
    service.start()
    try:
        fake.post_delay = 0.25  # a run long enough to stop the server in its middle
        plant(bot, "Pilot@pg", 12)
        wait_until(lambda: len(posted_ids(fake)) >= 2)
        pg_ctl(["-w", "-m", "fast", "stop"], pgdata=server.pgdata, user=server.system_user)
        time.sleep(2)
        server.ensure_postgres_running()
        wait_until(lambda: len(posted_ids(fake)) >= 12, timeout=60)
        time.sleep(1)  # a double would come now
        posted = posted_ids(fake)
        assert len(posted) == 12 == len(set(posted))
        wait_until(lambda: service.status() == {"lease": "held", "scheduler": "running"})
        with database.read() as session:
            rows = session.exec(select(Reminder).where(col(Reminder.occurrence).startswith("Pilot@pg"))).all()
        assert {r.status for r in rows} == {"sent"}
    finally:
        service.stop()
        database.dispose()
