"""Advice while answering: recommended answers (validated like typed ones) and the breaches an answer causes."""

from __future__ import annotations

from typing import Any

from bot.kernel.clock import Clock
from bot.kernel.directory import Directory
from bot.kernel.questions import Bank, Question, condition_holds
from bot.policy.answers import AnswerContext, AnswerError, parse_answer
from bot.policy.compliance import check
from bot.policy.model import Policy
from bot.questionnaire.drafts import is_template


class Advisor:
    """What the bank recommends for a question, and which chosen frameworks the answers so far would breach."""

    def __init__(self, bank: Bank, clock: Clock, directory: Directory) -> None:
        self.bank = bank
        self.clock = clock
        self.directory = directory

    def recommended(self, question: Question, answers: dict[str, Any], context: dict[str, Any]) -> Any:
        """The recommended answer, validated like any other; None when there is none."""
        candidates = []
        if question.recommended_from and context.get(question.recommended_from) is not None:
            candidates.append(context[question.recommended_from])
        if question.recommended is not None:
            recommended = question.recommended
            if question.min_if and condition_holds(question.min_if, answers):
                recommended = max(int(recommended), int(question.min_if["min"]))
            candidates.append(recommended)
        ctx = AnswerContext(answers, self.directory)
        for candidate in candidates:
            try:
                return parse_answer(question, candidate, ctx)
            except AnswerError:
                continue
        return None

    def filled(self, visible: list[Question], answers: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
        """The answers so far, with recommendations standing in for questions not reached yet."""
        filled = dict(answers)
        for _ in range(3):  # recommendations can reveal more questions (per-group ones)
            for question in self.bank.visible(filled, is_template(context)):
                if question.id not in filled:
                    value = self.recommended(question, filled, context)
                    if value is not None:
                        filled[question.id] = value
        return filled

    def breaches(self, visible: list[Question], answers: dict[str, Any], context: dict[str, Any]) -> list[str]:
        if not [f for f in answers.get("client.compliance") or [] if f != "none"]:
            return []
        return [
            line
            for verdict in check(Policy(self.filled(visible, answers, context)), self.clock.now())
            if verdict.binding
            for line in verdict.lines()
            if not verdict.passed
        ]
