"""Reading the questionnaire's state the way a user sees it: from the messages in the DM."""

from __future__ import annotations

from typing import Any

from sqlmodel import func, select

from storage.db import Database
from storage.models import Answer, Draft
from tests.support.fake_slack import FakeSlack
from tests.support.slack_driver import BotUnderTest, message_text


def live_prompt(fake: FakeSlack, user: str = "UTECH") -> dict[str, Any]:
    """The newest message in the user's DM that still has buttons."""
    for message in reversed(fake.posts(f"D{user}")):
        if any(block["type"] == "actions" for block in message.get("blocks") or []):
            return message
    raise AssertionError("no live prompt in the DM")


def live_prompts(fake: FakeSlack, user: str = "UTECH") -> list[dict[str, Any]]:
    return [m for m in fake.posts(f"D{user}") if any(b["type"] == "actions" for b in m.get("blocks") or [])]


def question_id(message: dict[str, Any]) -> str:
    """The question a prompt asks, from the reference its buttons carry."""
    for block in message["blocks"]:
        for element in block.get("elements", []):
            if element.get("action_id") == "pp.recommended" or element.get("action_id") == "pp.skip":
                return element["value"].split("|")[2]
    raise AssertionError("not a question prompt: " + message_text(message)[:200])


def stored_answers(db: Database, status: str | None = None) -> dict[str, Any]:
    """The answers of the newest draft, straight from the database."""
    with db.read() as session:
        query = select(Draft).order_by(Draft.id.desc())
        if status:
            query = query.where(Draft.status == status)
        draft = session.exec(query).first()
        rows = session.exec(select(Answer).where(Answer.draft_id == draft.id, Answer.skipped == False)).all()  # noqa: E712
        return {row.question_id: row.value for row in rows}


def accept_all(bot: BotUnderTest, fake: FakeSlack, user: str = "UTECH", limit: int = 40) -> None:
    """Press 'Accept recommended for the rest of this section' until the summary appears."""
    for _ in range(limit):
        prompt = live_prompt(fake, user)
        if "Summary" in prompt["text"]:
            return
        bot.click(prompt, "pp.rest", user=user)
    raise AssertionError("never reached the summary")


def answer_all(bot: BotUnderTest, fake, answers: dict[str, str] | None = None) -> list[str]:
    """Answer until the summary: the given answers typed, recommended for the rest. Returns the ids asked."""
    answers = answers or {}
    asked: list[str] = []
    for _ in range(200):
        prompt = live_prompt(fake)
        if "Summary" in prompt["text"]:
            return asked
        qid = question_id(prompt)
        asked.append(qid)
        if qid in answers:
            bot.dm(answers[qid])
        else:  # question by question when answers are to be typed, else a section at a time
            bot.click(prompt, "pp.recommended" if answers else "pp.rest")
    raise AssertionError("never reached the summary")


def finish(
    bot: BotUnderTest,
    fake,
    name: str = "Acme",
    answers: dict[str, str] | None = None,
    channel: str = "C0ACME",
    channel_name: str = "acme-patching",
) -> None:
    """Run the questionnaire from the client's channel, typing the given answers, recommended for the rest."""
    bot.command(f"new {name}", channel=channel, channel_name=channel_name)
    answer_all(bot, fake, answers)
    bot.click(live_prompt(fake), "pp.finish")


def publish_and_stop(bot: BotUnderTest, fake: FakeSlack) -> None:
    """Acme's policy written and published, then the in-process bot stopped: other processes take over."""
    finish(bot, fake)
    bot.click(fake.last_post("DUTECH"), "pp.publish")
    bot.stop()


def answer_count(db_url: str) -> int:
    """How many answers are stored, read afresh (another process wrote them)."""
    database = Database(db_url)
    try:
        with database.read() as session:
            return int(session.exec(select(func.count()).select_from(Answer)).one())
    finally:
        database.dispose()
