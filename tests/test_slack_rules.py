"""Slack's own rules, as a real workspace applies them: scopes, channel membership, trigger_ids, response_urls
and message sizes. The fake Slack enforces each (tests/fake_slack.py); these tests cover what the bot does
when it meets them."""

from __future__ import annotations

import ast
import json
import socket
from datetime import UTC, datetime
from pathlib import Path

import pytest
from slack_bolt import Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlmodel import select

from bot.kernel.views import Notice
from bot.reporting.reports import Report, ReportPost
from handlers.app import make_client
from handlers.reminders import SlackPoster
from handlers.replies import Replies
from handlers.response_urls import ResponseUrls
from handlers.scopes import FEATURE_SCOPES, REQUIRED_SCOPES, scopes_for
from handlers.web_client import PooledWebClient
from storage.models import Answer, Client, OobReview, PolicyVersion
from tests.support.fake_slack import MESSAGE_BLOCKS, TOKEN, check_blocks, manifest_scopes
from tests.support.questionnaire import finish, live_prompt, question_id
from tests.support.slack_driver import BotUnderTest, message_text

ROOT = Path(__file__).resolve().parent.parent
SLACK_FAMILIES = {"auth", "chat", "conversations", "files", "users", "usergroups", "views"}


def slack_methods_called() -> set[str]:
    """Every Web API method the bot's code calls: `<client>.chat_postMessage(...)` is chat.postMessage."""
    found: set[str] = set()
    for path in [*ROOT.joinpath("bot").rglob("*.py"), *ROOT.joinpath("handlers").rglob("*.py")]:
        source = path.read_text(encoding="utf-8")
        if "url_private" in source:
            found.add("files.download")  # a shared file fetched with the bot token
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                name = node.func.attr
                if name == "files_upload_v2":
                    found |= {"files.getUploadURLExternal", "files.completeUploadExternal"}
                elif "_" in name and name.split("_", 1)[0] in SLACK_FAMILIES:
                    found.add(name.replace("_", "."))
    return found


def test_the_manifest_grants_exactly_the_scopes_the_code_calls_need():
    methods = slack_methods_called()
    assert {"conversations.history", "conversations.join", "usergroups.users.list", "users.list"} <= methods
    needed = scopes_for(methods) | set(FEATURE_SCOPES.values())
    assert needed == set(REQUIRED_SCOPES) == manifest_scopes()
    assert "chat:write.public" not in needed  # the bot joins client channels instead of posting from outside


def test_choosing_a_public_channel_makes_the_bot_join_it_and_says_so(bot, fake):
    assert not fake.bot_is_member("C0ACME")
    bot.command("new Acme", channel="C0ACME", channel_name="acme-patching")
    while question_id(live_prompt(fake)) != "client.channel":
        bot.click(live_prompt(fake), "pp.recommended")
    assert not fake.bot_is_member("C0ACME")
    bot.click(live_prompt(fake), "pp.recommended")  # the channel: the one the command came from
    said = [message_text(m) for m in fake.posts("DUTECH")]
    assert any("I've joined #acme-patching so I can post the SOP and reminders there." in s for s in said)
    assert fake.bot_is_member("C0ACME") and len(fake.calls_to("conversations.join")) == 1


def test_a_private_channel_the_bot_is_not_in_is_refused_until_it_is_invited(bot, fake):
    fake.add_channel("C0SECRET", "acme-secret", private=True)
    bot.command("new Acme", channel="C0GENERAL", channel_name="general")
    while question_id(live_prompt(fake)) != "client.channel":
        bot.click(live_prompt(fake), "pp.recommended")
    bot.click(live_prompt(fake), "pp.channel", selected="C0SECRET")
    refusal = message_text(live_prompt(fake))
    assert "I'm not in #C0SECRET and can't join it myself" in refusal and "`/invite @PatchPolicy`" in refusal
    assert fake.calls_to("conversations.join") == []

    fake.invite_bot("C0SECRET")
    bot.click(live_prompt(fake), "pp.channel", selected="C0SECRET")
    assert question_id(live_prompt(fake)) != "client.channel"
    with bot.db.read() as session:
        stored = {a.question_id: a.value for a in session.exec(select(Answer))}
    assert stored["client.channel"] == {"id": "C0SECRET", "name": "acme-secret"}


def versions(bot: BotUnderTest) -> list[PolicyVersion]:
    with bot.db.read() as session:
        return list(session.exec(select(PolicyVersion)).all())


