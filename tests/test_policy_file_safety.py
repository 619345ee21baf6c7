"""Hostile policy files (issue 16, defect 4): an alias bomb, deep nesting, every wrong type for every question,
and fuzzed YAML. Each gets a message naming the line, costs no more than a parse, and changes nothing."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import func, select

from bot.core import Core
from bot.kernel.actor import Actor
from bot.kernel.clock import ManualClock
from bot.kernel.directory import LocalDirectory
from bot.kernel.questions import load_bank
from bot.policy.policy_file import MAX_BYTES, PolicyFile, PolicyFileError, load
from storage.db import Database
from storage.models import Answer, Client, Draft
from tests.support.policies import recommended_answers

ROOT = Path(__file__).resolve().parent.parent
BANK = load_bank()
BASE = recommended_answers()
QUESTIONS = BANK.expand(BASE)
ALIAS_BOMB = "\n".join(
    [f"a: &a [{','.join(['lol'] * 9)}]"]
    + [f"{n}: &{n} [{','.join([f'*{p}'] * 9)}]" for p, n in zip("abcdefgh", "bcdefghi", strict=True)]
)
WRONG = [None, [1, 2], [None], {"a": 1}, float("inf"), float("nan"), True, 10**20, [[1]], [{"x": 1}], ["a"] * 500]


def policy_text(answers: dict) -> str:
    return yaml.safe_dump({"kind": "client", "name": "Acme", "answers": answers}, allow_unicode=True)


def refused(text: str) -> list[str]:
    with pytest.raises(PolicyFileError) as caught:
        load(text, LocalDirectory())
    return caught.value.errors


@pytest.fixture
def core(db_url):
    db = Database(db_url)
    db.migrate()
    yield Core(db, ManualClock(datetime(2026, 11, 26, 14, 0, tzinfo=UTC)), LocalDirectory())
    db.dispose()


def rows(db: Database) -> tuple[int, int, int]:
    with db.read() as session:
        return tuple(session.exec(select(func.count()).select_from(t)).one() for t in (Client, Draft, Answer))  # type: ignore[return-value]


def test_the_alias_bomb_is_refused_before_anything_is_built(core):
    assert len(ALIAS_BOMB) < 500
    assert refused(ALIAS_BOMB) == ["line 1: anchors and aliases (& and *) are not allowed in a policy file."]
    outcome = core.standards.import_file(Actor("U1", "Tess", editor=True), ALIAS_BOMB, {})
    assert "anchors and aliases" in " ".join(r.text for r in outcome.replies)
    assert rows(core.db) == (0, 0, 0)


def test_an_anchor_even_without_alias_is_refused_with_its_line():
    text = policy_text(BASE).replace("answers:\n", "answers:\n  client.notes: &note hello\n", 1)
    line = text.split("\n").index("  client.notes: &note hello") + 1
    assert refused(text) == [f"line {line}: anchors and aliases (& and *) are not allowed in a policy file."]


@pytest.mark.parametrize("depth", [9, 100, 50_000])
def test_deep_nesting_is_refused_without_a_recursion_error(depth):
    text = "kind: client\nname: Acme\nanswers: {client.notes: " + "[" * depth + "]" * depth + "}\n"
    assert refused(text) == ["line 3: the file is nested too deeply for a policy file."]


@pytest.mark.parametrize("question", QUESTIONS, ids=[q.id for q in QUESTIONS])
def test_every_wrong_type_for_every_question_is_a_message_with_its_line(question):
    for wrong in WRONG:
        if wrong is True and question.type == "yesno":
            continue  # the one right type here
        text = policy_text({**BASE, question.id: wrong})
        line = next(n for n, t in enumerate(text.split("\n"), start=1) if t.startswith(f"  {question.id}:"))
        errors = refused(text)
        assert any(e.startswith(f"line {line}: {question.id}: ") for e in errors), (wrong, errors)


def test_a_number_of_thousands_of_digits_is_a_message():
    assert refused(f"kind: client\nname: Acme\nanswers:\n  failures.retries: {'9' * 5000}\n") == [
        "The file holds a value I can't read (a number far too long?)."
    ]


yaml_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=400, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(question=st.sampled_from(QUESTIONS), value=yaml_values)
def test_fuzzed_answers_load_or_are_refused_with_messages(question, value):
    try:
        loaded = load(policy_text({**BASE, question.id: value}), LocalDirectory())
    except PolicyFileError as err:
        assert err.errors and all(isinstance(e, str) and e for e in err.errors)
    else:
        assert isinstance(loaded, PolicyFile) and loaded.name == "Acme"


@settings(max_examples=300, deadline=None, derandomize=True)
@given(text=st.text(max_size=300) | st.text(alphabet="[]{}&*!:- ,\n'\"|>#%@`ab1", max_size=300))
def test_fuzzed_text_never_raises_anything_but_a_policy_file_error(text):
    try:
        load(text, LocalDirectory())
    except PolicyFileError as err:
        assert err.errors


def test_render_reads_at_most_the_limit_from_stdin():
    result = subprocess.run(
        [sys.executable, "-m", "bot", "render", "/dev/stdin"],
        input=b"a" * (MAX_BYTES * 4),
        capture_output=True,
        cwd=ROOT,
        timeout=60,
    )
    assert result.returncode == 1
    assert result.stderr.decode().strip() == "/dev/stdin is larger than 256 KB; a policy file is much smaller."
