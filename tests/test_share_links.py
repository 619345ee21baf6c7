"""Client share links: `/patchpolicy share <client>` gives a signed, expiring, revocable read-only link; the bot's
own HTTP server shows the SOP, the latest report and a calendar feed of the windows, opened in headless
Chromium; an expired, revoked or altered link is a 404."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta

from icalendar import Calendar
from sqlmodel import select

from storage.sharing import ShareLink
from tests.support.browser import browser  # noqa: F401  (a fixture)
from tests.support.questionnaire import finish
from tests.support.slack_driver import PUBLIC_URL, BotUnderTest

LINK = re.compile(re.escape(PUBLIC_URL) + r"(/share/[A-Za-z0-9_.\-]+)")


def publish(bot: BotUnderTest, fake) -> None:
    finish(bot, fake)
    bot.click(fake.last_post("DUTECH"), "pp.publish")


def share(bot: BotUnderTest, fake, text: str, user: str = "UTECH") -> str:
    """The command's answer (to the person alone), as text."""
    bot.command(f"share {text}", user=user)
    return json.dumps(fake.responses[-1])


def fetch(bot: BotUnderTest, path: str) -> tuple[int, str, dict]:
    try:
        with urllib.request.urlopen(bot.url + path, timeout=10) as response:
            return response.status, response.read().decode(), dict(response.headers)
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode(), dict(err.headers)


def test_a_shared_link_shows_the_sop_the_latest_report_and_a_calendar_feed(bot, fake, clock, browser):  # noqa: F811
    publish(bot, fake)
    answer = share(bot, fake, "acme 30")
    assert "It works until 26 December 2026 04:00 EST" in answer and "share Acme revoke" in answer
    (path,) = LINK.findall(answer)

    page = browser.new_page()
    opened = page.goto(bot.url + path)
    assert opened.status == 200 and opened.headers["x-robots-tag"] == "noindex, nofollow"
    assert page.title() == "Acme: patch management SOP v1"
    assert "Patch windows" in page.inner_text("main")
    page.click("text=Latest report")
    assert page.url == bot.url + path + "/report"
    assert page.inner_text("main h2") == "Acme: patch report, November 2026"  # published 26 Nov: this month so far
    assert "from 26 November 2026, when the SOP was first published" in page.inner_text("main")
    page.close()

    status, feed, headers = fetch(bot, path + "/calendar.ics")
    assert status == 200 and headers["Content-Type"] == "text/calendar; charset=utf-8"
    calendar = Calendar.from_ical(feed)
    assert str(calendar["refresh-interval"].dt) == "6:00:00" and str(calendar["x-wr-calname"]) == "Acme patch windows"
    starts = sorted(e.decoded("dtstart") for e in calendar.walk("VEVENT"))
    assert datetime(2026, 12, 10, 1, 0, tzinfo=UTC) in starts  # the Pilot window, Wed 9 Dec 20:00 New York
    uids = {str(e["uid"]) for e in calendar.walk("VEVENT")}
    _, again, _ = fetch(bot, path + "/calendar.ics")
    assert {str(e["uid"]) for e in Calendar.from_ical(again).walk("VEVENT")} == uids  # stable: apps update, not add


def test_revoked_expired_and_altered_links_are_not_found(bot, fake, clock, browser):  # noqa: F811
    publish(bot, fake)
    (kept,) = LINK.findall(share(bot, fake, "acme 1"))
    (revoked,) = LINK.findall(share(bot, fake, "acme"))
    assert fetch(bot, revoked)[0] == 200

    assert "Revoked 2 share links for Acme." in share(bot, fake, "acme revoke")
    page = browser.new_page()
    assert page.goto(bot.url + revoked).status == 404
    assert page.goto(bot.url + kept + "/report").status == 404
    page.close()

    (fresh,) = LINK.findall(share(bot, fake, "acme 1"))
    assert fetch(bot, fresh)[0] == 200
    token = fresh.rsplit("/", 1)[1]
    altered = fresh[: -len(token)] + token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    assert fetch(bot, altered)[0] == 404
    assert fetch(bot, fresh + "/sop.html")[0] == 404  # a part a link does not have
    clock.set(clock.now() + timedelta(days=1, minutes=1))
    status, body, _ = fetch(bot, fresh)
    assert status == 404 and body == "Not found"


def test_only_editors_share_and_bad_input_gets_a_clear_answer(make_bot, fake, clock):
    guarded = make_bot(editors="UTECH")
    publish(guarded, fake)
    refused = guarded.command("share acme", user="UOTHER")
    assert "Only PatchPolicy editors can share policies" in refused.body and not LINK.findall(refused.body)
    assert "Give the days the link should work, 1 to 365, or `revoke`." in share(guarded, fake, "acme 400")
    assert "I don't know a client called 'globex'." in share(guarded, fake, "globex") and not LINK.findall(
        share(guarded, fake, "globex")
    )
    with guarded.db.read() as session:
        assert session.exec(select(ShareLink)).all() == []  # nothing half-written by the refusals
