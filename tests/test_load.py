"""50 people answering questionnaires at the same moment: nothing lost, no 'database is locked'."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlmodel import func, select

from storage.models import Answer, Draft
from tests.support.questionnaire import live_prompt

pytestmark = pytest.mark.slow  # real processes, loads or restarts: `-m "not slow"` skips them

USERS = 50
STEPS = 8


def test_fifty_concurrent_users_lose_nothing(bot, fake, caplog):
    users = [f"ULOAD{i:02d}" for i in range(USERS)]
    for user in users:
        fake.add_user(user, f"Load {user[-2:]}", tz="Europe/London")

    def run(user: str) -> None:
        bot.command(f"new Client {user}", user=user, channel="C0ACME", channel_name="acme-patching", settle=False)
        bot.settle()
        for step in range(STEPS):
            prompt = live_prompt(fake, user)
            if step % 2:  # a typed message, through the DM event path
                bot.dm("Europe/Paris" if "time zone" in prompt["text"] else "recommended", user=user, settle=False)
            else:
                bot.click(prompt, "pp.recommended", user=user, settle=False)
            bot.settle()

    with caplog.at_level(logging.WARNING), ThreadPoolExecutor(USERS) as pool:
        list(pool.map(run, users))
    bot.settle()

    assert "database is locked" not in caplog.text
    with bot.db.read() as session:
        drafts = session.exec(select(Draft)).all()
        counts = dict(session.exec(select(Answer.draft_id, func.count()).group_by(Answer.draft_id)).all())
    assert len(drafts) == USERS
    assert all(counts[d.id] == STEPS for d in drafts), counts
    assert all(d.seq >= STEPS for d in drafts)
