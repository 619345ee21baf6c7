"""Drafts and their answers as stored: creating and loading drafts, the visible questions, storing an answer."""

from __future__ import annotations

from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bot.kernel.actor import Actor
from bot.kernel.clients import ClientNameError, client_key
from bot.kernel.clock import Clock
from bot.kernel.questions import Bank, Question
from bot.kernel.views import (
    ClosedPrompt,
)
from storage.models import Answer, Client, Draft


class StaleAction(Exception):
    """A button from an earlier step, or for a draft that is no longer open."""


def is_template(context: dict[str, Any]) -> bool:
    return context.get("kind") == "template"


class Drafts:
    """Every read and write of drafts and answers, inside the caller's transaction."""

    def __init__(self, bank: Bank, clock: Clock) -> None:
        self.bank = bank
        self.clock = clock

    def new_draft(self, session: Session, client: Client, actor: Actor, context: dict[str, Any], now: Any) -> Draft:
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
        visible, _ = self.state(session, draft)
        draft.current_qid = visible[0].id
        return draft

    def load(self, session: Session, actor: Actor, draft_id: int, seq: int) -> tuple[Draft, Client]:
        draft = session.exec(select(Draft).where(Draft.id == draft_id).with_for_update()).first()
        if draft is None or draft.status != "open":
            raise StaleAction("That policy draft is closed; nothing changed.")
        if draft.owner_id != actor.id:
            raise StaleAction("Only the person who started this draft can answer it.")
        if draft.seq != seq:
            raise StaleAction("That button is from an earlier step; nothing changed.")
        return draft, session.get(Client, draft.client_id)

    def open_draft(self, session: Session, client_id: int | None) -> Draft | None:
        return session.exec(select(Draft).where(Draft.client_id == client_id, Draft.status == "open")).first()

    def active_draft(
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

    def state(self, session: Session, draft: Draft) -> tuple[list[Question], dict[str, Any]]:
        rows = session.exec(select(Answer).where(Answer.draft_id == draft.id, Answer.skipped == False)).all()  # noqa: E712
        answers = {row.question_id: row.value for row in rows}
        return self.bank.visible(answers, is_template(draft.context)), answers

    def skipped_ids(self, session: Session, draft: Draft) -> set[str]:
        rows = session.exec(select(Answer.question_id).where(Answer.draft_id == draft.id, Answer.skipped == True))  # noqa: E712
        return set(rows.all())

    def store(
        self, session: Session, draft: Draft, question_id: str, value: Any, actor: Actor, skipped: bool = False
    ) -> None:
        row = session.exec(select(Answer).where(Answer.draft_id == draft.id, Answer.question_id == question_id)).first()
        if row is None:
            row = Answer(draft_id=draft.id, question_id=question_id, answered_by=actor.id, answered_at=self.clock.now())
        row.value, row.skipped, row.answered_by, row.answered_at = value, skipped, actor.id, self.clock.now()
        session.add(row)
        session.flush()

    def touch(self, session: Session, draft: Draft) -> None:
        draft.seq += 1
        draft.updated_at = self.clock.now()
        session.add(draft)
        session.flush()

    @staticmethod
    def current(visible: list[Question], draft: Draft) -> Question | None:
        return next((q for q in visible if q.id == draft.current_qid), None)

    @staticmethod
    def position(visible: list[Question], question_id: str | None) -> int:
        ids = [q.id for q in visible]
        return ids.index(question_id) + 1 if question_id in ids else len(ids)

    @staticmethod
    def close(draft: Draft, outcome: str, question: Question | None = None) -> ClosedPrompt | None:
        if not draft.dm_channel or not draft.prompt_ts:
            return None
        return ClosedPrompt(draft.dm_channel, draft.prompt_ts, question.prompt if question else "", outcome)
