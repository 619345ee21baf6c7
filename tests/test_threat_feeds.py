"""Out-of-band reviews that start themselves: the real bot reads a local server serving CISA KEV catalogues
and MSRC CVRF documents written here in the publishers' schemas, on the scheduler driven by a manual clock,
and says what it found in the fake Slack."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import Session, col, create_engine, select

from bot.feeds.watch import FeedUrls
from storage.feeds import FeedMatch, FeedState
from storage.models import OobReview
from tests.support.device_data import publish_client, write_csv
from tests.support.fake_feeds import (
    FakeFeeds,
    catalogue,
    cvrf_document,
    kev_entry,
    msrc_vulnerability,
)
from tests.support.fake_slack import TOKEN
from tests.support.slack_driver import BotUnderTest, find_element, message_text

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)  # the clock fixture's start
HEADER = ["Computer", "Site", "Patch", "Severity", "Status", "Released", "Last seen", "CVEs"]
COLUMNS = (
    "device=Computer,group=Site,update=Patch,severity=Severity,state=Status,released_at=Released,"
    "last_seen_at=Last seen,cves=CVEs"
)
OLD = kev_entry(
    "CVE-2021-44228",
    "Apache",
    "Log4j2",
    "Apache Log4j2 Remote Code Execution",
    date(2021, 12, 10),
    date(2021, 12, 24),
    "Known",
)
SMB = kev_entry(
    "CVE-2026-21001",
    "Microsoft",
    "Windows",
    "Microsoft Windows SMB Client Remote Code Execution Vulnerability",
    date(2026, 11, 26),
    date(2026, 11, 27),  # CISA's date comes first: the end of 27 Nov in New York, 05:00 UTC on the 28th
    "Known",
)
CHROME = kev_entry(
    "CVE-2026-22002",
    "Google",
    "Chromium V8",
    "Google Chromium V8 Type Confusion Vulnerability",
    date(2026, 11, 26),
    date(2026, 12, 17),
)


@pytest.fixture
def feeds():
    fake = FakeFeeds().start()
    yield fake
    fake.stop()


def urls(feeds: FakeFeeds, waited: list[float] | None = None, kev: bool = True, msrc: bool = True) -> FeedUrls:
    sleep = waited.append if waited is not None else (lambda _s: None)
    return FeedUrls(f"{feeds.url}/kev.json" if kev else "", f"{feeds.url}/msrc" if msrc else "", sleep)


def load(bot: BotUnderTest, tmp_path, client: str, rows: list[list[str]]) -> None:
    path = write_csv(tmp_path / f"{client}.csv", HEADER, rows)
    assert bot.core.device_data.import_file(client, path, "UTECH", COLUMNS).ok


def device_rows(kb: str, cve: str, states: list[str]) -> list[list[str]]:
    return [
        [f"PC-{i + 1}", "Workstations", kb, "Critical", state, "2026-11-20T15:00:00Z", "2026-11-25T12:00:00Z", cve]
        for i, state in enumerate(states)
    ]


def reviews(db_url: str) -> list[OobReview]:
    with Session(create_engine(db_url)) as session:
        return list(session.exec(select(OobReview).order_by(col(OobReview.id))).all())


def checklists(fake, channel: str) -> list[dict]:
    return [
        m
        for m in fake.posts(channel)
        if m.get("blocks")
        and m["blocks"][0]["type"] == "header"
        and "Out-of-band review:" in m["blocks"][0]["text"]["text"]
    ]


def test_a_kev_entry_in_the_device_data_opens_one_review_due_by_the_earlier_deadline(
    fake, make_bot, feeds, db_url, tmp_path, clock
):
    feeds.serve_kev(catalogue([OLD], "2026.11.25", NOW - timedelta(days=1)), NOW - timedelta(days=1))
    bot = make_bot(feeds=urls(feeds, msrc=False))
    publish_client(bot.core)
    load(bot, tmp_path, "acme", device_rows("KB5070001", "CVE-2026-21001", ["Missing", "Failed", "Installed"]))
    bot.scheduler.advance(NOW + timedelta(minutes=1))  # the first read: the old entry is history, not news
    assert reviews(db_url) == [] and fake.posts("DUTECH") == []

    feeds.serve_kev(catalogue([OLD, SMB], "2026.11.26", NOW), NOW)
    bot.scheduler.advance(NOW + timedelta(hours=3, minutes=5))
    (review,) = reviews(db_url)
    assert review.severity == "emergency" and review.source == "kev:CVE-2026-21001"
    assert review.deploy_due == datetime(2026, 11, 28, 5, 0, tzinfo=UTC)  # CISA's date, before the policy's 48 h
    assert review.triage_due == review.opened_at + timedelta(hours=4)
    (posted,) = checklists(fake, "C0ACME")
    text = message_text(posted)
    assert "CVE-2026-21001 Microsoft Windows SMB Client Remote Code Execution Vulnerability" in text
    assert "Required action: Apply mitigations per vendor instructions" in text
    assert "CISA due date: 27 Nov 2026 · Known ransomware use: Known" in text
    assert "In the device data: 2 devices without the fix (PC-1, PC-2)" in text
    assert review.message_ts == posted["ts"]  # its steps update this message
    headers = [h for p, h in feeds.requests if p == "/kev.json"]
    assert headers[1].get("If-None-Match")  # the second read was conditional

    # fetched again unchanged (304), then edited by CISA, then after the review is closed: nothing new
    bot.scheduler.advance(NOW + timedelta(hours=6, minutes=10))
    changed = {**SMB, "dueDate": "2026-12-03", "vulnerabilityName": "Microsoft Windows SMB Client RCE (updated)"}
    feeds.serve_kev(catalogue([OLD, changed], "2026.11.26b", NOW + timedelta(hours=7)), NOW + timedelta(hours=7))
    bot.scheduler.advance(NOW + timedelta(hours=9, minutes=15))
    bot.click(checklists(fake, "C0ACME")[0], "pp.oob.not_affected")
    feeds.serve_kev(
        catalogue([OLD, {**changed, "notes": "updated again"}], "2026.11.27", NOW + timedelta(hours=10)), NOW
    )
    bot.scheduler.advance(NOW + timedelta(hours=12, minutes=20))
    assert len(reviews(db_url)) == 1 and reviews(db_url)[0].closed_at is not None
    assert len(checklists(fake, "C0ACME")) == 1
    assert feeds.count("/kev.json") == 5


def test_a_kev_entry_matched_only_by_name_asks_the_owner(fake, make_bot, feeds, db_url, tmp_path):
    feeds.serve_kev(catalogue([OLD], "2026.11.25", NOW), NOW)
    bot = make_bot(feeds=urls(feeds, msrc=False), editors="UTECH")
    publish_client(bot.core)
    fake.add_channel("C0GLOBEX", "globex-patching")
    publish_client(
        bot.core, context={"client_name": "Globex", "channel": {"id": "C0GLOBEX", "name": "globex-patching"}}
    )
    publish_client(
        bot.core,
        {"scope.apps": ["Mozilla Firefox - MSP"], "scope.device_classes": ["macos"]},
        {"client_name": "Initech", "channel": {"id": "C0ACME", "name": "acme-patching"}},
    )
    bot.scheduler.advance(NOW + timedelta(minutes=1))
    feeds.serve_kev(catalogue([OLD, CHROME], "2026.11.26", NOW), NOW)
    bot.scheduler.advance(NOW + timedelta(hours=3, minutes=5))
    assert reviews(db_url) == []
    (question,) = fake.posts("DUTECH")
    text = message_text(question)
    assert "A new CISA KEV entry may touch clients of yours" in text and "CVE-2026-22002" in text
    assert "*Acme*: its policy covers Google Chrome" in text and "*Globex*: its policy covers Google Chrome" in text
    assert "Initech" not in text  # Firefox and macOS: no name of Google Chromium
    _, button = find_element(question, "pp.feed.open")
    assert button["text"]["text"] == "Open for Acme, Globex"

    refused = bot.click(question, "pp.feed.open", user="UOTHER")
    assert "Only PatchPolicy editors can change policies" in json.dumps(refused.followups) and reviews(db_url) == []
    bot.click(question, "pp.feed.open")
    bot.scheduler.advance(NOW + timedelta(hours=3, minutes=6))
    opened = reviews(db_url)
    assert {r.client_id for r in opened} == {1, 2} and all(r.source == "kev:CVE-2026-22002" for r in opened)
    assert len(checklists(fake, "C0ACME")) == 1 and len(checklists(fake, "C0GLOBEX")) == 1
    decided = message_text(fake.posts("DUTECH")[0])
    assert "opened for Acme, Globex" in decided and "<@UTECH>" in decided
    assert "pp.feed.open" not in json.dumps(fake.posts("DUTECH")[0])  # the buttons are gone
    again = bot.click(question, "pp.feed.decline")  # a stale copy of the question: nothing changes
    assert "Someone already answered this" in json.dumps(again.followups)
    assert len(reviews(db_url)) == 2


def test_propose_instead_of_open_when_the_policy_says_so(fake, make_bot, feeds, db_url, tmp_path):
    feeds.serve_kev(catalogue([OLD, SMB], "2026.11.26", NOW), NOW)
    bot = make_bot(feeds=urls(feeds, msrc=False))
    publish_client(bot.core, {"oob.kev_action": "propose"})
    load(bot, tmp_path, "acme", device_rows("KB5070001", "CVE-2026-21001", ["Missing"]))
    bot.scheduler.advance(NOW + timedelta(minutes=1))  # first read: SMB was added today, so it is news
    assert reviews(db_url) == []
    (proposal,) = [m for m in fake.posts("C0ACME") if "pp.feed" in json.dumps(m)]
    text = message_text(proposal)
    assert "a new CISA KEV entry is on this client's devices" in text and "1 device without the fix (PC-1)" in text
    bot.click(proposal, "pp.feed.decline")
    bot.scheduler.advance(NOW + timedelta(minutes=2))
    assert reviews(db_url) == []
    assert "Marked not affected by CVE-2026-21001: Acme" in message_text(fake.posts("C0ACME")[-1])
    with Session(create_engine(db_url)) as session:
        (match,) = session.exec(select(FeedMatch)).all()
    assert (match.status, match.decided_by) == ("declined", "UTECH")


def test_a_feed_that_fails_recovers_and_posts_nothing_twice(fake, make_bot, feeds, db_url, tmp_path):
    waited: list[float] = []
    feeds.serve_kev(catalogue([OLD, SMB], "2026.11.26", NOW), NOW)
    feeds.fail("/kev.json", 500, 500, 500, 500)  # the whole first read fails (four tries)
    bot = make_bot(feeds=urls(feeds, waited, msrc=False))
    publish_client(bot.core)
    load(bot, tmp_path, "acme", device_rows("KB5070001", "CVE-2026-21001", ["Missing"]))
    bot.scheduler.advance(NOW + timedelta(minutes=1))
    assert waited == [2.0, 4.0, 8.0] and reviews(db_url) == []
    table = bot.command("feeds").json()
    assert "Failing, 1 time: The CISA KEV feed answered 500" in json.dumps(table)
    assert bot.get("/healthz").json()["status"] == "ok"  # a feed that is down never makes the bot unhealthy
    assert bot.get("/healthz").json()["feed_kev"] == "failing since the start"

    feeds.fail("/kev.json", 500)  # the retry five minutes later: one 500, then 200
    bot.scheduler.advance(NOW + timedelta(minutes=7))
    assert waited[3:] == [2.0] and len(reviews(db_url)) == 1
    bot.scheduler.advance(NOW + timedelta(hours=4))
    assert len(reviews(db_url)) == 1 and len(checklists(fake, "C0ACME")) == 1
    with Session(create_engine(db_url)) as session:
        state = session.get(FeedState, "kev")
    assert state.error is None and state.failures == 0 and "2 entries, 1 new: reviews opened for Acme" in state.found
    assert "ok, read" in bot.get("/healthz").json()["feed_kev"]


def december(feeds: FakeFeeds) -> None:
    """November (long released) and December 2026's releases; December's has one exploited CVE."""
    products = {"12345": "Windows 11 Version 24H2 for x64-based Systems", "23456": "Windows Server 2025"}
    november = cvrf_document(
        "2026-Nov",
        "November 2026 Security Updates",
        products,
        [
            msrc_vulnerability(
                "CVE-2026-30001",
                "Windows Kernel Elevation of Privilege Vulnerability",
                "Important",
                "KB5068001",
                ["12345"],
            ),
        ],
    )
    feeds.publish_month(november, "2026-11-10T08:00:00Z")
    dec = cvrf_document(
        "2026-Dec",
        "December 2026 Security Updates",
        products,
        [
            msrc_vulnerability(
                "CVE-2026-40001",
                "Windows Common Log File System Driver Elevation of Privilege Vulnerability",
                "Important",
                "KB5071001",
                ["12345", "23456"],
                exploited=True,
            ),
            msrc_vulnerability(
                "CVE-2026-40002",
                "Windows TCP/IP Remote Code Execution Vulnerability",
                "Critical",
                "KB5071001",
                ["12345"],
                score=9.8,
            ),
            msrc_vulnerability(
                "CVE-2026-40003",
                "Windows Hyper-V Information Disclosure Vulnerability",
                "Moderate",
                "KB5071002",
                ["23456"],
                score=5.5,
            ),
        ],
    )
    feeds.publish_month(dec, "2026-12-08T08:00:00Z")


ZONES = {"Acme": "America/New_York", "Globex": "Europe/London", "Initech": "Australia/Sydney"}
CHANNELS = {"Acme": "C0ACME", "Globex": "C0GLOBEX", "Initech": "C0INITECH"}


def three_clients(bot: BotUnderTest, fake, tmp_path) -> None:
    for name, zone in ZONES.items():
        if name != "Acme":
            fake.add_channel(CHANNELS[name], f"{name.lower()}-patching")
        channel = {"id": CHANNELS[name], "name": f"{name.lower()}-patching"}
        publish_client(bot.core, {"client.timezone": zone}, {"client_name": name, "channel": channel})
    load(bot, tmp_path, "acme", device_rows("KB5071001", "", ["Missing", "Missing", "Installed"]))
    load(bot, tmp_path, "initech", device_rows("KB5071001", "", ["Installed", "Installed"]))


def digest_of(fake, channel: str) -> dict:
    (digest,) = [m for m in fake.posts(channel) if m["text"].endswith(": December 2026 Security Updates")]
    return digest


def test_the_patch_tuesday_digest_for_three_clients_in_three_zones(fake, make_bot, feeds, db_url, tmp_path):
    december(feeds)
    bot = make_bot(feeds=urls(feeds, kev=False))
    three_clients(bot, fake, tmp_path)
    bot.scheduler.advance(datetime(2026, 12, 8, 16, 59, tzinfo=UTC))  # November was read, too old for a digest
    assert not [m for m in fake.posts() if "Security Updates" in message_text(m)]
    bot.scheduler.advance(datetime(2026, 12, 8, 17, 5, tzinfo=UTC))
    acme, globex, initech = (message_text(digest_of(fake, CHANNELS[n])) for n in ZONES)
    for text in (acme, globex, initech):
        assert "3 CVEs: 1 Critical, 1 Important, 1 Moderate." in text
        assert "Pilot Wed 09 Dec 20:00, Workstations Fri 11 Dec 20:00, Servers Sun 13 Dec 22:00" in text
    assert (
        "(America/New_York time)" in acme and "(Europe/London time)" in globex and "(Australia/Sydney time)" in initech
    )
    assert "CVE-2026-40001" in acme and "missing on 2 devices" in acme  # from its device data (KB5071001)
    assert "Windows workstations (declared)" in globex and "the device classes in the policy" in globex
    assert "not found on this client's devices" in initech  # its devices have the KB installed
    assert "due by *Thu 10 Dec 12:00*" in acme and "due by *Thu 10 Dec 17:00*" in globex  # 48 h after 17:00 UTC
    assert "the Workstations, Servers windows cannot meet that" in acme
    find_element(digest_of(fake, "C0GLOBEX"), "pp.feed.digestoob")
    assert "pp.feed.digestoob" not in json.dumps(digest_of(fake, "C0INITECH"))  # nothing touches Initech

    digest = digest_of(fake, "C0ACME")
    bot.click(digest, "pp.feed.digestoob")
    again = bot.click(digest, "pp.feed.digestoob")  # a double click opens one review
    assert "already open for Acme" in json.dumps(again.followups)
    bot.scheduler.advance(datetime(2026, 12, 8, 17, 10, tzinfo=UTC))
    (review,) = reviews(db_url)
    assert review.title == "Patch Tuesday 2026-Dec: exploited CVE-2026-40001" and review.severity == "emergency"
    assert len(checklists(fake, "C0ACME")) == 1
    assert "Opened the out-of-band review of 2026-Dec's exploited CVEs for Acme" in message_text(
        digest_of(fake, "C0ACME")
    )
    bot.scheduler.advance(datetime(2026, 12, 9, 18, 0, tzinfo=UTC))  # read once; nothing more until January
    assert feeds.count("/msrc/cvrf/2026-Dec") == 1
    digest_of(fake, "C0ACME")  # still one


def test_two_replicas_make_one_review_and_one_digest_each(fake, make_bot, feeds, db_url, tmp_path):
    december(feeds)
    feeds.serve_kev(catalogue([OLD], "2026.11.25", NOW), NOW)
    one = make_bot(instance="one", use_lease=False, feeds=urls(feeds))
    two = make_bot(instance="two", use_lease=False, feeds=urls(feeds))
    three_clients(one, fake, tmp_path)
    load(one, tmp_path, "globex", device_rows("KB5070001", "CVE-2026-21001", ["Missing"]))
    for bot in (one, two):
        bot.scheduler.advance(NOW + timedelta(minutes=1))
    feeds.serve_kev(catalogue([OLD, SMB], "2026.11.26", NOW), NOW)
    moment = NOW
    while moment < datetime(2026, 12, 8, 18, 0, tzinfo=UTC):  # both run every job; the tables keep one of each
        moment += timedelta(hours=12)
        for bot in (one, two):
            bot.scheduler.advance(moment)
    (review,) = reviews(db_url)
    assert review.client_id == 2 and len(checklists(fake, "C0GLOBEX")) == 1
    for channel in CHANNELS.values():
        digest_of(fake, channel)  # exactly one each


def cli(*args: str, env: dict[str, str], adapter: str = "bot", stdin: str = "") -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SLACK_")} | env
    return subprocess.run(
        [sys.executable, "-m", adapter, *args], env=clean, capture_output=True, text=True, timeout=120, input=stdin
    )


def test_feeds_refresh_on_the_command_line_then_posted_when_slack_is_configured(fake, feeds, db_url, tmp_path):
    from bot.core import Core
    from bot.kernel.clock import SystemClock
    from bot.kernel.directory import LocalDirectory
    from storage.db import Database

    today = datetime.now(UTC).date()
    fresh = {
        **SMB,
        "dateAdded": (today - timedelta(days=1)).isoformat(),
        "dueDate": (today + timedelta(days=20)).isoformat(),
    }
    feeds.serve_kev(catalogue([OLD, fresh], "2026.12.03", NOW), NOW)
    db = Database(db_url)
    db.migrate()
    core = Core(db, SystemClock(), LocalDirectory())
    publish_client(core)
    path = write_csv(tmp_path / "acme.csv", HEADER, device_rows("KB5070001", "CVE-2026-21001", ["Missing"]))
    assert core.device_data.import_file("acme", path, "UTECH", COLUMNS).ok
    env = {"DATABASE_URL": db_url, "KEV_URL": f"{feeds.url}/kev.json", "MSRC_URL": ""}

    done = cli("feeds", "refresh", env=env)
    assert done.returncode == 0, done.stderr
    assert "CISA KEV catalogue: 2 entries, 1 new: reviews opened for Acme" in done.stdout
    assert "Microsoft security release (MSRC CVRF): off (its address is empty)" in done.stdout
    assert "Slack is not configured" in done.stdout
    listed = cli("console", env=env, stdin="/patchpolicy oob list\n")
    assert "CVE-2026-21001 Microsoft Windows SMB Client" in listed.stdout and "Acme" in listed.stdout
    table = cli("feeds", env=env)
    assert "2 entries, 1 new: reviews opened for Acme" in table.stdout

    slack = {"SLACK_BOT_TOKEN": TOKEN, "SLACK_SIGNING_SECRET": "s", "SLACK_API_URL": fake.url}
    posted = cli("feeds", "refresh", env=env | slack, adapter="handlers")
    assert posted.returncode == 0, posted.stderr
    assert "not changed since the last read" in posted.stdout and "Slack: 1 posted" in posted.stdout
    (checklist,) = checklists(fake, "C0ACME")
    assert "In the device data: 1 device without the fix (PC-1)" in message_text(checklist)
    feeds.fail("/kev.json", 404)  # the address moved: no retry (5xx retries are timed in process, above)
    down = cli("feeds", "refresh", env=env | slack, adapter="handlers")
    assert down.returncode == 1 and "The CISA KEV feed answered 404" in down.stderr
    assert len(checklists(fake, "C0ACME")) == 1
