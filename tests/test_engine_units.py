"""The questionnaire engine and the out-of-band state machine on their own: real SQLite, a manual clock, no
Slack, each test in milliseconds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from bot.core import Core
from bot.kernel.actor import Actor
from bot.kernel.clock import ManualClock
from bot.kernel.directory import LocalDirectory
from bot.kernel.views import Notice, QuestionView, SummaryView
from bot.oob.rules import NEXT, clean_title, deadlines, parse_open, reminder_plan
from bot.oob.views import Moved
from bot.policy.model import Policy
from storage.db import Database
from storage.models import Answer, OobEvent, OobReview
from tests.support.policies import recommended_answers

TESS = Actor("UTECH", "Tess", "America/New_York", editor=True)
OTTO = Actor("UOTHER", "Otto", "Europe/London", editor=True)
START = datetime(2026, 11, 26, 14, 0, tzinfo=UTC)


@pytest.fixture
def core(db_url):
    db = Database(db_url)
    db.migrate()
    yield Core(db, ManualClock(START), LocalDirectory())
    db.dispose()


def stored(core: Core) -> dict[str, object]:
    with core.db.read() as session:
        return {a.question_id: a.value for a in session.exec(select(Answer)) if not a.skipped}


def prompt(outcome) -> QuestionView | SummaryView:
    assert outcome.prompt is not None, outcome.replies
    return outcome.prompt


# ----- the questionnaire engine -------------------------------------------------------------------


def test_recommended_back_skip_and_a_bad_typed_answer(core):
    qn = core.questionnaire
    first = prompt(qn.start(TESS, "Acme", {}))
    assert (first.question.id, first.position) == ("client.name", 1)
    second = prompt(qn.act(TESS, first.draft_id, first.seq, "recommended"))
    assert second.question.id == "client.timezone" and stored(core) == {"client.name": "Acme"}

    refused = prompt(qn.text(TESS, "Mars/Olympus"))  # typed: not a time zone
    assert refused.question.id == "client.timezone" and "is not an IANA time zone" in refused.error
    assert stored(core) == {"client.name": "Acme"}  # nothing half-written

    back = prompt(qn.act(TESS, refused.draft_id, refused.seq, "back"))
    assert back.question.id == "client.name" and back.current == "Acme"
    again = prompt(qn.act(TESS, back.draft_id, back.seq, "recommended"))
    skipped = prompt(qn.act(TESS, again.draft_id, again.seq, "skip"))
    assert skipped.question.id == "client.owner" and "client.timezone" not in stored(core)


def test_a_stale_button_or_someone_elses_click_changes_nothing(core):
    qn = core.questionnaire
    first = prompt(qn.start(TESS, "Acme", {}))
    qn.act(TESS, first.draft_id, first.seq, "recommended")
    stale = qn.act(TESS, first.draft_id, first.seq, "skip")  # the old step's button
    other = qn.act(OTTO, first.draft_id, first.seq + 1, "recommended")
    assert [n.text for n in stale.replies] == ["That button is from an earlier step; nothing changed."]
    assert [n.text for n in other.replies] == ["Only the person who started this draft can answer it."]
    assert stored(core) == {"client.name": "Acme"}


def test_the_rest_of_the_sections_then_finish_completes_the_draft(core):
    qn = core.questionnaire
    current = prompt(qn.start(TESS, "Acme", {"channel": {"id": "#acme", "name": "acme"}}))
    for _ in range(30):
        if isinstance(current, SummaryView):
            break
        current = prompt(qn.act(TESS, current.draft_id, current.seq, "rest"))
    assert isinstance(current, SummaryView) and not current.missing
    done = qn.act(TESS, current.draft_id, current.seq, "finish")
    assert any("Acme's policy is complete" in r.text for r in done.replies if isinstance(r, Notice))
    assert stored(core)["client.channel"] == {"id": "#acme", "name": "acme"}


# ----- the out-of-band review: rules and state machine -----------------------------------------------


def test_deadlines_follow_the_policy_and_emergency_never_passes_its_tier():
    policy = Policy(recommended_answers({"oob.triage_time": "4h", "sla.critical": "3d", "sla.emergency": "48h"}))
    triage, deploy = deadlines(policy, "critical", START)
    assert (triage - START, deploy - START) == (timedelta(hours=4), timedelta(days=3))
    triage, deploy = deadlines(policy, "emergency", START)
    assert triage - START == timedelta(hours=4) and deploy - START <= timedelta(hours=48)


def test_the_reminder_plan_and_the_command_words():
    review = OobReview(id=1, client_id=1, version=1, title="t", severity="critical", status="open", step=1)
    plan = dict(reminder_plan(review, "triage", START, START + timedelta(hours=4)))
    assert plan["triage:before"] == START + timedelta(hours=3)  # a quarter of the time, at least an hour
    assert plan["triage:escalate"] == plan["triage:escalate-dm"] == START + timedelta(hours=4, minutes=30)
    short = dict(reminder_plan(review, "triage", START, START + timedelta(minutes=30)))
    assert "triage:before" not in short  # no "before" that would come before the review opened
    assert parse_open("acme cve-2026-1234 emergency") == ("acme cve-2026-1234", "emergency", True)
    assert parse_open("acme Fortinet advisory") == ("acme Fortinet advisory", "critical", False)
    assert clean_title("  fix   cve-2026-1234 now ") == "fix CVE-2026-1234 now"
    assert NEXT["testing"] == ("deployed", "mitigated", "exception", "not_affected")


def published_acme(core: Core) -> None:
    outcome = core.questionnaire.start_prefilled(TESS, "Acme", {}, recommended_answers(), "test answers")
    summary = prompt(outcome)
    core.questionnaire.act(TESS, summary.draft_id, summary.seq, "finish")
    assert core.publish(TESS, client_name="Acme").published is not None


def test_a_review_moves_step_by_step_once_and_closes(core):
    published_acme(core)
    (view,), notices = core.reviews.open(TESS, "acme CVE-2026-1234 critical")
    assert [n.text for n in notices] == ["Opened the out-of-band review 'CVE-2026-1234' (Critical) for Acme."]
    assert (view.status, view.step) == ("open", 0)
    moved = core.reviews.move(TESS, view.review_id, 0, "triaged")
    assert isinstance(moved, Moved) and moved.changed and moved.view.status == "triaged"
    again = core.reviews.move(OTTO, view.review_id, 0, "triaged")  # a double click, or a stale message
    assert isinstance(again, Moved) and not again.changed
    backwards = core.reviews.move(TESS, view.review_id, 1, "triaged")  # not a step that follows "triaged"
    assert isinstance(backwards, Moved) and not backwards.changed
    closed = core.reviews.move(TESS, view.review_id, 1, "deployed")
    assert closed.view.closed and closed.view.next_statuses == ()
    with core.db.read() as session:
        events = [(e.status, e.actor_name) for e in session.exec(select(OobEvent).order_by(OobEvent.step))]
        review = session.get(OobReview, view.review_id)
    assert events == [("open", "Tess"), ("triaged", "Tess"), ("deployed", "Tess")]
    assert review.closed_by == "UTECH" and review.triaged_at == START
    assert isinstance(core.reviews.move(TESS, view.review_id, 2, "bogus"), Notice)
