"""The questionnaire engine: one step at a time (answer, back, skip, edit, pause, finish), each committed before
anything is said."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, select

from bot.kernel.actor import Actor
from bot.kernel.clients import client_key
from bot.kernel.clock import Clock
from bot.kernel.directory import Directory
from bot.kernel.questions import Bank, Question, load_bank
from bot.kernel.views import (
    ClosedPrompt,
    Notice,
    Outcome,
    PublishOffer,
    SummaryView,
)
from bot.policy.answers import AnswerContext, AnswerError, describe, parse_answer
from bot.questionnaire.advice import Advisor
from bot.questionnaire.drafts import Drafts, StaleAction, is_template
from bot.questionnaire.entry import Entry
from bot.questionnaire.prompts import Prompts
from storage.db import Database
from storage.models import Client, Draft

ACTIONS = {"answer", "recommended", "back", "skip", "pause", "rest", "edit", "finish", "summary", "resume"}
_WORDS = {
    "back": "back",
    "skip": "skip",
    "pause": "pause",
    "rest": "rest",
    "accept section": "rest",
    "summary": "summary",
    "finish": "finish",
    "recommended": "recommended",
    "resume": "resume",
}


class Questionnaire(Entry):
    """Starts, advances and finishes drafts. Every accepted answer is committed before anything is said."""

    def __init__(self, db: Database, clock: Clock, directory: Directory, bank: Bank | None = None) -> None:
        self.db = db
        self.clock = clock
        self.directory = directory
        self.bank = bank or load_bank()
        self.drafts = Drafts(self.bank, clock)
        self.advice = Advisor(self.bank, clock, directory)
        self.prompts = Prompts(self.bank, clock, self.drafts, self.advice)

    def act(
        self, actor: Actor, draft_id: int, seq: int, action: str, question_id: str | None = None, raw: Any = None
    ) -> Outcome:
        """A button or select: checked against the draft's step, so stale or repeated clicks do nothing."""
        if action not in ACTIONS:
            return Outcome([Notice("I don't know that button.", "error")])
        with self.db.write() as session:
            try:
                draft, client = self.drafts.load(session, actor, draft_id, seq)
            except StaleAction as err:
                return Outcome([Notice(str(err), "info")])
            if action == "resume":
                return self._resume(session, draft)
            if question_id is not None and action in {"answer", "recommended"} and question_id != draft.current_qid:
                return Outcome([Notice("That question was already answered; nothing changed.")])
            return self._dispatch(session, actor, draft, client, action, question_id, raw)

    def text(self, actor: Actor, text: str) -> Outcome:
        """A typed line (a DM, or the console): an answer to the current question, or a navigation word."""
        words = " ".join(text.split()).casefold()
        with self.db.write() as session:
            draft = self.drafts.active_draft(session, actor, None, include_paused=True)
            if draft is None:
                return Outcome([self._no_draft(None)])
            client = session.get(Client, draft.client_id)
            if draft.paused:
                return self._resume(session, draft)
            if words.startswith("edit ") and draft.mode == "summary":
                return self._edit_by_number(session, actor, draft, client, words[5:].strip())
            action = _WORDS.get(words)
            if action == "resume":
                return self._resume(session, draft)
            if action is not None:
                return self._dispatch(session, actor, draft, client, action, None, None)
            if draft.mode == "summary":
                return Outcome(
                    [Notice("You're at the summary: press Finish, or Edit an answer (type `finish` or `edit 12`).")]
                )
            if not words:
                return self._dispatch(session, actor, draft, client, "recommended", None, None)
            return self._dispatch(session, actor, draft, client, "answer", None, text)

    def _dispatch(
        self,
        session: Session,
        actor: Actor,
        draft: Draft,
        client: Client,
        action: str,
        question_id: str | None,
        raw: Any,
    ) -> Outcome:
        if action == "finish":
            return self._finish(session, actor, draft, client)
        if action == "summary":
            return self.prompts.to_summary(session, draft, client, self.drafts.close(draft, "Summary"))
        if action == "edit":
            return self._edit(session, draft, client, question_id)
        if action == "pause":
            return self._pause(session, draft, client)
        if draft.mode == "summary":
            if action == "back":
                visible, _ = self.drafts.state(session, draft)
                return self.prompts.move(
                    session, draft, client, visible[-1].id, "asking", self.drafts.close(draft, "Back")
                )
            return Outcome([Notice("You're at the summary: press Finish, or Edit an answer.")])
        if action == "back":
            return self._back(session, draft, client)
        if action == "skip":
            return self._skip(session, actor, draft, client)
        if action == "rest":
            return self._accept_rest(session, actor, draft, client)
        return self._answer(session, actor, draft, client, action == "recommended", raw)

    def _answer(
        self, session: Session, actor: Actor, draft: Draft, client: Client, use_recommended: bool, raw: Any
    ) -> Outcome:
        visible, answers = self.drafts.state(session, draft)
        question = self.drafts.current(visible, draft)
        if question is None:
            return self.prompts.to_summary(session, draft, client, None)
        ctx = AnswerContext(answers, self.directory)
        try:
            if use_recommended:
                value = self.advice.recommended(question, answers, draft.context)
                if value is None:
                    raise AnswerError("This question has no recommended answer; type yours.")
            else:
                value = parse_answer(question, raw, ctx)
            channel_note = self._channel_note(question, value)
        except AnswerError as err:
            closed = self.drafts.close(draft, "Not accepted: see below")
            draft.prompt_ts = None
            view = self.prompts.view(session, draft, client, visible, answers, question, error=str(err))
            return Outcome([view], closed=closed)
        closed = self.drafts.close(draft, describe(question, value), question)
        before = self.advice.breaches(visible, answers, draft.context)
        self.drafts.store(session, draft, question.id, value, actor)
        answers[question.id] = value
        outcome = self._advance(session, draft, client, question, closed)
        visible = self.bank.visible(answers, is_template(draft.context))
        new = [b for b in self.advice.breaches(visible, answers, draft.context) if b not in before]
        if new:
            outcome.replies.insert(
                0, Notice("That answer breaks a chosen framework (you may keep it): " + new[0], "warning")
            )
        if channel_note:
            outcome.replies.insert(0, Notice(channel_note, "success"))
        return outcome

    def _channel_note(self, question: Question, value: Any) -> str:
        """A chosen channel must be one the bot can work in: it joins a public one, or the answer is refused."""
        if question.type != "channel" or not isinstance(value, dict):
            return ""
        check = self.directory.prepare_channel(value)
        if not check.usable:
            raise AnswerError(check.note)
        return check.note

    def _advance(
        self, session: Session, draft: Draft, client: Client, answered: Question, closed: ClosedPrompt | None
    ) -> Outcome:
        """After an answer: the next question, or back to the summary when editing."""
        if draft.mode == "editing":
            return self._advance_editing(session, draft, client, closed)
        visible, _ = self.drafts.state(session, draft)
        following = next((q for q in visible if q.order > answered.order), None)
        if following is None:
            return self.prompts.to_summary(session, draft, client, closed)
        return self.prompts.move(session, draft, client, following.id, "asking", closed)

    def _advance_editing(self, session: Session, draft: Draft, client: Client, closed: ClosedPrompt | None) -> Outcome:
        """The next unanswered question that applies, or the summary when none is left."""
        visible, answers = self.drafts.state(session, draft)
        skipped = self.drafts.skipped_ids(session, draft)  # one query, not one per question
        pending = next((q for q in visible if q.id not in answers and q.id not in skipped), None)
        if pending is None:
            return self.prompts.to_summary(session, draft, client, closed)
        return self.prompts.move(session, draft, client, pending.id, "editing", closed)

    def _back(self, session: Session, draft: Draft, client: Client) -> Outcome:
        visible, _ = self.drafts.state(session, draft)
        if draft.mode == "editing":
            return self.prompts.to_summary(session, draft, client, self.drafts.close(draft, "Back to the summary"))
        current = self.drafts.current(visible, draft)
        earlier = [q for q in visible if current is None or q.order < current.order]
        if not earlier:
            return Outcome([Notice("This is the first question.")])
        return self.prompts.move(
            session, draft, client, earlier[-1].id, "asking", self.drafts.close(draft, "Went back")
        )

    def _skip(self, session: Session, actor: Actor, draft: Draft, client: Client) -> Outcome:
        visible, _ = self.drafts.state(session, draft)
        question = self.drafts.current(visible, draft)
        if question is None:
            return self.prompts.to_summary(session, draft, client, None)
        closed = self.drafts.close(draft, "Skipped", question)
        self.drafts.store(session, draft, question.id, None, actor, skipped=True)
        return self._advance(session, draft, client, question, closed)

    def _accept_rest(self, session: Session, actor: Actor, draft: Draft, client: Client) -> Outcome:
        """Take the recommended answer for every unanswered question left in this section."""
        visible, answers = self.drafts.state(session, draft)
        question = self.drafts.current(visible, draft)
        if question is None:
            return self.prompts.to_summary(session, draft, client, None)
        section = question.section
        closed = self.drafts.close(draft, "Recommended answers taken for the rest of this section", question)
        taken = 0
        while question is not None and question.section == section:
            if question.id not in answers:
                value = self.advice.recommended(question, answers, draft.context)
                if value is None:
                    break
                self.drafts.store(session, draft, question.id, value, actor)
                taken += 1
            visible, answers = self.drafts.state(session, draft)
            question = next((q for q in visible if q.order > question.order), None)
        outcome = Outcome([Notice(f"Took {taken} recommended answer{'s' if taken != 1 else ''}.", "success")])
        if question is None:
            nxt = self.prompts.to_summary(session, draft, client, closed)
        else:
            nxt = self.prompts.move(session, draft, client, question.id, draft.mode, closed)
        outcome.replies.extend(nxt.replies)
        outcome.closed = nxt.closed
        return outcome

    def _edit(self, session: Session, draft: Draft, client: Client, question_id: str | None) -> Outcome:
        visible, _ = self.drafts.state(session, draft)
        if question_id not in {q.id for q in visible}:
            return Outcome([Notice("That question doesn't apply any more; nothing changed.")])
        return self.prompts.move(
            session, draft, client, question_id, "editing", self.drafts.close(draft, "Editing an answer")
        )

    def _edit_by_number(self, session: Session, actor: Actor, draft: Draft, client: Client, number: str) -> Outcome:
        visible, _ = self.drafts.state(session, draft)
        if not number.isdigit() or not 1 <= int(number) <= len(visible):
            return Outcome([Notice(f"Type `edit` and a question number from 1 to {len(visible)}.", "error")])
        return self._edit(session, draft, client, visible[int(number) - 1].id)

    def _pause(self, session: Session, draft: Draft, client: Client) -> Outcome:
        closed = self.drafts.close(draft, "Paused")
        draft.paused, draft.prompt_ts = True, None
        self.drafts.touch(session, draft)
        return Outcome(
            [
                Notice(
                    f"Paused {client.name}'s policy. Pick it up any time with `/patchpolicy resume`, "
                    "or just send me a message."
                )
            ],
            closed=closed,
        )

    def _resume(self, session: Session, draft: Draft) -> Outcome:
        client = session.get(Client, draft.client_id)
        closed = self.drafts.close(draft, "Continued below")
        draft.paused, draft.prompt_ts = False, None
        self.drafts.touch(session, draft)
        outcome = Outcome([Notice(f"Picking up {client.name}'s policy where you left off.")], closed=closed)
        if draft.mode == "summary":
            outcome.replies.append(self.prompts.summary(session, draft, client))
        else:
            outcome.replies.append(self.prompts.ask(session, draft, client))
        return outcome

    @staticmethod
    def _name_taken(session: Session, client: Client, name: str | None) -> Notice | None:
        """A rename through the first question is checked as `new` checks a name: another client's is taken."""
        if not name or client_key(name) == client.key:
            return None
        other = session.exec(select(Client).where(Client.key == client_key(name), Client.id != client.id)).first()
        if other is None:
            return None
        return Notice(f"Another client is already called {other.name}; change the name (question 1) first.", "error")

    def _finish(self, session: Session, actor: Actor, draft: Draft, client: Client) -> Outcome:
        summary = self.prompts.summary(session, draft, client)
        if summary.missing:
            names = "; ".join(f"{item.number}. {item.prompt}" for item in summary.missing[:5])
            more = f" and {len(summary.missing) - 5} more" if len(summary.missing) > 5 else ""
            outcome = self.prompts.to_summary(session, draft, client, self.drafts.close(draft, "Summary"))
            outcome.replies.insert(0, Notice(f"Some required answers are missing: {names}{more}.", "warning"))
            return outcome
        answers = self.answers_in(session, draft)
        taken = self._name_taken(session, client, answers.get("client.name"))
        if taken is not None:
            outcome = self.prompts.to_summary(session, draft, client, self.drafts.close(draft, "Summary"))
            outcome.replies.insert(0, taken)
            return outcome
        closed = self.drafts.close(draft, "Finished")
        draft.status, draft.mode, draft.current_qid = "complete", "done", None
        draft.completed_at = self.clock.now()
        draft.prompt_ts = None
        self.drafts.touch(session, draft)
        if answers.get("client.name"):
            client.name, client.key = answers["client.name"], client_key(answers["client.name"])
        client.timezone = answers.get("client.timezone", client.timezone)
        channel = answers.get("client.channel")
        if channel:
            client.channel_id, client.channel_name = channel["id"], channel["name"]
        session.add(client)
        done = SummaryView(draft.id, draft.seq, client.name, summary.sections, (), finished=True)
        note = Notice(f"{client.name}'s policy is complete: {len(answers)} answers saved.", "success")
        return Outcome([done, note, PublishOffer(draft.id, client.name, client.channel_name)], closed=closed)