def test_a_failed_file_upload_keeps_the_post_and_publish_finishes_only_the_upload(bot, fake):
    finish(bot, fake)
    fake.fail("files.getUploadURLExternal", 200, error="fatal_error")
    bot.click(fake.last_post("DUTECH"), "pp.publish")
    (row,) = versions(bot)
    assert row.posted_at is not None and row.thread_posted_at is not None and row.file_posted_at is None
    said = message_text(fake.last_post("DUTECH"))
    assert "is in #acme-patching, but its full text or file is not" in said and "finishes it" in said
    thread_before = len(fake.posts("C0ACME"))

    bot.command("publish acme")
    assert "Published Acme's SOP v1 in #acme-patching." in fake.responses[-1]["text"]
    assert len(fake.posts("C0ACME")) == thread_before  # no second overview, no second copy of the text
    shared = [f for f in fake.files.values() if f.get("shared") and f.get("channel") == "C0ACME"]
    assert [f["thread_ts"] for f in shared] == [row.message_ts]
    (row,) = versions(bot)
    assert row.fully_posted


def test_an_install_missing_a_scope_tells_the_person_which_one_and_to_reinstall(bot, fake):
    finish(bot, fake)
    fake.scopes.discard("channels:history")  # installed from an older manifest
    bot.click(fake.last_post("DUTECH"), "pp.publish")
    said = message_text(fake.last_post("DUTECH"))
    assert (
        "lacks the `channels:history` scope" in said and "Reinstall PatchPolicy from the updated manifest.yml" in said
    )
    assert fake.posts("C0ACME") == []
    (row,) = versions(bot)
    assert row.posted_at is None


def test_a_modal_whose_trigger_expired_tells_the_person_to_press_again(bot, fake):
    finish(bot, fake)
    bot.click(fake.last_post("DUTECH"), "pp.publish")
    bot.command("oob acme CVE-2026-1111")
    review = next(m for m in fake.posts("C0ACME") if "out-of-band review" in (m["text"] or ""))
    late = bot.click(review, "pp.oob.mitigated", trigger_age=3.5)
    assert "Slack took too long to open the form" in message_text(late.followups[-1])
    assert late.followups[-1]["response_type"] == "ephemeral"
    bot.click(review, "pp.oob.mitigated")
    opened = fake.calls_to("views.open")[-1].args["view"]
    view = json.loads(opened) if isinstance(opened, str) else opened
    assert view["title"]["text"] == "Mitigated"
    meta = json.loads(view["private_metadata"])
    assert meta["response_url"].startswith(fake.base + "/response/")  # answers go to the click


@pytest.mark.parametrize("pooled", [False, True], ids=["bolt respond", "kept-alive respond"])
def test_a_response_url_used_up_sends_the_answer_to_the_dm(fake, pooled):
    url = fake.response_url("C0ACME")
    client = WebClient(token=TOKEN, base_url=fake.url)
    replies = Replies(ResponseUrls().respond(url) if pooled else Respond(response_url=url), client, "UTECH")
    for n in range(5):
        assert replies.notices([Notice(f"answer {n}")])
    assert not replies.notices([Notice("the sixth answer")])  # Slack takes five posts per response_url
    assert "the sixth answer" in fake.last_post("DUTECH")["text"]
    assert [r["text"] for r in fake.responses] == [f"answer {n}" for n in range(5)]


def test_answers_to_commands_travel_over_one_kept_alive_connection(bot, fake):
    finish(bot, fake)
    bot.click(fake.last_post("DUTECH"), "pp.publish")
    before = len(fake.responses)
    for _ in range(3):
        bot.command("show acme")
    assert [("Acme: patch management SOP v1" in message_text(a)) for a in fake.responses[before:]] == [True] * 3
    assert len(set(fake.response_peers[before:])) == 1  # no new connection (against Slack: no new TLS session)


def test_web_api_calls_travel_over_one_kept_alive_connection_and_a_429_is_still_waited_out(bot, fake):
    client = make_client(bot.settings)
    before = len(fake.api_peers)
    fake.fail("chat.postMessage", 429, error="ratelimited", retry_after=1)
    for n in range(10):
        assert client.chat_postMessage(channel="DUTECH", text=f"post {n}")["ok"]
    assert [m["text"] for m in fake.posts("DUTECH")[-10:]] == [f"post {n}" for n in range(10)]
    assert len(fake.api_peers) - before == 11  # the refused post was sent again after its Retry-After
    assert len(set(fake.api_peers[before:])) == 1  # no new connection (against Slack: no new TLS session)
    client.close()


def test_a_web_api_that_cannot_be_reached_is_an_oserror_and_slack_errors_stay_slack_errors(bot, fake):
    client = make_client(bot.settings)
    client.retry_handlers = []
    fake.fail("chat.postMessage", 500, error="internal_error")
    with pytest.raises(SlackApiError) as refused:
        client.chat_postMessage(channel="DUTECH", text="hello")
    assert refused.value.response.status_code == 500 and refused.value.response["error"] == "internal_error"
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    nowhere = PooledWebClient(token=TOKEN, base_url=f"http://127.0.0.1:{port}/api/", timeout=2)
    with pytest.raises(OSError):
        nowhere.auth_test()


