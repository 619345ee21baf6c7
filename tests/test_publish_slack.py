"""Publishing and reading SOPs through Slack: signed requests in, a fake Slack that enforces Block Kit's limits."""

from __future__ import annotations

import json

from sqlmodel import select

from bot.sop.document import SECTIONS
from storage.models import PolicyVersion
from tests.support.questionnaire import finish, live_prompt, stored_answers
from tests.support.slack_driver import BotUnderTest, find_element, message_text, mrkdwn_texts


def ephemeral(response) -> dict:
    """An ephemeral reply that came back in the HTTP ack, shaped like a message the driver can click."""
    body = response.json()
    return {"channel": "C0GENERAL", "ts": "ephemeral", "text": body.get("text", ""), "blocks": body.get("blocks", [])}


def versions(bot: BotUnderTest) -> list[PolicyVersion]:
    with bot.db.read() as session:
        return list(session.exec(select(PolicyVersion).order_by(PolicyVersion.version)).all())


def test_publish_posts_an_overview_the_whole_sop_in_the_thread_and_a_file(bot, fake):
    finish(bot, fake)
    offer = fake.last_post("DUTECH")
    assert "Ready to publish *Acme*'s SOP to #acme-patching?" in message_text(offer)
    bot.click(offer, "pp.publish")

    head, *thread = fake.posts("C0ACME")
    overview = message_text(head)
    assert "Acme: patch management SOP v1" in overview
    assert "*Owner*\n@Tess Tech" in overview
    assert "• *Pilot*: Wed 09 Dec 2026 20:00 EST (your time: <!date^1796864400^" in overview
    assert "• *High*: 14 days" in overview and "• *Emergency*: 48 hours" in overview
    assert all(m["thread_ts"] == head["ts"] for m in thread)
    full_text = "\n".join(message_text(m) for m in thread)
    for spec in SECTIONS:
        assert f"*{spec.title}*" in full_text
    (upload,) = fake.files.values()
    assert upload["shared"] and upload["channel"] == "C0ACME" and upload["thread_ts"] == head["ts"]
    assert upload["filename"] == "acme-patch-sop-v1.md"
    assert upload["content"].startswith("# Acme: Patch management SOP v1\n")

    (row,) = versions(bot)
    assert row.answers == stored_answers(bot.db, status="published")
    assert (row.version, row.published_by, row.channel_id, row.message_ts) == (1, "UTECH", "C0ACME", head["ts"])
    assert row.posted_at is not None and row.permalink.startswith("https://fake.slack.test/archives/C0ACME/")
    done = fake.messages[(offer["channel"], offer["ts"])]
    assert "Published Acme's SOP v1 in #acme-patching." in message_text(done)
    assert not any(b["type"] == "actions" for b in done["blocks"])


def test_a_double_clicked_publish_makes_one_version(bot, fake):
    finish(bot, fake)
    offer = fake.last_post("DUTECH")
    bot.click(offer, "pp.publish")
    again = bot.click(offer, "pp.publish")
    assert [v.version for v in versions(bot)] == [1]
    assert len([m for m in fake.posts("C0ACME") if m["thread_ts"] is None]) == 1
    assert "already published" in again.followups[-1]["text"]


def test_edit_and_publish_again_make_version_two_and_diff_shows_what_changed(bot, fake):
    finish(bot, fake)
    bot.click(fake.last_post("DUTECH"), "pp.publish")
    assert "Acme: patch management SOP v1" in message_text(ephemeral(bot.command("show acme")))

    response = bot.command("edit acme")
    assert "I've sent you a DM to edit acme" in response.body
    summary = live_prompt(fake)
    assert "Summary" in summary["text"]
    bot.click(summary, "pp.edit", selected="What is the client")
    bot.dm("Acme Ltd")
    bot.click(live_prompt(fake), "pp.edit", selected="Deadline for High")
    bot.dm("10d")
    bot.click(live_prompt(fake), "pp.finish")
    response = bot.command("publish acme")
    assert response.body == "Publishing acme…"
    assert "Published Acme Ltd's SOP v2 in #acme-patching." in fake.responses[-1]["text"]

    assert [v.version for v in versions(bot)] == [1, 2]
    shown = message_text(ephemeral(bot.command("show acme")))  # the new version, not the message shown before
    assert "Acme Ltd: patch management SOP v2" in shown and "v1" not in shown
    history = message_text(bot.command("history acme").json())
    assert history.index("v2") < history.index("v1") and "Tess Tech" in history
    diff = message_text(bot.command("diff acme").json())
    assert "Acme Ltd: v1 → v2" in diff
    assert "What is the client's name, as it should appear on the SOP?* · Acme · Acme Ltd" in diff
    assert "Deadline for High updates (CVSS 7.0 to 8.9):* · 14 days · 10 days" in diff
    assert diff.count("•") == 2  # nothing else changed
    bot.command("publish acme")
    assert "nothing new to publish" in fake.responses[-1]["text"]
    assert [v.version for v in versions(bot)] == [1, 2]


