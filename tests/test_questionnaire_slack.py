"""The questionnaire through Slack: signed requests into the real app, a fake Slack, a real SQLite file."""

from __future__ import annotations

from sqlmodel import select

from storage.models import Answer, Client, Draft
from tests.support.questionnaire import accept_all, live_prompt, live_prompts, question_id, stored_answers
from tests.support.slack_driver import BotUnderTest, message_text, mrkdwn_texts


def start(bot: BotUnderTest, name: str = "Acme", user: str = "UTECH") -> None:
    response = bot.command(f"new {name}", user=user, channel="C0ACME", channel_name="acme-patching")
    assert response.status == 200


def test_new_acknowledges_with_an_ephemeral_line_and_asks_the_first_question_in_a_dm(bot, fake):
    response = bot.command("new Acme", channel="C0ACME", channel_name="acme-patching")

    assert response.status == 200
    assert response.body == "I've sent you a DM to write Acme's patch policy."
    prompt = live_prompt(fake)
    assert prompt["channel"] == "DUTECH"
    text = message_text(prompt)
    assert "Client and document - 1 of " in text
    assert "What is the client's name" in text
    assert "Use recommended: Acme" in text
    for label in ("Skip", "Pause", "Accept recommended for the rest of this section"):
        assert label in text
    assert "Back" not in text.split("\n")  # nothing before the first question


def test_a_whole_questionnaire_by_buttons_typing_and_corrections_is_stored(bot, fake):
    start(bot)
    typed_first_wrong = {
        "client.timezone": ("Europe/Lodnon", "Did you mean Europe/London?", "europe/london"),
        "sla.high": ("fortnight", "Type a duration such as 48h, 14d or 2w.", "2w"),
        "approval.delay_days": ("45", "Type a number from 0 to 30.", "3"),
        "windows.pilot.rule": ("Patch Tuesday 25:00 for 4h", "is not a time of day", "PT + 2, 21:30 for 3h"),
        "audit.target": ("lots", "Type a whole number.", "97"),
    }
    seen: list[str] = []
    for _ in range(120):
        prompt = live_prompt(fake)
        if "Summary" in prompt["text"]:
            break
        qid = question_id(prompt)
        seen.append(qid)
        if qid in typed_first_wrong:
            wrong, complaint, right = typed_first_wrong[qid]
            bot.dm(wrong)
            again = live_prompt(fake)
            assert complaint in message_text(again), message_text(again)
            assert question_id(again) == qid  # the same question again, nothing stored
            assert qid not in stored_answers(bot.db)
            bot.dm(right)
        elif qid == "client.approver":
            bot.dm("Jo Bloggs, IT manager <jo@acme.example>")
        elif qid == "client.channel":
            bot.click(prompt, "pp.channel", selected="C0ACME")
        elif qid == "client.owner":
            bot.click(prompt, "pp.user", selected="UOTHER")
        elif qid == "client.compliance":
            bot.click(prompt, "pp.save", checked=["cyber_essentials", "essential_eight"])
        elif qid == "approval.types":
            bot.click(prompt, "pp.save", checked=["security", "third_party", "drivers"])
        elif qid == "approval.drivers.mode":
            bot.click(prompt, "pp.choice", label="Automatic after N days")
        elif qid == "scope.groups":
            bot.dm("Pilot\nServers")
        elif qid == "windows.reminder_leads":
            bot.dm("2d, 1h")
        elif qid == "failures.snapshot_servers":
            bot.click(prompt, "pp.choice", label="No")
        else:
            bot.click(prompt, "pp.recommended")

    summary = live_prompt(fake)
    assert "Summary" in summary["text"]
    assert "client.e8_level" in seen  # shown because Essential Eight was chosen
    assert "windows.servers.rule" in seen and "windows.workstations.rule" not in seen

    # Edit one answer from the summary, then come back to the summary.
    bot.click(summary, "pp.edit", selected="1. What is the client")
    editing = live_prompt(fake)
    assert question_id(editing) == "client.name"
    assert "Back to summary" in message_text(editing)
    bot.dm("Acme Holdings")
    summary = live_prompt(fake)
    assert "Summary" in summary["text"] and "Acme Holdings" in message_text(summary)

    bot.click(summary, "pp.finish")

    answers = stored_answers(bot.db, status="complete")
    assert answers["client.name"] == "Acme Holdings"
    assert answers["client.timezone"] == "Europe/London"
    assert answers["client.approver"] == "Jo Bloggs, IT manager <jo@acme.example>"
    assert answers["client.channel"] == {"id": "C0ACME", "name": "acme-patching"}
    assert answers["client.owner"] == [{"id": "UOTHER", "name": "Otto Other"}]
    assert answers["client.compliance"] == ["cyber_essentials", "essential_eight"]
    assert answers["client.e8_level"] == "ml1"
    assert answers["approval.drivers.mode"] == "delayed"
    assert answers["approval.delay_days"] == 3
    assert answers["sla.high"] == "14d"
    assert answers["scope.groups"] == ["Pilot", "Servers"]
    pilot = {"anchor": "patch_tuesday", "offset_days": 2, "start": "21:30", "length": "3h"}
    assert answers["windows.pilot.rule"] == pilot
    assert answers["windows.servers.rule"]["offset_days"] == 5
    assert answers["windows.reminder_leads"] == ["48h", "1h"]
    assert answers["failures.snapshot_servers"] is False
    assert answers["audit.target"] == 97
    with bot.db.read() as session:
        client = session.exec(select(Client)).one()
    assert (client.key, client.name, client.timezone, client.channel_id) == (
        "acme holdings",  # the key follows the name (a name another client has is refused at finish)
        "Acme Holdings",
        "Europe/London",
        "C0ACME",
    )
    (offer,) = live_prompts(fake)  # no live buttons left in the DM but the offer to publish
    assert "Publish" in message_text(offer) and "Summary" not in message_text(offer)
    assert "Acme Holdings's policy is complete" in message_text(fake.posts("DUTECH")[-2])


