"""Window reminders through the fake Slack, with the real APScheduler on a manual clock."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta

from icalendar import Calendar
from sqlmodel import select

from storage.models import Reminder, WindowOutcome
from tests.support.questionnaire import finish, live_prompt
from tests.support.slack_driver import BotUnderTest, message_text

PILOT_START = datetime(2026, 12, 10, 1, 0, tzinfo=UTC)  # Wed 9 Dec 2026 20:00 EST: Patch Tuesday + 1
PILOT_END = PILOT_START + timedelta(hours=4)


def publish(bot: BotUnderTest, fake, answers: dict[str, str] | None = None) -> None:
    finish(bot, fake, answers=answers)
    bot.click(fake.last_post("DUTECH"), "pp.publish")


def reminders(fake, channel: str = "C0ACME") -> list[dict]:
    """Reminder messages in the channel, oldest first, each with the id of its ledger row."""
    return [m for m in fake.posts(channel) if (m.get("metadata") or {}).get("event_type") == "patchpolicy_reminder"]


def ids(posts: list[dict]) -> list[int]:
    return [m["metadata"]["event_payload"]["reminder_id"] for m in posts]


def test_lead_start_and_close_reminders_arrive_at_their_times(bot, fake, clock):
    publish(bot, fake)
    bot.scheduler.advance(PILOT_START - timedelta(hours=24, minutes=1))
    assert reminders(fake) == []

    bot.scheduler.advance(PILOT_START - timedelta(hours=24))
    (lead,) = reminders(fake)
    text = message_text(lead)
    assert "*Acme · Pilot*: patch window in 24 hours, Wed 09 Dec 2026 20:00 EST to Thu 00:00 EST" in text
    assert f"(your time: <!date^{int(PILOT_START.timestamp())}^" in text
    assert "Reboot: Prompt the user until a deadline" in text and "Show the SOP's windows" in text

    bot.scheduler.advance(PILOT_END)
    kinds = [m["text"] for m in reminders(fake)]
    assert len(kinds) == 4
    close = reminders(fake)[-1]
    assert "Acme - Pilot window closed.* Any failed patches?" in message_text(close)
    assert [e["text"]["text"] for e in close["blocks"][-1]["elements"]] == ["All good", "Report failures"]
    with bot.db.read() as session:
        sent = session.exec(
            select(Reminder).where(Reminder.status == "sent", Reminder.subject == "window").order_by(Reminder.due_at)
        ).all()
    assert [(r.group_name, r.kind, r.due_at) for r in sent] == [
        ("Pilot", "lead:24h", PILOT_START - timedelta(hours=24)),
        ("Pilot", "lead:1h", PILOT_START - timedelta(hours=1)),
        ("Pilot", "start", PILOT_START),
        ("Pilot", "close", PILOT_END),
    ]
    assert all(r.sent_at == r.due_at for r in sent)  # on time, to the second, on the manual clock


def test_check_in_all_good_once_and_failures_with_the_sops_steps(bot, fake, clock):
    publish(bot, fake)
    bot.scheduler.advance(PILOT_END)
    close = reminders(fake)[-1]
    bot.click(close, "pp.checkin.ok")
    bot.click(close, "pp.checkin.ok")  # double click
    updated = fake.messages[(close["channel"], close["ts"])]
    assert "All good, reported by <@UTECH>" in message_text(updated)
    assert not any(b["type"] == "actions" for b in updated["blocks"])

    bot.click(close, "pp.checkin.fail")
    assert "Devices affected" in str(fake.calls_to("views.open")[-1].args["view"])
    view_meta = fake.calls_to("views.open")[-1].args["view"]
    metadata = (view_meta if isinstance(view_meta, dict) else json.loads(view_meta))["private_metadata"]
    bot.submit_view(
        "pp_checkin_failures",
        {
            "devices": {"value": {"type": "plain_text_input", "value": "PC-12, PC-19 <!channel>"}},
            "updates": {"value": {"type": "plain_text_input", "value": "KB5050001"}},
            "notes": {"value": {"type": "plain_text_input", "value": ""}},
        },
        metadata=metadata,
    )
    updated = fake.messages[(close["channel"], close["ts"])]
    assert "Failures reported by <@UTECH>" in message_text(updated)
    assert "PC-12, PC-19 &lt;!channel&gt;" in message_text(updated)
    (steps,) = [m for m in fake.posts("C0ACME") if m["thread_ts"] == close["ts"]]
    assert "retried automatically 2 times" in message_text(steps)
    with bot.db.read() as session:
        (outcome,) = session.exec(select(WindowOutcome)).all()
    assert (outcome.status, outcome.devices, outcome.updates, outcome.group_name) == (
        "failures",
        "PC-12, PC-19 <!channel>",
        "KB5050001",
        "Pilot",
    )


def test_a_restart_between_planning_and_firing_posts_each_reminder_once(fake, make_bot):
    first = make_bot(instance="first")
    publish(first, fake)
    first.scheduler.advance(PILOT_START - timedelta(hours=2))
    first.stop()
    second = make_bot(instance="second")
    try:
        second.scheduler.advance(PILOT_END)
        posted = ids(reminders(fake))
        assert len(posted) == 4 and len(set(posted)) == 4
    finally:
        second.stop()


def test_a_reminder_missed_while_down_is_sent_at_start_if_still_useful(fake, clock, caplog, make_bot):
    first = make_bot(instance="first")
    publish(first, fake)
    first.stop()
    clock.set(PILOT_START + timedelta(hours=1))  # down through both leads and the start of the Pilot window
    second = make_bot(instance="second")
    try:
        with caplog.at_level(logging.INFO, logger="bot.scheduling.reminders"):
            second.scheduler.advance(PILOT_START + timedelta(hours=1, seconds=1))
        (late,) = reminders(fake)
        assert "the patch window is open now" in message_text(late)  # the latest useful one, once
        assert "a later reminder for the same window is due now" in caplog.text
    finally:
        second.stop()


def test_reminders_no_longer_useful_after_downtime_are_skipped_with_a_log(fake, clock, caplog, make_bot):
    first = make_bot(instance="first")
    publish(first, fake)
    first.stop()
    clock.set(datetime(2026, 12, 14, 8, 0, tzinfo=UTC))  # every December window has ended; Servers' an hour ago
    second = make_bot(instance="second")
    try:
        with caplog.at_level(logging.INFO, logger="bot.scheduling.reminders"):
            second.scheduler.advance(datetime(2026, 12, 14, 8, 0, 1, tzinfo=UTC))
        (only,) = reminders(fake)
        assert "Acme - Servers window closed" in message_text(only)  # a check-in is useful for a day
        assert caplog.text.count("the window has already ended") == 9
        assert caplog.text.count("the check-in is over a day late") == 2
    finally:
        second.stop()


def test_slack_429_then_ok_and_a_5xx_outage_post_each_reminder_once(bot, fake, clock):
    publish(bot, fake)
    fake.fail("chat.postMessage", 429, error="ratelimited", retry_after=0)
    bot.scheduler.advance(PILOT_START - timedelta(hours=24))
    assert len(reminders(fake)) == 1  # slack_sdk's handler waited and retried

    fake.fail("chat.postMessage", 503, error="service_unavailable", times=20)  # longer than the handler retries
    bot.scheduler.advance(PILOT_START - timedelta(hours=1))
    assert len(reminders(fake)) == 1
    with bot.db.read() as session:
        waiting = session.exec(
            select(Reminder).where(Reminder.kind == "lead:1h", Reminder.window_start == PILOT_START)
        ).one()
    assert waiting.status == "planned" and waiting.attempts == 1 and waiting.next_attempt_at > clock.now()
    fake.faults.clear()
    bot.scheduler.advance(PILOT_START - timedelta(minutes=50))
    posted = ids(reminders(fake))
    assert len(posted) == 2 and len(set(posted)) == 2


def test_two_schedulers_on_one_sqlite_file_post_each_reminder_once(fake, make_bot):
    one = make_bot(instance="one", use_lease=False)
    two = make_bot(instance="two", use_lease=False)
    try:
        publish(one, fake)
        for hour in range(0, 24 * 20, 6):  # both run every job; only the ledger keeps posts single
            moment = datetime(2026, 12, 1, tzinfo=UTC) + timedelta(hours=hour)
            one.scheduler.advance(moment)
            two.scheduler.advance(moment)
        posted = ids(reminders(fake))
        assert len(posted) == 12 and len(set(posted)) == 12  # 3 groups x (2 leads, start, close)
    finally:
        one.stop()
        two.stop()


def test_with_the_lease_only_one_replica_runs_the_scheduler(fake, make_bot):
    one = make_bot(instance="one")
    two = make_bot(instance="two")
    try:
        publish(one, fake)
        one.scheduler.advance(datetime(2026, 12, 1, tzinfo=UTC))
        two.scheduler.advance(datetime(2026, 12, 1, tzinfo=UTC))
        assert one.scheduler.scheduler is not None and two.scheduler.scheduler is None
        one.scheduler.stop()
        one.scheduler.release_lease()
        two.scheduler.advance(datetime(2026, 12, 20, tzinfo=UTC))  # it takes over
        assert len(set(ids(reminders(fake)))) == 12
    finally:
        one.stop()
        two.stop()


def test_years_of_schedule_run_in_moments_and_replanning_follows_new_versions(bot, fake, clock):
    publish(bot, fake)
    bot.scheduler.advance(datetime(2028, 12, 1, tzinfo=UTC))
    posted = ids(reminders(fake))
    assert len(set(posted)) == len(posted) == 3 * 24 * 4  # 3 groups, 24 months, 4 reminders a window

    bot.command("edit acme")
    prompt = fake.last_post("DUTECH")
    bot.click(prompt, "pp.edit", selected="When is the Servers")
    bot.dm("2nd Saturday, 23:00 for 2h")
    bot.click(live_prompt(fake), "pp.finish")
    bot.click(fake.last_post("DUTECH"), "pp.publish")
    with bot.db.read() as session:
        planned = session.exec(
            select(Reminder).where(
                Reminder.status == "planned", Reminder.group_name == "Servers", Reminder.kind == "start"
            )
        ).all()
        cancelled = session.exec(select(Reminder).where(Reminder.status == "cancelled")).all()
    assert planned and all(r.version == 2 and r.window_start.astimezone().weekday() in {5, 6} for r in planned)
    assert cancelled and all(r.group_name == "Servers" for r in cancelled)


def test_pause_unpause_and_archive(bot, fake, clock):
    publish(bot, fake)
    assert "paused until 2026-12-11" in bot.command("pause acme until 2026-12-11").json()["text"]
    bot.scheduler.advance(PILOT_END)
    assert reminders(fake) == []
    with bot.db.read() as session:
        skipped = session.exec(select(Reminder).where(Reminder.status == "skipped")).all()
    assert len(skipped) == 4 and {r.note for r in skipped} == {"reminders are paused"}
    bot.scheduler.advance(datetime(2026, 12, 12, 0, 59, tzinfo=UTC))
    assert [m["text"] for m in reminders(fake)] and "Workstations" in reminders(fake)[0]["text"]

    assert "are on again" in bot.command("unpause acme").json()["text"]
    assert "archived: " in bot.command("archive acme").json()["text"]
    before = len(reminders(fake))
    bot.scheduler.advance(datetime(2027, 3, 1, tzinfo=UTC))
    assert len(reminders(fake)) == before


def test_windows_lists_and_the_ics_file_parses_back(bot, fake, clock):
    publish(bot, fake)
    listing = message_text(bot.command("windows acme").json())
    assert "*Pilot* · Wed 09 Dec 2026 20:00 EST · Thu 00:00 EST" in listing
    soon = message_text(bot.command("windows").json())
    assert "Patch windows in the next 7 days" in soon and "No windows in the next 7 days." in soon
    clock.set(datetime(2026, 12, 8, tzinfo=UTC))
    soon = message_text(bot.command("windows").json())
    assert soon.index("*Acme* · Pilot") < soon.index("*Acme* · Workstations") < soon.index("*Acme* · Servers")

    bot.command("windows acme ics")
    (ics,) = [f for f in fake.files.values() if f["filename"] == "acme-patch-windows.ics"]
    calendar = Calendar.from_ical(ics["content"])
    events = sorted(calendar.walk("VEVENT"), key=lambda e: e.decoded("dtstart"))
    assert len(events) == 36
    assert events[0].decoded("dtstart") == PILOT_START and events[0].decoded("dtend") == PILOT_END
    assert str(events[0]["summary"]) == "Acme: Pilot patch window"
    assert len({str(e["uid"]) for e in events}) == 36


def test_clients_with_the_same_windows_each_get_their_reminders(bot, fake, clock):
    publish(bot, fake)
    bot.command("new Globex", channel="C0ACME", channel_name="acme-patching")
    for _ in range(40):
        prompt = live_prompt(fake)
        if "Summary" in prompt["text"]:
            break
        bot.click(prompt, "pp.rest")
    bot.click(live_prompt(fake), "pp.finish")
    bot.click(fake.last_post("DUTECH"), "pp.publish")
    bot.scheduler.advance(PILOT_START)  # both clients' 24h and 1h leads and starts fall due together
    texts = [m["text"] for m in reminders(fake)]
    assert sum("Acme · Pilot" in t for t in texts) == 3 and sum("Globex · Pilot" in t for t in texts) == 3


def test_jobs_stored_by_the_release_before_the_move_to_bot_scheduling_do_not_stop_the_scheduler(fake, caplog, make_bot):
    """Earlier releases pickled jobs as `bot.scheduler:_run_plan`: such a job is dropped and rebuilt from the tables."""
    import pickle

    from sqlalchemy import text

    first = make_bot(instance="first")
    publish(first, fake)
    first.scheduler.advance(PILOT_START - timedelta(hours=2))
    with first.db.write() as session:
        rows = session.exec(text("SELECT id, job_state FROM apscheduler_jobs")).all()  # type: ignore[call-overload]
        assert rows
        for job_id, blob in rows:
            state = pickle.loads(blob)
            state["func"] = state["func"].replace("bot.scheduling.scheduler:", "bot.scheduler:")
            session.exec(  # type: ignore[call-overload]
                text("UPDATE apscheduler_jobs SET job_state = :state WHERE id = :id"),
                params={"state": pickle.dumps(state), "id": job_id},
            )
    first.stop()
    second = make_bot(instance="second")
    try:
        second.scheduler.advance(PILOT_END)
        posted = ids(reminders(fake))
        assert len(posted) == 4 and len(set(posted)) == 4  # every reminder of the window, once
        with second.db.read() as session:
            refs = [pickle.loads(b)["func"] for (b,) in session.exec(text("SELECT job_state FROM apscheduler_jobs"))]  # type: ignore[call-overload]
        assert refs and all(ref.startswith("bot.scheduling.scheduler:") for ref in refs)
    finally:
        second.stop()
