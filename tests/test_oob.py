"""Out-of-band reviews and exceptions through the fake Slack, with the real scheduler on a manual clock."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from sqlmodel import col, select

from storage.models import OobEvent, OobReview, PatchException, Reminder
from tests.support.questionnaire import finish, live_prompt
from tests.support.slack_driver import BotUnderTest, find_element, message_text

OPENED = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)  # the clock fixture's start: 04:00 in New York


def publish_acme(bot: BotUnderTest, fake) -> None:
    finish(bot, fake)
    bot.click(fake.last_post("DUTECH"), "pp.publish")


def checklist(fake, channel: str = "C0ACME") -> dict:
    """The review's checklist message in the channel, as it looks now."""
    found = [m for m in fake.posts(channel) if m["text"] and "out-of-band review" in m["text"]]
    assert found, "no checklist posted"
    return found[-1]


def reminders(fake, channel: str) -> list[str]:
    posts = [m for m in fake.posts(channel) if (m.get("metadata") or {}).get("event_type") == "patchpolicy_reminder"]
    return [message_text(m) for m in posts]


def ledger(bot: BotUnderTest) -> list[tuple[str, str, datetime]]:
    with bot.db.read() as session:
        rows = session.exec(
            select(Reminder).where(col(Reminder.subject).in_(["oob", "exception"])).order_by(Reminder.due_at)
        ).all()
        return [(r.kind, r.status, r.due_at) for r in rows]


def test_a_review_runs_from_open_to_deployed_with_its_reminders_on_time(bot, fake, clock):
    publish_acme(bot, fake)
    bot.command("oob acme cve-2026-1234 emergency")
    assert "Opened the out-of-band review 'CVE-2026-1234' (Emergency) for Acme." in fake.responses[-1]["text"]

    posted = checklist(fake)
    text = message_text(posted)
    assert "Out-of-band review: CVE-2026-1234" in text
    assert "*Severity:* Emergency" in text and "*Status:* Open" in text
    assert "*Triage by:* Thu 26 Nov 2026 08:00 EST (your time: <!date^1795698000^" in text  # 13:00 UTC
    assert "*Deploy by:* Sat 28 Nov 2026 04:00 EST" in text  # 48 hours after opening
    assert "From the SOP: out-of-band patches" in text
    buttons = [e["text"]["text"] for e in find_element(posted, "pp.oob.triaged")[0]["elements"]]
    assert buttons == ["Triaged", "Testing", "Deployed", "Mitigated…", "Exception…", "Not affected"]

    bot.scheduler.advance(OPENED + timedelta(hours=3))
    (before,) = reminders(fake, "C0ACME")
    assert "*Acme · CVE-2026-1234*: triage is due Thu 26 Nov 2026 08:00 EST" in before

    clock.set(OPENED + timedelta(hours=3, minutes=30))
    bot.click(posted, "pp.oob.triaged")
    updated = checklist(fake)
    assert "*Status:* Triaged" in message_text(updated) and "*Triage by:* done" in message_text(updated)
    assert "triaged by tess tech" in message_text(updated).casefold()
    (reply,) = [m for m in fake.posts("C0ACME") if m.get("thread_ts") == posted["ts"]]
    assert "*Triaged* by <@UTECH>" in message_text(reply)

    bot.scheduler.advance(datetime(2026, 11, 27, 21, 0, tzinfo=UTC))
    assert len(reminders(fake, "C0ACME")) == 2  # the triage due/escalation were cancelled by the triage
    assert "deployment is due Sat 28 Nov 2026 04:00 EST" in reminders(fake, "C0ACME")[-1]

    clock.set(datetime(2026, 11, 27, 22, 0, tzinfo=UTC))
    bot.click(checklist(fake), "pp.oob.deployed")
    closed = checklist(fake)
    assert "*Status:* Deployed" in message_text(closed)
    assert "This review is closed; its reminders have stopped." in message_text(closed)
    assert not any(b["type"] == "actions" for b in closed["blocks"])

    bot.scheduler.advance(datetime(2026, 11, 29, tzinfo=UTC))
    assert len(reminders(fake, "C0ACME")) == 2
    assert ledger(bot) == [
        ("triage:before", "sent", OPENED + timedelta(hours=3)),
        ("triage:due", "cancelled", OPENED + timedelta(hours=4)),
        ("triage:escalate", "cancelled", OPENED + timedelta(hours=4, minutes=30)),
        ("triage:escalate-dm", "cancelled", OPENED + timedelta(hours=4, minutes=30)),
        ("deploy:before", "sent", OPENED + timedelta(hours=36)),
        ("deploy:due", "cancelled", OPENED + timedelta(hours=48)),
        ("deploy:escalate", "cancelled", OPENED + timedelta(hours=48, minutes=30)),
        ("deploy:escalate-dm", "cancelled", OPENED + timedelta(hours=48, minutes=30)),
    ]