def test_show_gives_the_overview_with_a_button_per_section_then_a_section_then_share(bot, fake):
    finish(bot, fake)
    bot.click(fake.last_post("DUTECH"), "pp.publish")

    shown = ephemeral(bot.command("show acme"))
    assert "Acme: patch management SOP v1" in message_text(shown)
    buttons = [e["text"]["text"] for b in shown["blocks"] if b.get("block_id") == "sections" for e in b["elements"]]
    assert buttons == [s.title for s in SECTIONS]

    bot.click(shown, "pp.section", label="Failed patches and rollback")
    replaced = fake.responses[-1]
    assert replaced["replace_original"] is True
    assert "Acme v1: Failed patches and rollback" in message_text(replaced)
    assert "retried automatically 2 times" in message_text(replaced)

    section = {"channel": "C0GENERAL", "ts": "ephemeral", "text": replaced["text"], "blocks": replaced["blocks"]}
    bot.click(section, "pp.share")
    shared = fake.last_post("C0GENERAL")
    assert "retried automatically 2 times" in message_text(shared) and "Shared by <@UTECH>" in message_text(shared)
    assert not any(b["type"] == "actions" for b in shared["blocks"])


def test_show_finds_a_section_by_words_with_typos_or_suggests_a_client(bot, fake):
    finish(bot, fake)
    bot.click(fake.last_post("DUTECH"), "pp.publish")
    expectations = {
        "acme reboot": "Deployment, reboots and user notice",
        "ACME rebot": "Deployment, reboots and user notice",
        "acme failed pathces": "Failed patches and rollback",
        "acme oob": "Out-of-band patches",
        "acme windows": "Patch windows and calendar",
    }
    for words, title in expectations.items():
        body = ephemeral(bot.command(f"show {words}"))
        assert f"Acme v1: {title}" in message_text(body), words
        assert "<https://fake.slack.test/archives/C0ACME/" in message_text(body)  # a link to the whole SOP
    assert "Did you mean Acme?" in bot.command("show acmee reboot").json()["text"]
    assert "couldn't find a section about 'xyzzy'" in bot.command("show acme xyzzy").json()["text"]
    assert "I don't know a client called 'globex'" in bot.command("show globex").json()["text"]
    bot.command("new Globex")
    assert "Globex has no published SOP yet." in bot.command("show globex").json()["text"]


def test_list_shows_status_owner_last_publish_and_next_window(bot, fake):
    finish(bot, fake)
    bot.click(fake.last_post("DUTECH"), "pp.publish")
    bot.command("new Globex", user="UOTHER")
    listing = message_text(bot.command("list").json())
    assert "*Acme* · published v1 · @Tess Tech · 26 Nov 2026 · Pilot: Wed 09 Dec 2026 20:00 EST" in listing
    assert "*Globex* · draft by @Otto Other" in listing


def test_export_sends_a_standalone_printable_html_file(bot, fake):
    finish(bot, fake)
    bot.click(fake.last_post("DUTECH"), "pp.publish")
    assert bot.command("export acme html").body == "Preparing the file…"
    exported = [f for f in fake.files.values() if f["filename"].endswith(".html")]
    assert len(exported) == 1 and exported[0]["channel"] == "DUTECH"
    html = exported[0]["content"]
    assert html.startswith("<!DOCTYPE html>") and "<h2>Severity and SLA table</h2>" in html
    assert "@media print" in html
    for external in ("<script", "<link", "src=", "@import", "url("):
        assert external not in html
    assert "I've sent acme-patch-sop-v1.html to our DM." in fake.responses[-1]["text"]


def test_a_policy_with_very_long_answers_still_publishes_within_slacks_limits(bot, fake):
    long_apps = "\n".join(
        f"Line-of-business application number {i:03d} " + "x" * 200 + " - Finance" for i in range(100)
    )
    finish(
        bot,
        fake,
        answers={
            "client.approver": "A" * 120,
            "scope.apps": long_apps,
            "deployment.reboot_order": "Reboot order step. " * 26,
        },
    )
    bot.click(fake.last_post("DUTECH"), "pp.publish")
    _, *thread = fake.posts("C0ACME")
    assert len(thread) >= 3  # the full SOP needed several messages, each accepted by the fake's limit checks
    assert "number 099" in "\n".join(message_text(m) for m in thread)
    assert versions(bot)[0].posted_at is not None


