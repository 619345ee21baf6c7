"""SIGKILL a real bot process at random moments; restart it on the same SQLite file; nothing is lost or half done."""

from __future__ import annotations

import contextlib
import json
import random
import signal
import time

import pytest
from sqlmodel import select

from storage.db import Database
from storage.models import Answer, Client, Draft, PolicyVersion
from tests.support.bot_process import BotProcess
from tests.support.questionnaire import live_prompt, question_id

pytestmark = pytest.mark.slow  # real processes, loads or restarts: `-m "not slow"` skips them

ROUNDS = 6
STEP_TIMEOUT = 20  # seconds for a restarted process to post its next prompt (a loaded CI machine is slow)


def publish_offer(fake, timeout: float = 10.0) -> dict:
    """The DM message with the Publish button, once it has been posted."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for message in reversed(fake.posts("DUTECH")):
            if any(
                e.get("action_id") == "pp.publish" for b in message.get("blocks") or [] for e in b.get("elements", [])
            ):
                return message
        time.sleep(0.01)
    raise AssertionError("the publish offer never came")


def step(fake, act) -> None:  # type: ignore[no-untyped-def]
    """Do something to the live prompt, then wait until a new live prompt (or message) has been posted."""
    try:
        current = live_prompt(fake)
    except AssertionError:  # killed between closing one prompt and posting the next
        current = {"ts": None}
    before = current["ts"]
    act(current)
    deadline = time.monotonic() + STEP_TIMEOUT
    while time.monotonic() < deadline:
        try:
            if live_prompt(fake)["ts"] != before:
                return
        except AssertionError:
            pass
        time.sleep(0.01)


def wait_for_question(fake, timeout: float = STEP_TIMEOUT) -> None:
    """Until the newest message in the DM is a question with its buttons (not a notice before it)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        posts = fake.posts("DUTECH")
        if posts and any(b.get("type") == "actions" for b in posts[-1].get("blocks") or []):
            return
        time.sleep(0.01)
    raise AssertionError("the restarted bot never asked its next question")


def wait_for_posts(fake, count: int, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while len(fake.calls_to("chat.postMessage")) < count and time.monotonic() < deadline:
        time.sleep(0.01)


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_sigkill_during_the_questionnaire_and_publishing_loses_nothing(fake, tmp_path):
    db_url = f"sqlite:///{tmp_path / 'crash.db'}"
    random.seed(7)
    process = BotProcess(fake, db_url, tmp_path)
    process.driver.command("new Acme", channel="C0ACME", channel_name="acme-patching", settle=False)
    wait_for_posts(fake, 2)
    for _ in range(ROUNDS):
        for _ in range(random.randint(1, 4)):
            step(fake, lambda prompt, p=process: p.driver.click(prompt, "pp.recommended", settle=False))
        process.driver.click(live_prompt(fake), "pp.recommended", settle=False)
        time.sleep(random.uniform(0, 0.05))  # somewhere inside the answer's work, or after it
        process.kill()
        process = BotProcess(fake, db_url, tmp_path)
        step(fake, lambda _prompt, p=process: p.driver.dm("resume", settle=False))

    database = Database(db_url)
    with database.read() as session:
        stored = {a.question_id for a in session.exec(select(Answer)).all()}
    asked = set()
    for call in fake.calls_to("chat.postMessage"):  # every question as first posted (answered ones were rewritten)
        blocks = call.args.get("blocks")
        blocks = json.loads(blocks) if isinstance(blocks, str) else blocks or []
        if call.args.get("channel") == "DUTECH" and " of " in (call.args.get("text") or ""):
            with contextlib.suppress(AssertionError):
                asked.add(question_id({"blocks": blocks, "text": call.args["text"]}))
    wait_for_question(fake)  # the last resume's question, posted after its "Picking up" notice
    current = question_id(live_prompt(fake))
    moved_past = {q for q in asked if q != current}
    assert len(moved_past) >= ROUNDS + 2  # the run did move through the questionnaire across the kills
    assert moved_past <= stored  # every question the bot went past was committed first
    with database.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"

    # Finish on the restarted process by typing, which acts on the draft's state, not on one message:
    # a kill between posting a question and recording it can leave an orphaned, stale prompt behind.
    for _ in range(40):
        if any("Summary" in (c.args.get("text") or "") for c in fake.calls_to("chat.postMessage")):
            break
        step(fake, lambda _prompt, p=process: p.driver.dm("rest", settle=False))
    process.driver.dm("finish", settle=False)
    offer = publish_offer(fake)  # wait for the offer itself: counting posts raced with messages in flight
    process.driver.click(offer, "pp.publish", settle=False)
    time.sleep(random.uniform(0, 0.03))
    process.kill()  # in the middle of publishing

    with database.read() as session:  # all or nothing: a version exists only with its published draft
        versions = session.exec(select(PolicyVersion)).all()
        draft = session.exec(select(Draft)).one()
        client = session.exec(select(Client)).one()
    if versions:
        assert (draft.status, client.published_version) == ("published", 1)
    else:
        assert (draft.status, client.published_version) == ("complete", None)

    process = BotProcess(fake, db_url, tmp_path)
    process.driver.command("publish acme", settle=False)
    deadline = time.monotonic() + 10
    done = ("Published Acme's SOP v1", "nothing new to publish")
    while not any(d in r.get("text", "") for r in fake.responses for d in done) and time.monotonic() < deadline:
        time.sleep(0.02)
    process.kill()
    with database.read() as session:
        (version,) = session.exec(select(PolicyVersion)).all()
    assert version.version == 1 and version.posted_at is not None
    database.dispose()