def test_an_answered_question_is_rewritten_in_place_without_buttons(bot, fake):
    start(bot)
    first = live_prompt(fake)
    bot.click(first, "pp.recommended")

    updated = fake.messages[(first["channel"], first["ts"])]
    assert updated["updates"] == 1
    assert not any(b["type"] == "actions" for b in updated["blocks"])
    assert "What is the client's name" in message_text(updated) and "Acme" in message_text(updated)
    assert question_id(live_prompt(fake)) == "client.timezone"


def test_pressing_a_button_twice_or_an_old_button_does_no_harm(bot, fake):
    start(bot)
    first = live_prompt(fake)
    bot.click(first, "pp.recommended")
    double = bot.click(first, "pp.recommended")  # double click
    old = bot.click(first, "pp.skip")  # an old button

    assert question_id(live_prompt(fake)) == "client.timezone"
    assert len(live_prompts(fake)) == 1
    with bot.db.read() as session:
        rows = session.exec(select(Answer)).all()
    assert [(r.question_id, r.value, r.skipped) for r in rows] == [("client.name", "Acme", False)]
    notes = double.followups + old.followups  # to the clicking person alone, through each click's response_url
    assert len(notes) == 2 and all("nothing changed" in n["text"] and n["response_type"] == "ephemeral" for n in notes)


def test_accepting_every_recommendation_gives_a_complete_policy(bot, fake):
    start(bot)
    accept_all(bot, fake)
    summary = live_prompt(fake)
    assert "Still to answer" not in message_text(summary)
    bot.click(summary, "pp.finish")

    answers = stored_answers(bot.db, status="complete")
    assert answers["client.timezone"] == "America/New_York"  # the tech's own zone, from users.info
    assert answers["client.channel"] == {"id": "C0ACME", "name": "acme-patching"}
    assert answers["sla.emergency"] == "48h" and answers["sla.low"] == "90d"
    assert answers["windows.workstations.rule"]["offset_days"] == 3
    assert answers["approval.third_party_deploy"] == "daily"
    assert "client.e8_level" not in answers
    assert len(fake.calls_to("chat.postMessage")) < 40  # a section per click, not a question per click


def test_back_skip_and_pause_then_resume_continue_at_the_exact_question(bot, fake):
    start(bot)
    bot.click(live_prompt(fake), "pp.recommended")
    bot.click(live_prompt(fake), "pp.back")
    back = live_prompt(fake)
    assert question_id(back) == "client.name"
    assert "Current answer: Acme" in message_text(back)
    bot.click(back, "pp.recommended")
    bot.click(live_prompt(fake), "pp.skip")  # the time zone
    assert question_id(live_prompt(fake)) == "client.owner"
    bot.click(live_prompt(fake), "pp.pause")
    assert live_prompts(fake) == []
    assert "Paused Acme's policy" in message_text(fake.last_post("DUTECH"))

    response = bot.command("resume")
    assert "I've sent you a DM" in response.body
    assert question_id(live_prompt(fake)) == "client.owner"

    accept_all(bot, fake)
    summary = live_prompt(fake)
    assert "Still to answer: 2" in message_text(summary)  # the skipped time zone is required
    bot.click(summary, "pp.finish")
    assert "Some required answers are missing: 2. Which time zone" in message_text(fake.posts("DUTECH")[-2])
    with bot.db.read() as session:
        assert session.exec(select(Draft)).one().status == "open"