def test_an_overdue_review_is_escalated_in_the_channel_and_to_the_owner(bot, fake, clock):
    publish_acme(bot, fake)
    bot.command("oob acme Fortinet SSL-VPN advisory critical")
    bot.scheduler.advance(OPENED + timedelta(hours=4, minutes=30))

    said = reminders(fake, "C0ACME")
    assert len(said) == 3
    assert "triage is due now (Thu 26 Nov 2026 08:00 EST)" in said[1]
    assert "*Escalation: Acme · Fortinet SSL-VPN advisory*: triage was due Thu 26 Nov 2026 08:00 EST" in said[2]
    assert "<@UTECH>" in said[2]
    (dm,) = reminders(fake, "DUTECH")
    assert "Escalation for you as SOP owner" in dm

    listing = message_text(bot.command("oob list").json())
    assert "Fortinet SSL-VPN advisory" in listing and "triage: overdue by 30 min" in listing


def share_policy(bot: BotUnderTest, fake, text: str) -> None:
    bot.share_file("policy.yaml", text)
    bot.click(live_prompt(fake), "pp.finish")
    bot.click(fake.last_post("DUTECH"), "pp.publish")


def test_all_opens_one_review_per_client_with_deadlines_in_each_time_zone(bot, fake, clock):
    publish_acme(bot, fake)
    bot.command("export acme yaml")
    (upload,) = [f for f in fake.files.values() if f["filename"] == "acme-policy-v1.yaml"]
    for key, name, zone in (("beta", "Beta", "Europe/Berlin"), ("gamma", "Gamma", "Australia/Sydney")):
        fake.add_channel(f"C0{key.upper()}", f"{key}-patching")
        text = (
            upload["content"]
            .replace("client.name: Acme", f"client.name: {name}")
            .replace("name: Acme", f"name: {name}")
        )
        text = text.replace("America/New_York", zone).replace("C0ACME", f"C0{key.upper()}")
        share_policy(bot, fake, text.replace("acme-patching", f"{key}-patching"))

    bot.command("oob all CVE-2026-9999 high")
    assert "for Acme, Beta, Gamma." in fake.responses[-1]["text"]
    expected = {
        "C0ACME": ("Thu 26 Nov 2026 08:00 EST", "Thu 10 Dec 2026 04:00 EST"),
        "C0BETA": ("Thu 26 Nov 2026 14:00 CET", "Thu 10 Dec 2026 10:00 CET"),
        "C0GAMMA": ("Fri 27 Nov 2026 00:00 AEDT", "Thu 10 Dec 2026 20:00 AEDT"),
    }
    for channel, (triage, deploy) in expected.items():
        text = message_text(checklist(fake, channel))
        assert f"*Triage by:* {triage}" in text and f"*Deploy by:* {deploy}" in text
        assert "*Severity:* High" in text

    bot.command("oob all CVE-2026-9999 high")  # asked twice: nothing new
    assert "'CVE-2026-9999' is already under review for Acme, Beta, Gamma" in fake.responses[-1]["text"]
    with bot.db.read() as session:
        assert len(session.exec(select(OobReview)).all()) == 3
    assert all(len([m for m in fake.posts(c) if "out-of-band review" in (m["text"] or "")]) == 1 for c in expected)


def test_a_double_clicked_status_button_is_recorded_once(bot, fake, clock):
    publish_acme(bot, fake)
    bot.command("oob acme CVE-2026-1111")
    posted = checklist(fake)
    bot.click(posted, "pp.oob.not_affected")
    again = bot.click(posted, "pp.oob.not_affected")
    with bot.db.read() as session:
        events = session.exec(select(OobEvent).order_by(OobEvent.step)).all()
    assert [e.status for e in events] == ["open", "not_affected"]
    assert len([m for m in fake.posts("C0ACME") if m.get("thread_ts") == posted["ts"]]) == 1
    assert "already recorded" in again.followups[-1]["text"]


