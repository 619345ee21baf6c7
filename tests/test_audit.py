"""Reports, check-in chases, policy reviews and the audit pack, through the fake Slack on a manual clock."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from sqlmodel import col, select

from storage.models import PolicyReview, Reminder
from tests.support.questionnaire import finish
from tests.support.slack_driver import BotUnderTest, message_text

PILOT_END = datetime(2026, 12, 10, 5, 0, tzinfo=UTC)  # Wed 9 Dec 20:00-24:00 EST
WORKSTATIONS_END = datetime(2026, 12, 12, 5, 0, tzinfo=UTC)  # Fri 11 Dec
SERVERS_END = datetime(2026, 12, 14, 7, 0, tzinfo=UTC)  # Sun 13 Dec 22:00-02:00 EST


def publish(bot: BotUnderTest, fake, answers: dict[str, str] | None = None) -> None:
    finish(bot, fake, answers=answers)
    bot.click(fake.last_post("DUTECH"), "pp.publish")


def posts_of(fake, channel: str, event_type: str) -> list[dict]:
    return [m for m in fake.posts(channel) if (m.get("metadata") or {}).get("event_type") == event_type]


def close_of(fake, group: str) -> dict:
    return next(
        m
        for m in posts_of(fake, "C0ACME", "patchpolicy_reminder")
        if f"Acme - {group} window closed" in message_text(m)
    )


def report_failures(bot: BotUnderTest, fake, close: dict) -> None:
    bot.click(close, "pp.checkin.fail")
    view = fake.calls_to("views.open")[-1].args["view"]
    metadata = (view if isinstance(view, dict) else json.loads(view))["private_metadata"]

    def typed(value: str) -> dict:
        return {"value": {"type": "plain_text_input", "value": value}}

    bot.submit_view(
        "pp_checkin_failures",
        {"devices": typed("PC-12"), "updates": typed("KB5050001"), "notes": typed("")},
        metadata=metadata,
    )


def december(bot: BotUnderTest, fake, clock) -> None:
    """Three windows (Pilot all good, Workstations failures, Servers unanswered) and one critical review."""
    publish(bot, fake)
    bot.scheduler.advance(datetime(2026, 12, 2, 9, 0, tzinfo=UTC))
    bot.command("oob acme CVE-2026-5555 critical")
    posted = next(m for m in fake.posts("C0ACME") if "out-of-band review" in (m["text"] or ""))
    clock.set(datetime(2026, 12, 2, 11, 0, tzinfo=UTC))
    bot.click(posted, "pp.oob.triaged")
    clock.set(datetime(2026, 12, 5, 9, 0, tzinfo=UTC))
    bot.click(fake.messages[(posted["channel"], posted["ts"])], "pp.oob.deployed")
    bot.scheduler.advance(PILOT_END)
    bot.click(close_of(fake, "Pilot"), "pp.checkin.ok")
    bot.scheduler.advance(WORKSTATIONS_END)
    report_failures(bot, fake, close_of(fake, "Workstations"))
    bot.scheduler.advance(datetime(2027, 1, 1, 14, 0, tzinfo=UTC))  # 09:00 in New York on the 1st


def test_a_month_of_windows_and_a_review_gives_the_right_report_posted_once(bot, fake, clock):
    december(bot, fake, clock)

    reports = [m for m in posts_of(fake, "C0ACME", "patchpolicy_report") if "December 2026" in m["text"]]
    assert len(reports) == 1
    text = message_text(reports[0])
    assert "Acme: patch report, December 2026" in text
    assert "*Patch windows*: 2 held, 1 with no check-in, of 3 in December 2026." in text
    assert "• *Wed 09 Dec 2026 20:00 EST*: Pilot · all good · - · -" in text
    assert "• *Fri 11 Dec 2026 20:00 EST*: Workstations · failures · PC-12 · KB5050001" in text
    assert "• *Sun 13 Dec 2026 22:00 EST*: Servers · no check-in" in text
    assert "• *CVE-2026-5555*: Critical · 02 Dec · 2.0 h (met) · 3.0 d (met) · Deployed" in text
    assert "*Out-of-band deadlines met* (target 95%):" in text and "• *Critical*: 1 · 1 · 100%" in text
    (upload,) = [f for f in fake.files.values() if f["filename"] == "acme-patch-report-2026-12.html"]
    assert upload["thread_ts"] == reports[0]["ts"] and "<h1>Acme: patch report, December 2026</h1>" in upload["content"]

    bot.scheduler.advance(datetime(2027, 1, 5, tzinfo=UTC))  # days of planning and polling later: still once
    assert len([m for m in posts_of(fake, "C0ACME", "patchpolicy_report") if "December 2026" in m["text"]]) == 1
    with bot.db.read() as session:
        rows = session.exec(select(Reminder).where(Reminder.occurrence == "report:2026-12")).all()
    assert [(r.status, r.due_at) for r in rows] == [("sent", datetime(2027, 1, 1, 14, 0, tzinfo=UTC))]

    bot.command("report acme 2026-12")
    asked = message_text(fake.responses[-1])
    assert "2 held, 1 with no check-in" in asked and "• *Critical*: 1 · 1 · 100%" in asked
    assert any(
        f["filename"] == "acme-patch-report-2026-12.html" and f["channel"] == "DUTECH" for f in fake.files.values()
    )


def test_an_unanswered_check_in_is_chased_once_by_dm(bot, fake, clock):
    december(bot, fake, clock)
    chases = [m for m in fake.posts("DUTECH") if "nobody has answered the check-in" in message_text(m)]
    assert len(chases) == 1  # Servers only: Pilot and Workstations were answered
    assert "Acme - Servers" in message_text(chases[0])
    with bot.db.read() as session:
        chase = session.exec(
            select(Reminder).where(Reminder.kind == "chase", col(Reminder.occurrence).startswith("Servers@2026-12"))
        ).one()
        skipped = session.exec(
            select(Reminder).where(Reminder.kind == "chase", col(Reminder.occurrence).startswith("Pilot@2026-12"))
        ).one()
    assert (chase.status, chase.sent_at) == ("sent", SERVERS_END + timedelta(hours=12))
    assert (skipped.status, skipped.note) == ("skipped", "the check-in was answered")


def test_the_review_reminder_fires_at_the_cadence_and_start_review_opens_the_edit_flow(bot, fake, clock):
    publish(bot, fake, answers={"audit.review_cadence": "quarterly"})
    due = datetime(2027, 2, 26, 9, 0, tzinfo=UTC)  # three months after publishing
    bot.scheduler.advance(due - timedelta(minutes=1))
    assert posts_of(fake, "C0ACME", "patchpolicy_review") == []
    bot.scheduler.advance(due)
    (in_channel,) = posts_of(fake, "C0ACME", "patchpolicy_review")
    (to_owner,) = posts_of(fake, "DUTECH", "patchpolicy_review")
    assert "Acme: policy review due 26 February 2027." in message_text(in_channel)
    assert "it is reviewed quarterly" in message_text(in_channel)

    bot.click(in_channel, "pp.review.nochange")
    recorded = message_text(fake.messages[(in_channel["channel"], in_channel["ts"])])
    assert "no changes needed. Next review due 26 May 2027." in recorded

    bot.click(to_owner, "pp.review.start")
    dm = [message_text(m) for m in fake.posts("DUTECH")]
    assert any("review started; the policy was opened for editing" in t for t in dm)
    assert any("Here are Acme's published answers" in t for t in dm)
    with bot.db.read() as session:
        reviews = session.exec(select(PolicyReview).order_by(PolicyReview.id)).all()
    assert [(r.reviewed_by, r.outcome, r.reviewed_at) for r in reviews] == [
        ("UTECH", "no changes needed", due),
        ("UTECH", "review started; the policy was opened for editing", due),
    ]
    bot.scheduler.advance(datetime(2027, 5, 26, 9, 0, tzinfo=UTC))  # the next one counts from the review
    assert len(posts_of(fake, "C0ACME", "patchpolicy_review")) == 2


def test_the_audit_pack_holds_the_evidence_in_one_file(bot, fake, clock):
    december(bot, fake, clock)
    bot.command("audit acme")
    (pack,) = [f for f in fake.files.values() if f["filename"].startswith("acme-audit-")]
    html = pack["content"]
    for heading in (
        "1. Compliance summary",
        "2. Version history",
        "3. Policy reviews",
        "4. Exception register",
        "5. Monthly reports",
        "6. Current SOP",
    ):
        assert f"<h2>{heading}</h2>" in html
    assert "<h3>Acme: patch report, December 2026</h3>" in html and "Patch management SOP v1" in html
    assert "from 26 November 2026, when the SOP was first published" in html  # a month cut short says so
    assert "patch report, October 2026" not in html  # nothing before the policy existed
    assert "<dd>November 2026 to December 2026</dd>" in html
    assert "<script" not in html


def test_a_weekly_cadence_posts_a_report_at_the_end_of_each_week(bot, fake, clock):
    publish(bot, fake, answers={"audit.report_frequency": "weekly"})
    end_of_week = datetime(2026, 11, 30, 14, 0, tzinfo=UTC)  # Monday 09:00 in New York
    bot.scheduler.advance(end_of_week - timedelta(minutes=1))
    assert posts_of(fake, "C0ACME", "patchpolicy_report") == []
    bot.scheduler.advance(end_of_week)
    (first,) = posts_of(fake, "C0ACME", "patchpolicy_report")
    assert "Acme: patch report, the week of 23 November 2026" in message_text(first)
    assert any(f["filename"] == "acme-patch-report-2026-W48.html" for f in fake.files.values())
    bot.scheduler.advance(end_of_week + timedelta(days=7))
    titles = [m["text"] for m in posts_of(fake, "C0ACME", "patchpolicy_report")]
    assert titles == [
        "Acme: patch report, the week of 23 November 2026",
        "Acme: patch report, the week of 30 November 2026",
    ]


def test_the_monthly_post_carries_the_headline_chart_and_three_numbers_in_words(bot, fake, clock, tmp_path):
    from tests.support.device_data import write_csv

    publish(bot, fake)
    clock.set(datetime(2026, 12, 20, 12, 0, tzinfo=UTC))
    header = ["Computer", "Site", "Patch", "Severity", "Status", "Released", "Installed", "Last seen"]
    rows = [
        ["PC-1", "Workstations", "KB5050001", "Critical", "Installed", "2026-12-08T18:00:00Z", "2026-12-09T18:00:00Z"],
        ["PC-2", "Workstations", "KB5050001", "Critical", "Missing", "2026-12-08T18:00:00Z", ""],
    ]
    export = write_csv(tmp_path / "ninja.csv", header, [[*row, "2026-12-20T11:00:00Z"] for row in rows])
    columns = (
        "device=Computer,group=Site,update=Patch,severity=Severity,state=Status,released_at=Released,"
        "installed_at=Installed,last_seen_at=Last seen"
    )
    assert bot.core.device_data.import_file("acme", export, "UTECH", columns).ok
    bot.scheduler.advance(datetime(2027, 1, 1, 14, 0, tzinfo=UTC))

    (post,) = [m for m in posts_of(fake, "C0ACME", "patchpolicy_report") if "December 2026" in m["text"]]
    text = message_text(post)
    assert "• 50% of the 2 device updates due in December 2026 were installed by their deadline (target 95%)." in text
    assert "• 1 device update was overdue at the end of December 2026, the longest by 17 days." in text
    assert "• 1 of 2 devices seen are fully patched" in text
    (image,) = [b for b in post["blocks"] if b["type"] == "image"]
    picture = fake.files[image["slack_file"]["id"]]
    assert picture["data"].startswith(b"\x89PNG") and picture["channel"] is None  # the bot's own, shown by the post
    assert image["alt_text"].startswith("Nov 26: nothing due; Dec 26: critical 50%")
    (printable,) = [f for f in fake.files.values() if f["filename"] == "acme-patch-report-2026-12.html"]
    assert printable["thread_ts"] == post["ts"] and printable["content"].count('<figure class="chart"') == 3


def test_a_chart_slack_will_not_show_goes_in_the_thread_and_the_post_still_goes_out(bot, fake, clock, tmp_path):
    from tests.support.device_data import write_csv

    publish(bot, fake)
    clock.set(datetime(2026, 12, 20, 12, 0, tzinfo=UTC))
    row = ["PC-1", "Workstations", "KB5050001", "Critical", "Installed", "2026-12-08T18:00:00Z", "2026-12-09T18:00:00Z"]
    export = write_csv(
        tmp_path / "ninja.csv", ["d", "g", "u", "s", "st", "r", "i", "l"], [[*row, "2026-12-20T11:00:00Z"]]
    )
    columns = "device=d,group=g,update=u,severity=s,state=st,released_at=r,installed_at=i,last_seen_at=l"
    assert bot.core.device_data.import_file("acme", export, "UTECH", columns).ok
    fake.files_ready = False  # Slack answers invalid_blocks while it is still processing an uploaded image
    bot.scheduler.advance(datetime(2027, 1, 1, 14, 0, tzinfo=UTC))
    (post,) = [m for m in posts_of(fake, "C0ACME", "patchpolicy_report") if "December 2026" in m["text"]]
    assert not [b for b in post["blocks"] if b["type"] == "image"]
    in_thread = [f for f in fake.files.values() if f.get("thread_ts") == post["ts"]]
    assert sorted(f["filename"] for f in in_thread) == [
        "acme-patch-report-2026-12.html",
        "acme-patch-report-2026-12.png",
    ]