def test_a_restart_mid_questionnaire_loses_nothing(fake, make_bot):
    first = make_bot()
    start(first)
    first.click(live_prompt(fake), "pp.recommended")
    first.dm("Asia/Tokyo")
    before = stored_answers(first.db)
    first.stop()

    second = make_bot()  # a fresh process on the same file
    try:
        second.dm("<@UOTHER>")
        assert stored_answers(second.db) == {**before, "client.owner": [{"id": "UOTHER", "name": "Otto Other"}]}
        assert question_id(live_prompt(fake)) == "client.approver"
        # The old prompt, posted by the first process, was closed by the second.
        assert len(live_prompts(fake)) == 1
    finally:
        second.stop()


def test_new_for_a_client_with_an_open_draft_offers_resume_or_start_over(bot, fake):
    start(bot)
    bot.click(live_prompt(fake), "pp.recommended")
    start(bot, "ACME")
    offer = live_prompt(fake)
    assert "already has an open draft, at question 2 of" in message_text(offer)
    bot.click(offer, "pp.resume")
    assert question_id(live_prompt(fake)) == "client.timezone"

    start(bot, "acme")
    bot.click(live_prompt(fake), "pp.startover")
    assert question_id(live_prompt(fake)) == "client.name"
    with bot.db.read() as session:
        assert [d.status for d in session.exec(select(Draft).order_by(Draft.id))] == ["abandoned", "open"]
        assert len(session.exec(select(Client)).all()) == 1

    start(bot, "Acme", user="UOTHER")
    other = fake.last_post("DUOTHER")
    assert "already has an open draft, started by <@UTECH>" in message_text(other)
    assert not any(b["type"] == "actions" for b in other["blocks"])


def test_help_for_an_empty_or_unknown_subcommand(bot, fake):
    for text in ("", "help", "frobnicate now"):
        response = bot.command(text)
        assert response.status == 200
        body = response.json()
        assert "/patchpolicy new &lt;client&gt;" in message_text(body)
    assert "I don't know `frobnicate`" in message_text(bot.command("frobnicate").json())


def test_user_text_is_escaped_so_it_cannot_ping_or_link(bot, fake):
    response = bot.command("new <!channel> & <https://evil.example|your bank>")
    assert "<!channel>" not in response.body and "&lt;!channel&gt; &amp;" in response.body
    bot.dm("<!here> <@U123> <https://evil.example|bank> & co")
    bot.click(live_prompt(fake), "pp.back")
    for message in fake.posts("DUTECH"):
        shown = "\n".join(mrkdwn_texts(message)) + message["text"]
        for raw in ("<!channel>", "<!here>", "<@U123>", "<https://evil.example"):
            assert raw not in shown
    assert stored_answers(bot.db)["client.name"] == "<!here> <@U123> <https://evil.example|bank> & co"


def test_a_client_name_that_is_not_usable_gets_a_friendly_answer(bot, fake):
    response = bot.command("new    ")
    assert response.body == "Give the client's name, e.g. `/patchpolicy new Acme`." or "Give the" in response.body
    assert "at most 80 characters" in bot.command("new " + "x" * 81).body
    assert fake.calls_to("chat.postMessage") == []


def test_a_repeated_event_delivery_is_acted_on_once(bot, fake):
    start(bot)
    bot.click(live_prompt(fake), "pp.recommended")
    first = bot.dm("Asia/Tokyo", event_id="EvSAME")
    retry = bot.post(
        bot.command_body("x", "UTECH"), "application/x-www-form-urlencoded", headers={"X-Slack-Retry-Num": "1"}
    )
    again = bot.dm("Europe/Paris", event_id="EvSAME")  # Slack's retry of the same event
    assert first.status == again.status == retry.status == 200
    assert stored_answers(bot.db)["client.timezone"] == "Asia/Tokyo"
    assert question_id(live_prompt(fake)) == "client.owner"


def test_forged_requests_are_refused_and_change_nothing(bot, fake):
    body = bot.command_body("new Forged", "UTECH")
    form = "application/x-www-form-urlencoded"
    unsigned = bot.post(body, form, signed=False)
    wrong = bot.post(body, form, signature="v0=" + "0" * 64)
    stale = bot.post(body, form, timestamp=int(__import__("time").time()) - 6 * 60)
    assert (unsigned.status, wrong.status, stale.status) == (401, 401, 401)
    bot.settle()
    with bot.db.read() as session:
        assert session.exec(select(Client)).all() == []
    assert [c.method for c in fake.calls] == ["auth.test", "users.list"]  # start-up only: no request acted on


def test_health_check_says_ok_and_nothing_secret(bot):
    response = bot.get("/healthz")
    assert response.status == 200 and response.json() == {
        "status": "ok",
        "database": "ok",
        "integrity": "ok",
        "lease": "elsewhere",
        "scheduler": "standby",
    }
    assert "xoxb" not in response.body and "secret" not in response.body
