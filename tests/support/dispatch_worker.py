"""A separate OS process that dispatches due reminders until none are left (the two-process replica test)."""

from __future__ import annotations

import sys
from datetime import datetime, timedelta

from slack_sdk import WebClient

from bot.kernel.clock import SystemClock
from bot.scheduling.reminders import Reminders
from handlers.reminders import SlackPoster
from storage.db import Database
from tests.support.fake_slack import TOKEN


class LaterClock(SystemClock):
    """The real clock moved on: a restarted process that comes back after the stale-claim time."""

    def __init__(self, seconds: float) -> None:
        self.shift = timedelta(seconds=seconds)

    def now(self) -> datetime:
        return super().now() + self.shift


def main(db_url: str, api_url: str, instance: str, shift: str = "0") -> None:
    reminders = Reminders(Database(db_url), LaterClock(float(shift)), instance)
    poster = SlackPoster(WebClient(token=TOKEN, base_url=api_url))
    sent = 0
    while True:
        report = reminders.dispatch(poster)
        sent += report.sent
        if not (report.sent or report.failed):
            break
    print(sent)


if __name__ == "__main__":
    main(*sys.argv[1:5])
