"""Acks come back before the work: a stalled Slack or a full worker pool never holds an acknowledgement."""

from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy.engine import make_url

from tests.support.questionnaire import finish, live_prompt, question_id
from tests.support.slack_driver import message_text


def test_while_slack_stalls_every_ack_comes_back_and_the_answers_follow(bot, fake):
    finish(bot, fake)
    bot.click(fake.last_post("DUTECH"), "pp.publish")
    calls, responses = len(fake.calls), len(fake.responses)

    fake.hold.clear()  # from here Slack answers nothing until released
    shows = [bot.command("show acme", settle=False) for _ in range(40)]  # more than the pool has threads
    new = bot.command("new Globex", settle=False)
    typed = bot.dm("hello", user="UOTHER", settle=False)  # a DM to the bot: an Events API ack

    assert [r.status for r in shows] == [200] * 40
    assert new.status == 200 and new.body == "I've sent you a DM to write Globex's patch policy."
    assert typed.status == 200
    assert len(fake.calls) == calls and len(fake.responses) == responses  # nothing reached Slack yet

    fake.hold.set()
    bot.settle()
    answers = fake.responses[responses:]
    assert len(answers) == 40
    assert all("Acme: patch management SOP v1" in message_text(a) for a in answers)
    prompt = live_prompt(fake)  # Globex's questionnaire started in the DM
    assert question_id(prompt) == "client.name" and "Globex" in message_text(prompt)


def test_a_bad_client_name_is_answered_in_the_ack_and_starts_nothing(bot, fake):
    response = bot.command("new " + "A" * 81)
    assert response.status == 200
    assert response.body == "A client name can be at most 80 characters."
    assert not fake.posts("DUTECH")


def test_an_ack_does_not_wait_for_the_databases_write_lock(bot, fake):
    """On SQLite the ack spools the request beside the database, so a long write elsewhere (a claim, a
    migration, a report) never holds it; the work follows once the lock is free."""
    if not bot.db.is_sqlite:
        pytest.skip("PostgreSQL's inserts do not wait for one write lock, so there is no spool")
    finish(bot, fake)
    bot.click(fake.last_post("DUTECH"), "pp.publish")
    answers = len(fake.responses)
    holder = sqlite3.connect(make_url(bot.db.url).database, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another process holds the write lock from here
    try:
        response = bot.command("show acme", settle=False)
        assert response.status == 200  # before: the ack waited the 10 s busy timeout, then answered 503
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    bot.settle()
    assert "Acme: patch management SOP v1" in message_text(fake.responses[answers])
