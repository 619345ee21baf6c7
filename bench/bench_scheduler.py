"""The scheduler with 5,000 clients of 3 windows each: start-up, memory, planning a year, lateness.

Run: .venv/bin/python -m bench.bench_scheduler [clients] [clients for the year run]
"""

from __future__ import annotations

import json
import resource
import sys
import time
from datetime import timedelta

from sqlmodel import func, select

from bench.common import START, environment, seed_clients
from storage.models import Reminder


def rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 5_000
    fake, bot, _ = environment("scheduler")
    seed_clients(bot.db, count)
    results: dict[str, object] = {"clients": count, "rss before start (MB)": rss_mb()}
    service = bot.scheduler

    begin = time.perf_counter()
    service.begin()  # APScheduler on the shared job store, jobs rebuilt from the tables
    results["scheduler start-up (s)"] = round(time.perf_counter() - begin, 3)

    begin = time.perf_counter()
    service.reminders.plan_all()
    results["plan 45 days for every client (s)"] = round(time.perf_counter() - begin, 2)
    results["max rss after planning (MB)"] = rss_mb()

    bot.stop()
    fake.stop()

    sample = int(sys.argv[2]) if len(sys.argv) > 2 else 100
    fake, bot, _ = environment("scheduler-year")
    seed_clients(bot.db, sample)
    bot.scheduler.begin()
    begin = time.perf_counter()
    bot.scheduler.advance(START + timedelta(days=365))
    results[f"a year for {sample} clients: daily plans and every reminder posted (s)"] = round(
        time.perf_counter() - begin, 1
    )
    with bot.db.read() as session:
        sent = session.exec(select(func.count()).where(Reminder.status == "sent")).one()
        late = session.exec(select(Reminder.sent_at, Reminder.due_at).where(Reminder.status == "sent")).all()
    lateness = [(s - d).total_seconds() for s, d in late]
    results["reminders posted in the year"] = sent
    results["posts to the fake Slack"] = len(fake.calls_to("chat.postMessage"))
    results["lateness on the scheduler's clock: max (s)"] = max(lateness, default=0)
    print(json.dumps(results, indent=2))
    bot.stop()
    fake.stop()


if __name__ == "__main__":
    main()