def test_a_non_editor_may_list_reviews_but_not_open_or_move_them(fake, make_bot):
    guarded = make_bot(editors="UTECH")
    try:
        publish_acme(guarded, fake)
        refused = guarded.command("oob acme CVE-2026-2222", user="UOTHER").json()["text"]
        assert "Only PatchPolicy editors" in refused
        guarded.command("oob acme CVE-2026-2222")
        clicked = guarded.click(checklist(fake), "pp.oob.triaged", user="UOTHER")
        assert "Only PatchPolicy editors" in clicked.followups[-1]["text"]
        assert "*Status:* Open" in message_text(checklist(fake))
        assert "CVE-2026-2222" in message_text(guarded.command("oob list", user="UOTHER").json())
    finally:
        guarded.stop()


def exception_values(expires: str, second: str = "") -> dict:
    def typed(value: str) -> dict:
        return {"value": {"type": "plain_text_input", "value": value}}

    return {
        "what": typed("SRV-LEGACY-01: KB5050001 <@U999>"),
        "reason": typed("The vendor's app breaks on it"),
        "controls": typed("Isolated VLAN; EDR alerts to the MSP"),
        "approver": typed("Dana Client, IT manager"),
        "expires": {"value": {"type": "datepicker", "selected_date": expires}},
        "second_approver": typed(second),
    }


def opened_form(fake) -> dict:
    view = fake.calls_to("views.open")[-1].args["view"]
    return view if isinstance(view, dict) else json.loads(view)


def test_an_exception_is_bounded_by_the_policy_and_reminded_until_it_expires(bot, fake, clock):
    publish_acme(bot, fake)
    bot.command("exception acme")
    form = opened_form(fake)
    assert "exceptions may last up to 30 days" in json.dumps(form)

    too_long = bot.submit_view("pp_exception", exception_values("2027-02-01"), metadata=form["private_metadata"])
    assert too_long.json()["response_action"] == "errors"
    assert "needs a second approver" in too_long.json()["errors"]["second_approver"]
    with bot.db.read() as session:
        assert session.exec(select(PatchException)).all() == []

    values = exception_values("2026-12-10")
    bot.submit_view("pp_exception", values, metadata=form["private_metadata"], view_id="V-EXC")
    bot.submit_view("pp_exception", values, metadata=form["private_metadata"], view_id="V-EXC")  # resubmitted
    with bot.db.read() as session:
        assert len(session.exec(select(PatchException)).all()) == 1
    (notice,) = [m for m in fake.posts("C0ACME") if "exception recorded" in (m["text"] or "")]
    assert "until Thu 10 Dec 2026" in message_text(notice)
    assert "&lt;@U999&gt;" in message_text(notice)  # user text cannot ping anyone
    assert "until 10 Dec 2026" in message_text(bot.command("exceptions acme").json())
    assert "SRV-LEGACY-01" in message_text(bot.command("show acme exceptions").json())

    end = datetime(2026, 12, 11, 5, 0, tzinfo=UTC)  # midnight after 10 Dec in New York
    bot.scheduler.advance(end - timedelta(days=7))
    assert "an exception expires in 7 days* (last day Thu 10 Dec 2026)" in reminders(fake, "C0ACME")[-1]
    bot.scheduler.advance(end)
    said = [text for text in reminders(fake, "C0ACME") if "exception" in text]
    assert "expires in 24 hours" in said[-2]
    assert "*Acme: an exception has expired.* SRV-LEGACY-01" in said[-1] and "<@UTECH>" in said[-1]
    assert "expired" in message_text(bot.command("exceptions").json())
    assert [k for k, status, _ in ledger(bot) if status == "sent"] == [
        "expiry:before:7d",
        "expiry:before:1d",
        "expiry:due",
    ]


def test_the_exception_button_closes_the_review_with_its_exception(bot, fake, clock):
    publish_acme(bot, fake)
    bot.command("oob acme CVE-2026-3333 high")
    posted = checklist(fake)
    bot.click(posted, "pp.oob.exception")
    form = opened_form(fake)
    assert "CVE-2026-3333" in json.dumps(form)  # the form starts from the review
    bot.submit_view("pp_exception", exception_values("2026-12-20"), metadata=form["private_metadata"])

    closed = message_text(checklist(fake))
    assert "*Status:* Exception" in closed and "Exception until Sun 20 Dec 2026" in closed
    with bot.db.read() as session:
        review = session.exec(select(OobReview)).one()
        assert review.closed_at is not None and review.status == "exception"
        assert session.exec(select(PatchException)).one().review_id == review.id
