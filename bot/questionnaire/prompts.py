"""What the person is shown next: the current question, or the summary, built from the stored draft."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from bot.kernel.clock import Clock
from bot.kernel.questions import Bank, Question
from bot.kernel.views import (
    ClosedPrompt,
    Outcome,
    QuestionView,
    SummaryItem,
    SummarySection,
    SummaryView,
)
from bot.policy.answers import describe
from bot.policy.compliance import summary_lines
from bot.policy.model import Policy
from bot.questionnaire.advice import Advisor
from bot.questionnaire.drafts import Drafts
from storage.models import Client, Draft


class Prompts:
    """Builds the question and summary views, moving the draft's step as it does."""

    def __init__(self, bank: Bank, clock: Clock, drafts: Drafts, advice: Advisor) -> None:
        self.bank = bank
        self.clock = clock
        self.drafts = drafts
        self.advice = advice

    def to_summary(self, session: Session, draft: Draft, client: Client, closed: ClosedPrompt | None) -> Outcome:
        draft.mode, draft.current_qid, draft.prompt_ts = "summary", None, None
        self.drafts.touch(session, draft)
        return Outcome([self.summary(session, draft, client)], closed=closed)

    def move(
        self, session: Session, draft: Draft, client: Client, question_id: str, mode: str, closed: ClosedPrompt | None
    ) -> Outcome:
        draft.current_qid, draft.mode, draft.prompt_ts = question_id, mode, None
        self.drafts.touch(session, draft)
        return Outcome([self.ask(session, draft, client)], closed=closed)

    def ask(self, session: Session, draft: Draft, client: Client) -> QuestionView | SummaryView:
        visible, answers = self.drafts.state(session, draft)
        question = self.drafts.current(visible, draft)
        if question is None:
            draft.mode, draft.current_qid = "summary", None
            self.drafts.touch(session, draft)
            return self.summary(session, draft, client)
        if question.id != draft.current_qid:
            draft.current_qid = question.id
            self.drafts.touch(session, draft)
        return self.view(session, draft, client, visible, answers, question)

    def view(
        self,
        session: Session,
        draft: Draft,
        client: Client,
        visible: list[Question],
        answers: dict[str, Any],
        question: Question,
        error: str | None = None,
    ) -> QuestionView:
        recommended = self.advice.recommended(question, answers, draft.context)
        current = answers.get(question.id)
        return QuestionView(
            draft_id=draft.id,
            seq=draft.seq,
            client_name=client.name,
            section_title=self.bank.section(question.section).title,
            position=self.drafts.position(visible, question.id),
            total=len(visible),
            question=question,
            recommended=recommended,
            recommended_label=describe(question, recommended) if recommended is not None else None,
            current=current,
            current_label=describe(question, current) if current is not None else None,
            error=error,
            editing=draft.mode == "editing",
            first=visible[0].id == question.id,
        )

    def summary(self, session: Session, draft: Draft, client: Client) -> SummaryView:
        visible, answers = self.drafts.state(session, draft)
        skipped = self.drafts.skipped_ids(session, draft)
        sections: list[SummarySection] = []
        missing: list[SummaryItem] = []
        for section in self.bank.sections:
            items = []
            for number, q in enumerate(visible, start=1):
                if q.section != section.id:
                    continue
                if q.id in answers:
                    item = SummaryItem(number, q.id, q.prompt, describe(q, answers[q.id]), "answered")
                elif q.id in skipped:
                    item = SummaryItem(number, q.id, q.prompt, "Skipped", "skipped")
                else:
                    item = SummaryItem(number, q.id, q.prompt, "Not answered", "missing")
                if item.state != "answered" and q.required:
                    missing.append(item)
                items.append(item)
            if items:
                sections.append(SummarySection(section.id, section.title, tuple(items)))
        verdicts = summary_lines(Policy(self.advice.filled(visible, answers, draft.context)), self.clock.now())
        return SummaryView(draft.id, draft.seq, client.name, tuple(sections), tuple(missing), compliance=verdicts)
