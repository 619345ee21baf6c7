"""The daily digest of device updates that passed their deadline: posted once a day in the client's channel,
exactly once across a restart and across two replicas, with a button that opens an exception for a device."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from tests.support.device_data import publish_client, write_csv
from tests.support.slack_driver import BotUnderTest, find_element, message_text
from tests.test_oob import opened_form

HEADER = ["Computer", "Site", "Patch", "Severity", "Status", "Released", "Last seen"]
COLUMNS = (
    "device=Computer,group=Site,update=Patch,severity=Severity,state=Status,released_at=Released,last_seen_at=Last seen"
)
# Critical allows 7 days: released Fri 20 Nov 10:00 in New York, due Fri 27 Nov 10:00 (15:00 UTC); the digest of
# Sat 28 Nov 09:00 (14:00 UTC) names it, the one of Fri 27 Nov 09:00 is before it and says nothing
RELEASED = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
DIGEST = datetime(2026, 11, 28, 14, 0, tzinfo=UTC)


def digests(fake) -> list[dict]:
    return [m for m in fake.posts("C0ACME") if "passed" in m.get("text", "") and "deadline" in m.get("text", "")]


def load(bot: BotUnderTest, tmp_path, rows: list[list[str]]) -> None:
    path = write_csv(tmp_path / "export.csv", HEADER, rows)
    assert bot.core.device_data.import_file("acme", path, "UTECH", COLUMNS).ok


ROWS = [
    ["PC-1", "Pilot", "KB5046617", "Critical", "Missing", RELEASED.isoformat(), "2026-11-25T12:00:00Z"],
    ["PC-1", "Pilot", "KB5046618", "Critical", "Failed", RELEASED.isoformat(), "2026-11-25T12:00:00Z"],
    ["PC-2", "Pilot", "KB5046617", "Critical", "Missing", RELEASED.isoformat(), "2026-11-25T12:00:00Z"],
    ["PC-3", "Pilot", "KB5046617", "Critical", "Installed", RELEASED.isoformat(), "2026-11-25T12:00:00Z"],
]


def test_one_digest_names_the_devices_and_survives_a_restart(fake, make_bot, tmp_path):
    first = make_bot(instance="first")
    publish_client(first.core)
    load(first, tmp_path, ROWS)
    first.scheduler.advance(DIGEST - timedelta(hours=1))
    assert digests(fake) == []  # the digest of the 27th had nothing to say
    first.stop()
    second = make_bot(instance="second")
    second.scheduler.advance(DIGEST + timedelta(days=2))
    (digest,) = digests(fake)
    text = message_text(digest)
    assert "Acme: 3 device updates passed their deadline" in text and "3 overdue in all" in text
    assert "*PC-1*: KB5046617 (critical), KB5046618 (critical)" in text and "*PC-2*: KB5046617 (critical)" in text
    assert "PC-3" not in text
    _, button = find_element(digest, "pp.device.exception.0")
    assert json.loads(button["value"])["w"] == "PC-1: KB5046617, KB5046618"


def test_two_replicas_post_the_digest_once(fake, make_bot, tmp_path):
    one = make_bot(instance="one", use_lease=False)
    two = make_bot(instance="two", use_lease=False)
    publish_client(one.core)
    load(one, tmp_path, ROWS)
    for hour in range(0, 24 * 3, 2):  # both run every job; only the ledger keeps the post single
        moment = datetime(2026, 11, 26, 10, tzinfo=UTC) + timedelta(hours=hour)
        one.scheduler.advance(moment)
        two.scheduler.advance(moment)
    assert len(digests(fake)) == 1


def test_the_exception_button_opens_the_form_filled_in(bot, fake, tmp_path):
    publish_client(bot.core)
    load(bot, tmp_path, ROWS)
    bot.scheduler.advance(DIGEST + timedelta(minutes=1))
    (digest,) = digests(fake)
    bot.click(digest, "pp.device.exception.0")
    opened = opened_form(fake)
    what = next(b for b in opened["blocks"] if b.get("block_id") == "what")
    assert what["element"]["initial_value"] == "PC-1: KB5046617, KB5046618"


def test_the_window_check_in_points_to_the_device_data(bot, fake, tmp_path):
    publish_client(bot.core)
    load(bot, tmp_path, ROWS)
    pilot_end = datetime(2026, 12, 10, 5, 0, tzinfo=UTC)  # Wed 9 Dec 20:00-24:00 in New York
    bot.scheduler.advance(pilot_end + timedelta(minutes=1))
    (close,) = [m for m in fake.posts("C0ACME") if "Pilot window closed" in message_text(m)]
    assert "What the RMM's data shows, Pilot included: `/patchpolicy status Acme`." in message_text(close)
