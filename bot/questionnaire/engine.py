"""The questionnaire engine: drafts, answers and navigation, committed one step at a time."""

from __future__ import annotations

from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bot.kernel.actor import Actor
from bot.kernel.clients import ClientNameError, clean_name, client_key
from bot.kernel.clock import Clock
from bot.kernel.directory import Directory
from bot.kernel.questions import Bank, Question, condition_holds, load_bank
from bot.kernel.views import (
    ClosedPrompt,
    Notice,
    Outcome,
    PublishOffer,
    QuestionView,
    ResumeOffer,
    SummaryItem,
    SummarySection,
    SummaryView,
)
from bot.policy.answers import AnswerContext, AnswerError, describe, parse_answer
from bot.policy.compliance import summary_lines
from bot.policy.model import Policy
from storage.db import Database
from storage.models import Answer, Client, Draft

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


class StaleAction(Exception):
    """A button from an earlier step, or for a draft that is no longer open."""


class Questionnaire:
    """Starts, advances and finishes drafts. Every accepted answer is committed before anything is said."""

    def __init__(self, db: Database, clock: Clock, directory: Directory, bank: Bank | None = None) -> None:
        self.db = db
        self.clock = clock
        self.directory = directory
        self.bank = bank or load_bank()

    # ----- entry points -------------------------------------------------------------------------

    def start(self, actor: Actor, client_name: str, context: dict[str, Any], kind: str = "client") -> Outcome:
        """`/patchpolicy new <client>` (or `template new <name>`): a new draft, or an offer to resume the open one."""
        with self.db.write() as session:
            found = self._client_without_draft(session, actor, client_name, kind)
            if isinstance(found, Outcome):
                return found
            client = found
            draft = self._new_draft(session, client, actor, {**context, "kind": kind}, self.clock.now())
            what = f"the {client.name} template" if kind == "template" else f"{client.name}'s patch policy"
            outcome = Outcome(
                [
                    Notice(
                        f"Let's write {what}. Answer one question at a time; everything is saved as you go.",
                        "info",
                    )
                ]
            )
            outcome.replies.append(self._ask(session, draft, client))
            return outcome

    def start_prefilled(
        self,
        actor: Actor,
        client_name: str,
        context: dict[str, Any],
        answers: dict[str, Any],
        source: str,
        template: dict[str, Any] | None = None,
        kind: str = "client",
    ) -> Outcome:
        """`new <client> from <source>`, or a policy file: the answers stored; only what is left is asked."""
        with self.db.write() as session:
            found = self._client_without_draft(session, actor, client_name, kind)
            if isinstance(found, Outcome):
                if isinstance(found.replies[0], ResumeOffer):
                    name = found.replies[0].client_name
                    found.replies.insert(0, Notice(f"{name} already has an open draft, so nothing was loaded."))
                return found
            client = found
            draft_context = {**context, "kind": kind} | ({"template": template} if template else {})
            draft = self._new_draft(session, client, actor, draft_context, self.clock.now())
            for question_id, value in answers.items():
                self._store(session, draft, question_id, value, actor)
            outcome = Outcome(
                [
                    Notice(
                        f"{client.name}'s {'template' if kind == 'template' else 'policy'} starts from {source}: "
                        f"{len(answers)} answers loaded. "
                        f"I'll ask only what is still missing for {client.name}, then show the summary, "
                        "where any answer can be changed."
                    )
                ]
            )
            draft.mode = "editing"
            outcome.replies.extend(self._advance_editing(session, draft, client, None).replies)
            return outcome

    def _client_without_draft(self, session: Session, actor: Actor, client_name: str, kind: str) -> Client | Outcome:
        """The client to start a draft for; or, when that cannot be, what to say (a bad name, an open draft)."""
        found = self._client_for(session, actor, client_name, kind)
        if isinstance(found, Notice):
            return Outcome([found])
        draft = self._open_draft(session, found.id)
        return found if draft is None else self._offer(session, draft, found, actor)

    def _client_for(self, session: Session, actor: Actor, client_name: str, kind: str) -> Client | Notice:
        """The client (or template) of that name, created if new; a notice if the name is bad or taken."""
        try:
            name = clean_name(client_name)
        except ClientNameError as err:
            return Notice(str(err), "error")
        client = session.exec(select(Client).where(Client.key == client_key(name))).first()
        if client is None:
            client = Client(
                key=client_key(name), name=name, kind=kind, created_by=actor.id, created_at=self.clock.now()
            )
            session.add(client)
            session.flush()
        elif client.kind != kind:
            if client.kind == "template":
                return Notice(
                    f"{client.name} is a template. `/patchpolicy new <client> from {client.name}` makes a "
                    f"client's policy from it; `/patchpolicy edit {client.name}` changes the template.",
                    "error",
                )
            return Notice(f"{client.name} is a client, not a template. Pick another template name.", "error")
        return client

    def _offer(self, session: Session, draft: Draft, client: Client, actor: Actor) -> Outcome:
        """The client already has an open draft: offer to resume it (or say whose it is)."""
        visible, _ = self._state(session, draft)
        position = self._position(visible, draft.current_qid)
        owner = draft.owner_id == actor.id
        return Outcome([ResumeOffer(draft.id, draft.seq, client.name, draft.owner_id, owner, position, len(visible))])

    def start_from(
        self,
        actor: Actor,
        client_id: int,
        answers: dict[str, Any],
        context: dict[str, Any],
        intro: str | None = None,
    ) -> Outcome:
        """`/patchpolicy edit` (or sync, or import): a draft pre-filled with answers, straight to the summary."""
        now = self.clock.now()
        with self.db.write() as session:
            client = session.get(Client, client_id)
            draft = self._open_draft(session, client_id)
            if draft is not None:
                return self._offer(session, draft, client, actor)
            try:
                draft = self._new_draft(session, client, actor, {**context, "kind": client.kind}, now)
            except StaleAction as err:
                return Outcome([Notice(str(err), "error")])
            for question_id, value in answers.items():
                self._store(session, draft, question_id, value, actor)
            intro = intro or (
                f"Here are {client.name}'s published answers. Edit any of them, then Finish "
                "and Publish to make the next version."
            )
            outcome = Outcome([Notice(intro)])
            outcome.replies.extend(self._to_summary(session, draft, client, None).replies)
            return outcome

    def start_over(self, actor: Actor, draft_id: int, seq: int) -> Outcome:
        """Abandon the open draft (its owner only) and start a blank one for the same client."""
        now = self.clock.now()
        with self.db.write() as session:
            draft, client = self._load(session, actor, draft_id, seq)
            outcome = Outcome(closed=self._close(draft, "Started over"))
            draft.status, draft.updated_at = "abandoned", now
            session.add(draft)
            session.flush()
            context = dict(draft.context)
            fresh = self._new_draft(session, client, actor, context, now)
            outcome.replies.append(Notice(f"Starting {client.name}'s policy again from the first question."))
            outcome.replies.append(self._ask(session, fresh, client))
            return outcome

    def resume(self, actor: Actor, client_name: str | None = None, draft_id: int | None = None) -> Outcome:
        """`/patchpolicy resume [client]`, or a Resume button: the exact question where it stopped."""
        with self.db.write() as session:
            if draft_id is not None:
                draft = session.get(Draft, draft_id)
                if draft is None or draft.owner_id != actor.id or draft.status != "open":
                    return Outcome([self._no_draft(None)])
            else:
                draft = self._active_draft(session, actor, client_name, include_paused=True)
            if draft is None:
                return Outcome([self._no_draft(client_name)])
            return self._resume(session, draft)

    def act(
        self, actor: Actor, draft_id: int, seq: int, action: str, question_id: str | None = None, raw: Any = None
    ) -> Outcome:
        """A button or select: checked against the draft's step, so stale or repeated clicks do nothing."""
        if action not in ACTIONS:
            return Outcome([Notice("I don't know that button.", "error")])
        with self.db.write() as session:
            try:
                draft, client = self._load(session, actor, draft_id, seq)
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
            draft = self._active_draft(session, actor, None, include_paused=True)
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

    def record_prompt(self, draft_id: int, seq: int, channel: str, ts: str) -> None:
        """Remember which message shows the live prompt, so the next step can update it in place."""
        with self.db.write() as session:
            draft = session.get(Draft, draft_id)
            if draft is not None and draft.seq == seq:
                draft.dm_channel, draft.prompt_ts = channel, ts
                session.add(draft)

    def answers(self, draft_id: int) -> dict[str, Any]:
        """The draft's answers to the questions that apply, by question id."""
        with self.db.read() as session:
            draft = session.get(Draft, draft_id)
            if draft is None:
                return {}
            visible, answers = self._state(session, draft)
            return {q.id: answers[q.id] for q in visible if q.id in answers}

    # ----- navigation ---------------------------------------------------------------------------

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
            return self._to_summary(session, draft, client, self._close(draft, "Summary"))
        if action == "edit":
            return self._edit(session, draft, client, question_id)
        if action == "pause":
            return self._pause(session, draft, client)
        if draft.mode == "summary":
            if action == "back":
                visible, _ = self._state(session, draft)
                return self._move(session, draft, client, visible[-1].id, "asking", self._close(draft, "Back"))
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
        visible, answers = self._state(session, draft)
        question = self._current(visible, draft)
        if question is None:
            return self._to_summary(session, draft, client, None)
        ctx = AnswerContext(answers, self.directory)
        try:
            if use_recommended:
                value = self._recommended(question, answers, draft.context)
                if value is None:
                    raise AnswerError("This question has no recommended answer; type yours.")
            else:
                value = parse_answer(question, raw, ctx)
            channel_note = self._channel_note(question, value)
        except AnswerError as err:
            closed = self._close(draft, "Not accepted: see below")
            draft.prompt_ts = None
            view = self._view(session, draft, client, visible, answers, question, error=str(err))
            return Outcome([view], closed=closed)
        closed = self._close(draft, describe(question, value), question)
        before = self._breaches(visible, answers, draft.context)
        self._store(session, draft, question.id, value, actor)
        answers[question.id] = value
        outcome = self._advance(session, draft, client, question, closed)
        visible = self.bank.visible(answers, _is_template(draft.context))
        new = [b for b in self._breaches(visible, answers, draft.context) if b not in before]
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

    def _filled(self, visible: list[Question], answers: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
        """The answers so far, with recommendations standing in for questions not reached yet."""
        filled = dict(answers)
        for _ in range(3):  # recommendations can reveal more questions (per-group ones)
            for question in self.bank.visible(filled, _is_template(context)):
                if question.id not in filled:
                    value = self._recommended(question, filled, context)
                    if value is not None:
                        filled[question.id] = value
        return filled

    def _breaches(self, visible: list[Question], answers: dict[str, Any], context: dict[str, Any]) -> list[str]:
        if not [f for f in answers.get("client.compliance") or [] if f != "none"]:
            return []
        return [
            line
            for line in summary_lines(Policy(self._filled(visible, answers, context)), self.clock.now()) or ()
            if not line.endswith(": pass.")
        ]

    def _advance(
        self, session: Session, draft: Draft, client: Client, answered: Question, closed: ClosedPrompt | None
    ) -> Outcome:
        """After an answer: the next question, or back to the summary when editing."""
        if draft.mode == "editing":
            return self._advance_editing(session, draft, client, closed)
        visible, _ = self._state(session, draft)
        following = next((q for q in visible if q.order > answered.order), None)
        if following is None:
            return self._to_summary(session, draft, client, closed)
        return self._move(session, draft, client, following.id, "asking", closed)

    def _advance_editing(self, session: Session, draft: Draft, client: Client, closed: ClosedPrompt | None) -> Outcome:
        """The next unanswered question that applies, or the summary when none is left."""
        visible, answers = self._state(session, draft)
        skipped = self._skipped_ids(session, draft)  # one query, not one per question
        pending = next((q for q in visible if q.id not in answers and q.id not in skipped), None)
        if pending is None:
            return self._to_summary(session, draft, client, closed)
        return self._move(session, draft, client, pending.id, "editing", closed)

    def _back(self, session: Session, draft: Draft, client: Client) -> Outcome:
        visible, _ = self._state(session, draft)
        if draft.mode == "editing":
            return self._to_summary(session, draft, client, self._close(draft, "Back to the summary"))
        current = self._current(visible, draft)
        earlier = [q for q in visible if current is None or q.order < current.order]
        if not earlier:
            return Outcome([Notice("This is the first question.")])
        return self._move(session, draft, client, earlier[-1].id, "asking", self._close(draft, "Went back"))

    def _skip(self, session: Session, actor: Actor, draft: Draft, client: Client) -> Outcome:
        visible, _ = self._state(session, draft)
        question = self._current(visible, draft)
        if question is None:
            return self._to_summary(session, draft, client, None)
        closed = self._close(draft, "Skipped", question)
        self._store(session, draft, question.id, None, actor, skipped=True)
        return self._advance(session, draft, client, question, closed)

    def _accept_rest(self, session: Session, actor: Actor, draft: Draft, client: Client) -> Outcome:
        """Take the recommended answer for every unanswered question left in this section."""
        visible, answers = self._state(session, draft)
        question = self._current(visible, draft)
        if question is None:
            return self._to_summary(session, draft, client, None)
        section = question.section
        closed = self._close(draft, "Recommended answers taken for the rest of this section", question)
        taken = 0
        while question is not None and question.section == section:
            if question.id not in answers:
                value = self._recommended(question, answers, draft.context)
                if value is None:
                    break
                self._store(session, draft, question.id, value, actor)
                taken += 1
            visible, answers = self._state(session, draft)
            question = next((q for q in visible if q.order > question.order), None)
        outcome = Outcome([Notice(f"Took {taken} recommended answer{'s' if taken != 1 else ''}.", "success")])
        if question is None:
            nxt = self._to_summary(session, draft, client, closed)
        else:
            nxt = self._move(session, draft, client, question.id, draft.mode, closed)
        outcome.replies.extend(nxt.replies)
        outcome.closed = nxt.closed
        return outcome

    def _edit(self, session: Session, draft: Draft, client: Client, question_id: str | None) -> Outcome:
        visible, _ = self._state(session, draft)
        if question_id not in {q.id for q in visible}:
            return Outcome([Notice("That question doesn't apply any more; nothing changed.")])
        return self._move(session, draft, client, question_id, "editing", self._close(draft, "Editing an answer"))

    def _edit_by_number(self, session: Session, actor: Actor, draft: Draft, client: Client, number: str) -> Outcome:
        visible, _ = self._state(session, draft)
        if not number.isdigit() or not 1 <= int(number) <= len(visible):
            return Outcome([Notice(f"Type `edit` and a question number from 1 to {len(visible)}.", "error")])
        return self._edit(session, draft, client, visible[int(number) - 1].id)

    def _pause(self, session: Session, draft: Draft, client: Client) -> Outcome:
        closed = self._close(draft, "Paused")
        draft.paused, draft.prompt_ts = True, None
        self._touch(session, draft)
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
        closed = self._close(draft, "Continued below")
        draft.paused, draft.prompt_ts = False, None
        self._touch(session, draft)
        outcome = Outcome([Notice(f"Picking up {client.name}'s policy where you left off.")], closed=closed)
        if draft.mode == "summary":
            outcome.replies.append(self._summary(session, draft, client))
        else:
            outcome.replies.append(self._ask(session, draft, client))
        return outcome

    def _finish(self, session: Session, actor: Actor, draft: Draft, client: Client) -> Outcome:
        summary = self._summary(session, draft, client)
        if summary.missing:
            names = "; ".join(f"{item.number}. {item.prompt}" for item in summary.missing[:5])
            more = f" and {len(summary.missing) - 5} more" if len(summary.missing) > 5 else ""
            outcome = self._to_summary(session, draft, client, self._close(draft, "Summary"))
            outcome.replies.insert(0, Notice(f"Some required answers are missing: {names}{more}.", "warning"))
            return outcome
        answers = self.answers_in(session, draft)
        closed = self._close(draft, "Finished")
        draft.status, draft.mode, draft.current_qid = "complete", "done", None
        draft.completed_at = self.clock.now()
        draft.prompt_ts = None
        self._touch(session, draft)
        client.name = answers.get("client.name", client.name)
        client.timezone = answers.get("client.timezone", client.timezone)
        channel = answers.get("client.channel")
        if channel:
            client.channel_id, client.channel_name = channel["id"], channel["name"]
        session.add(client)
        done = SummaryView(draft.id, draft.seq, client.name, summary.sections, (), finished=True)
        note = Notice(f"{client.name}'s policy is complete: {len(answers)} answers saved.", "success")
        return Outcome([done, note, PublishOffer(draft.id, client.name, client.channel_name)], closed=closed)

    def _to_summary(self, session: Session, draft: Draft, client: Client, closed: ClosedPrompt | None) -> Outcome:
        draft.mode, draft.current_qid, draft.prompt_ts = "summary", None, None
        self._touch(session, draft)
        return Outcome([self._summary(session, draft, client)], closed=closed)

    def _move(
        self, session: Session, draft: Draft, client: Client, question_id: str, mode: str, closed: ClosedPrompt | None
    ) -> Outcome:
        draft.current_qid, draft.mode, draft.prompt_ts = question_id, mode, None
        self._touch(session, draft)
        return Outcome([self._ask(session, draft, client)], closed=closed)

    # ----- views --------------------------------------------------------------------------------

    def _ask(self, session: Session, draft: Draft, client: Client) -> QuestionView | SummaryView:
        visible, answers = self._state(session, draft)
        question = self._current(visible, draft)
        if question is None:
            draft.mode, draft.current_qid = "summary", None
            self._touch(session, draft)
            return self._summary(session, draft, client)
        if question.id != draft.current_qid:
            draft.current_qid = question.id
            self._touch(session, draft)
        return self._view(session, draft, client, visible, answers, question)

    def _view(
        self,
        session: Session,
        draft: Draft,
        client: Client,
        visible: list[Question],
        answers: dict[str, Any],
        question: Question,
        error: str | None = None,
    ) -> QuestionView:
        recommended = self._recommended(question, answers, draft.context)
        current = answers.get(question.id)
        return QuestionView(
            draft_id=draft.id,
            seq=draft.seq,
            client_name=client.name,
            section_title=self.bank.section(question.section).title,
            position=self._position(visible, question.id),
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

    def _summary(self, session: Session, draft: Draft, client: Client) -> SummaryView:
        visible, answers = self._state(session, draft)
        skipped = self._skipped_ids(session, draft)
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
        verdicts = summary_lines(Policy(self._filled(visible, answers, draft.context)), self.clock.now())
        return SummaryView(draft.id, draft.seq, client.name, tuple(sections), tuple(missing), compliance=verdicts)

    def _recommended(self, question: Question, answers: dict[str, Any], context: dict[str, Any]) -> Any:
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

    # ----- storage helpers ----------------------------------------------------------------------

    def _new_draft(self, session: Session, client: Client, actor: Actor, context: dict[str, Any], now: Any) -> Draft:
        context = {**context, "client_name": client.name}
        if actor.timezone:
            context.setdefault("user_timezone", actor.timezone)
        context.setdefault("user", [{"id": actor.id, "name": actor.name}])
        draft = Draft(client_id=client.id, owner_id=actor.id, context=context, created_at=now, updated_at=now)
        session.add(draft)
        try:
            with session.begin_nested():
                session.flush()
        except IntegrityError:  # another request opened one at the same moment
            raise StaleAction(f"{client.name} already has an open draft.") from None
        visible, _ = self._state(session, draft)
        draft.current_qid = visible[0].id
        return draft

    def _load(self, session: Session, actor: Actor, draft_id: int, seq: int) -> tuple[Draft, Client]:
        draft = session.exec(select(Draft).where(Draft.id == draft_id).with_for_update()).first()
        if draft is None or draft.status != "open":
            raise StaleAction("That policy draft is closed; nothing changed.")
        if draft.owner_id != actor.id:
            raise StaleAction("Only the person who started this draft can answer it.")
        if draft.seq != seq:
            raise StaleAction("That button is from an earlier step; nothing changed.")
        return draft, session.get(Client, draft.client_id)

    def _open_draft(self, session: Session, client_id: int | None) -> Draft | None:
        return session.exec(select(Draft).where(Draft.client_id == client_id, Draft.status == "open")).first()

    def _active_draft(
        self, session: Session, actor: Actor, client_name: str | None, include_paused: bool
    ) -> Draft | None:
        query = select(Draft).where(Draft.owner_id == actor.id, Draft.status == "open")
        if client_name:
            try:
                key = client_key(client_name)
            except ClientNameError:
                return None
            query = query.join(Client, col(Client.id) == col(Draft.client_id)).where(Client.key == key)
        if not include_paused:
            query = query.where(Draft.paused == False)  # noqa: E712
        return session.exec(query.order_by(col(Draft.updated_at).desc(), col(Draft.id).desc())).first()

    def _state(self, session: Session, draft: Draft) -> tuple[list[Question], dict[str, Any]]:
        rows = session.exec(select(Answer).where(Answer.draft_id == draft.id, Answer.skipped == False)).all()  # noqa: E712
        answers = {row.question_id: row.value for row in rows}
        return self.bank.visible(answers, _is_template(draft.context)), answers

    def answers_in(self, session: Session, draft: Draft) -> dict[str, Any]:
        visible, answers = self._state(session, draft)
        return {q.id: answers[q.id] for q in visible if q.id in answers}

    def _skipped_ids(self, session: Session, draft: Draft) -> set[str]:
        rows = session.exec(select(Answer.question_id).where(Answer.draft_id == draft.id, Answer.skipped == True))  # noqa: E712
        return set(rows.all())

    def _store(
        self, session: Session, draft: Draft, question_id: str, value: Any, actor: Actor, skipped: bool = False
    ) -> None:
        row = session.exec(select(Answer).where(Answer.draft_id == draft.id, Answer.question_id == question_id)).first()
        if row is None:
            row = Answer(draft_id=draft.id, question_id=question_id, answered_by=actor.id, answered_at=self.clock.now())
        row.value, row.skipped, row.answered_by, row.answered_at = value, skipped, actor.id, self.clock.now()
        session.add(row)
        session.flush()

    def _touch(self, session: Session, draft: Draft) -> None:
        draft.seq += 1
        draft.updated_at = self.clock.now()
        session.add(draft)
        session.flush()

    @staticmethod
    def _current(visible: list[Question], draft: Draft) -> Question | None:
        return next((q for q in visible if q.id == draft.current_qid), None)

    @staticmethod
    def _position(visible: list[Question], question_id: str | None) -> int:
        ids = [q.id for q in visible]
        return ids.index(question_id) + 1 if question_id in ids else len(ids)

    @staticmethod
    def _close(draft: Draft, outcome: str, question: Question | None = None) -> ClosedPrompt | None:
        if not draft.dm_channel or not draft.prompt_ts:
            return None
        return ClosedPrompt(draft.dm_channel, draft.prompt_ts, question.prompt if question else "", outcome)

    @staticmethod
    def _no_draft(client_name: str | None) -> Notice:
        if client_name:
            return Notice(f"You have no open draft for {client_name}. Start one with `/patchpolicy new {client_name}`.")
        return Notice("You have no policy in progress. Start one with `/patchpolicy new <client>`.")


def _is_template(context: dict[str, Any]) -> bool:
    return context.get("kind") == "template"