def test_answers_go_through_the_proxy_the_bots_web_client_uses(fake):
    # The fake serves a proxy's absolute-form request as its own, so a host that resolves nowhere arrives.
    respond = ResponseUrls(proxy=fake.base).respond("http://hooks.slack.invalid/response/1/C0ACME")
    assert respond(text="through the proxy").status_code == 200
    assert [r["text"] for r in fake.responses] == ["through the proxy"]


def test_a_response_url_that_cannot_be_reached_raises_for_the_inbox_to_retry():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed once the block ends: nothing listens there
    with pytest.raises(OSError, match="could not post to the response_url"):
        ResponseUrls().respond(f"http://127.0.0.1:{port}/response/1")(text="hello")


def test_many_notices_to_one_response_url_are_merged_into_one_post(fake):
    url = fake.response_url("C0ACME")
    notices = [Notice(f"I couldn't post Client {n}'s checklist (channel_not_found); invite me.") for n in range(30)]
    assert Replies(Respond(response_url=url)).notices(notices)
    (post,) = fake.responses
    assert all(f"Client {n}'s" in message_text(post) for n in range(30))


def test_the_out_of_band_form_finds_any_client_among_many_by_typing(bot, fake):
    long_name = "Northwind Traders and Logistics International Holdings Group Pty Ltd (Europe)"[:80]
    finish(bot, fake, name=long_name)
    bot.click(fake.last_post("DUTECH"), "pp.publish")
    with bot.db.write() as session:
        for n in range(130):
            session.add(
                Client(
                    key=f"client {n:03d}",
                    name=f"Client {n:03d}",
                    created_by="UTECH",
                    created_at=datetime(2026, 11, 1, tzinfo=UTC),
                    published_version=1,
                    channel_id="C0ACME",
                    channel_name="acme-patching",
                )
            )
    everything = bot.options("pp.oob.client", "")
    assert len(everything) == 100 and everything[0]["value"] == "all"
    (found,) = bot.options("pp.oob.client", "northwind")
    assert found["text"]["text"] == long_name[:74] + "…" and found["value"].startswith("c")
    values = {
        "client": {"pp.oob.client": {"type": "external_select", "selected_option": found}},
        "title": {"value": {"type": "plain_text_input", "value": "CVE-2026-7777"}},
        "severity": {"value": {"type": "static_select", "selected_option": {"value": "high"}}},
    }
    bot.submit_view("pp_oob_open", values)
    with bot.db.read() as session:
        (review,) = session.exec(select(OobReview)).all()
        assert session.get(Client, review.client_id).name == long_name


def test_a_long_report_goes_on_in_the_thread_of_its_post(fake):
    fake.add_channel("C0RPT", "reports", bot_member=True)
    lines = "\n".join(f"• Window {n}: failed on WS-{n:04d} (KB50{n:05d}) and retried twice" for n in range(900))
    report = Report(1, "Acme", "C0RPT", "2026-12", "Acme patch report, December 2026", lines, lines)
    client = WebClient(token=TOKEN, base_url=fake.url)
    _channel, ts = SlackPoster(client).post(ReportPost(7, "C0RPT", report))
    head, *thread = fake.posts("C0RPT")
    assert head["ts"] == ts and thread and all(m["thread_ts"] == ts for m in thread)
    for message in (head, *thread):
        assert check_blocks(message["blocks"], MESSAGE_BLOCKS) is None  # each within Slack's limits
    shown = "\n".join(message_text(m) for m in (head, *thread))
    assert "Window 0:" in shown and "Window 899:" in shown


def test_an_editor_by_admin_role_is_answered_while_slack_is_stalled(fake, make_bot):
    """No Slack call before the ack: the editor check reads the people cache, loaded when the bot started."""
    fake.add_user("UADMIN", "Ada Admin", is_admin=True)
    guarded = make_bot(editors="UTECH")
    try:
        fake.hold.clear()  # every Slack call now waits until released (urlopen would give up first)
        response = guarded.command("new Globex", user="UADMIN", settle=False)
        refused = guarded.command("new Initech", user="UOTHER", settle=False)
        assert response.status == 200 and "I've sent you a DM to write Globex" in response.body
        assert "Only PatchPolicy editors can" in refused.body
        fake.hold.set()
        guarded.settle()
        assert "Client and document - 1 of" in message_text(live_prompt(fake, "UADMIN"))
    finally:
        fake.hold.set()
        guarded.stop()


def test_a_listeners_web_api_calls_travel_over_the_bots_kept_alive_connection(bot, fake):
    # Bolt hands each listener a WebClient of its own making (a new connection per call); the bot's is pooled.
    before = len(fake.api_peers)
    for name in ("Acme", "Globex", "Initech"):
        bot.command(f"new {name}")  # each opens a questionnaire in the requester's DM
    assert [p for p in fake.posts("DUTECH") if "Acme" in message_text(p)]
    peers = fake.api_peers[before:]
    assert len(peers) >= 3
    assert len(set(peers)) == 1
