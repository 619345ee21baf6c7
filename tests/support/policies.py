"""Reference policies for rendering tests: built from the bank's own recommendations."""

from __future__ import annotations

from typing import Any

from bot.kernel.directory import LocalDirectory
from bot.kernel.questions import load_bank
from bot.policy.answers import AnswerContext, parse_answer

CONTEXT = {
    "client_name": "Acme",
    "user_timezone": "America/New_York",
    "user": [{"id": "UTECH", "name": "Tess Tech"}],
    "channel": {"id": "C0ACME", "name": "acme-patching"},
}


def recommended_answers(overrides: dict[str, Any] | None = None, context: dict[str, Any] | None = None) -> dict:
    """Every recommended answer (overrides given as raw input win), as the questionnaire would store them."""
    context = {**CONTEXT, **(context or {})}
    overrides = overrides or {}
    bank = load_bank()
    answers: dict[str, Any] = {}
    changed = True
    while changed:
        changed = False
        for question in bank.visible(answers):
            if question.id in answers:
                continue
            if question.id in overrides:
                raw = overrides[question.id]
            elif question.recommended_from and context.get(question.recommended_from) is not None:
                raw = context[question.recommended_from]
            else:
                raw = question.recommended
            if raw is None:
                continue
            answers[question.id] = parse_answer(question, raw, AnswerContext(answers, LocalDirectory()))
            changed = True
    return {q.id: answers[q.id] for q in bank.visible(answers) if q.id in answers}