def test_injected_answers_never_ping_link_or_run_in_any_format(bot, fake):
    evil = "<!channel> <@U123> <https://evil.example|your bank> & <script>alert(1)</script>"
    finish(bot, fake, answers={"client.approver": evil, "deployment.reboot_order": evil})
    bot.click(fake.last_post("DUTECH"), "pp.publish")
    chat = [t for m in fake.posts("C0ACME") for t in mrkdwn_texts(m)]
    chat += mrkdwn_texts(ephemeral(bot.command("show acme reboot")))
    assert any("&lt;!channel&gt; &lt;@U123&gt; &lt;https://evil.example|your bank&gt; &amp;" in t for t in chat)
    for text in chat:
        for raw in ("<!channel>", "<@U123>", "<https://evil", "<script>"):
            assert raw not in text
    markdown = next(iter(fake.files.values()))["content"]
    assert r"\<!channel\> \<@U123\> \<https://evil.example\|your bank\> \& \<script\>" in markdown
    bot.command("export acme html")
    html = next(f for f in fake.files.values() if f["filename"].endswith(".html"))["content"]
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert '<a href="https://evil' not in html


def test_a_private_channel_the_bot_was_removed_from_keeps_the_version_until_it_is_invited_back(bot, fake):
    fake.add_channel("C0SECRET", "acme-private", private=True, bot_member=True)
    finish(bot, fake, channel="C0SECRET", channel_name="acme-private")
    fake.channels["C0SECRET"]["members"].clear()  # someone removed the bot from the channel
    refused = bot.click(fake.last_post("DUTECH"), "pp.publish")
    note = message_text(fake.last_post("DUTECH")) + "".join(message_text(f) for f in refused.followups)
    assert "is saved, but I can't post it yet" in note and "`/invite @PatchPolicy`" in note
    (row,) = versions(bot)
    assert row.posted_at is None and fake.posts("C0SECRET") == []
    assert fake.calls_to("conversations.join") == []  # the bot cannot join a private channel itself

    fake.invite_bot("C0SECRET")
    bot.command("publish acme")
    assert "Published Acme's SOP v1 in #acme-private." in fake.responses[-1]["text"]
    (row,) = versions(bot)
    assert row.fully_posted and len(fake.posts("C0SECRET")) > 1


def test_the_home_tab_lists_drafts_and_clients_and_new_policy_opens_a_modal(bot, fake):
    finish(bot, fake)
    bot.click(fake.last_post("DUTECH"), "pp.publish")
    bot.command("new Globex")
    bot.event({"type": "app_home_opened", "user": "UTECH", "channel": "DUTECH", "tab": "home"})
    (published,) = fake.calls_to("views.publish")
    view = json.loads(published.args["view"]) if isinstance(published.args["view"], str) else published.args["view"]
    home = message_text(view)
    assert "*Globex*" in home and "Resume" in home and "*Acme*" in home and "published v1" in home
    home_message = {"channel": "DUTECH", "ts": "home", "text": "", "blocks": view["blocks"]}

    bot.click(home_message, "pp.home.new")
    (opened,) = fake.calls_to("views.open")
    assert "Client name" in json.dumps(opened.args["view"])
    refused = bot.submit_view("pp_new_policy", {"client": {"name": {"type": "plain_text_input", "value": "   "}}})
    assert refused.json() == {
        "response_action": "errors",
        "errors": {"client": "Give the client's name, e.g. `/patchpolicy new Acme`."},
    }
    bot.submit_view("pp_new_policy", {"client": {"name": {"type": "plain_text_input", "value": "Initech"}}})
    assert "*Initech* · Client and document - 1 of" in message_text(live_prompt(fake))

    bot.click(home_message, "pp.home.show", label="Show")
    assert "Acme: patch management SOP v1" in message_text(fake.last_post("DUTECH"))
    _, resume = find_element(home_message, "pp.home.resume")
    assert resume["text"]["text"] == "Resume"


def test_an_overview_posted_but_not_recorded_is_not_posted_again(bot, fake):
    finish(bot, fake)
    fake.fail("chat.getPermalink", 500, "internal_error", times=4)  # the post went out; recording it failed
    bot.click(fake.last_post("DUTECH"), "pp.publish")
    (row,) = versions(bot)
    assert row.posted_at is None
    overviews = [m for m in fake.posts("C0ACME") if m.get("thread_ts") is None]
    assert len(overviews) == 1

    bot.command("publish acme")
    assert "Published Acme's SOP v1 in #acme-patching." in fake.responses[-1]["text"]
    assert [m for m in fake.posts("C0ACME") if m.get("thread_ts") is None] == overviews
    (row,) = versions(bot)
    assert row.posted_at is not None and row.message_ts == overviews[0]["ts"]
