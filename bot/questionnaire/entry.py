"""Ways into a draft: start one, start it pre-filled or from another policy, start over, resume."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, select

from bot.kernel.actor import Actor
from bot.kernel.clients import ClientNameError, clean_name, client_key
from bot.kernel.clock import Clock
from bot.kernel.questions import Bank
from bot.kernel.views import (
    Notice,
    Outcome,
    ResumeOffer,
)
from bot.questionnaire.advice import Advisor
from bot.questionnaire.drafts import Drafts, StaleAction
from bot.questionnaire.prompts import Prompts
from storage.db import Database
from storage.models import Client, Draft


class Entry:
    """The questionnaire's entry points (mixed into Questionnaire, which builds the parts they use)."""

    db: Database
    clock: Clock
    bank: Bank
    drafts: Drafts
    advice: Advisor
    prompts: Prompts

    def start(self, actor: Actor, client_name: str, context: dict[str, Any], kind: str = "client") -> Outcome:
        """`/patchpolicy new <client>` (or `template new <name>`): a new draft, or an offer to resume the open one."""
        with self.db.write() as session:
            found = self._client_without_draft(session, actor, client_name, kind)
            if isinstance(found, Outcome):
                return found
            client = found
            draft = self.drafts.new_draft(session, client, actor, {**context, "kind": kind}, self.clock.now())
            what = f"the {client.name} template" if kind == "template" else f"{client.name}'s patch policy"
            outcome = Outcome(
                [
                    Notice(
                        f"Let's write {what}. Answer one question at a time; everything is saved as you go.",
                        "info",
                    )
                ]
            )
            outcome.replies.append(self.prompts.ask(session, draft, client))
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
            draft = self.drafts.new_draft(session, client, actor, draft_context, self.clock.now())
            for question_id, value in answers.items():
                self.drafts.store(session, draft, question_id, value, actor)
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
        draft = self.drafts.open_draft(session, found.id)
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
        visible, _ = self.drafts.state(session, draft)
        position = self.drafts.position(visible, draft.current_qid)
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
            draft = self.drafts.open_draft(session, client_id)
            if draft is not None:
                return self._offer(session, draft, client, actor)
            try:
                draft = self.drafts.new_draft(session, client, actor, {**context, "kind": client.kind}, now)
            except StaleAction as err:
                return Outcome([Notice(str(err), "error")])
            for question_id, value in answers.items():
                self.drafts.store(session, draft, question_id, value, actor)
            intro = intro or (
                f"Here are {client.name}'s published answers. Edit any of them, then Finish "
                "and Publish to make the next version."
            )
            outcome = Outcome([Notice(intro)])
            outcome.replies.extend(self.prompts.to_summary(session, draft, client, None).replies)
            return outcome

    def start_over(self, actor: Actor, draft_id: int, seq: int) -> Outcome:
        """Abandon the open draft (its owner only) and start a blank one for the same client."""
        now = self.clock.now()
        with self.db.write() as session:
            draft, client = self.drafts.load(session, actor, draft_id, seq)
            outcome = Outcome(closed=self.drafts.close(draft, "Started over"))
            draft.status, draft.updated_at = "abandoned", now
            session.add(draft)
            session.flush()
            context = dict(draft.context)
            fresh = self.drafts.new_draft(session, client, actor, context, now)
            outcome.replies.append(Notice(f"Starting {client.name}'s policy again from the first question."))
            outcome.replies.append(self.prompts.ask(session, fresh, client))
            return outcome

    def resume(self, actor: Actor, client_name: str | None = None, draft_id: int | None = None) -> Outcome:
        """`/patchpolicy resume [client]`, or a Resume button: the exact question where it stopped."""
        with self.db.write() as session:
            if draft_id is not None:
                draft = session.get(Draft, draft_id)
                if draft is None or draft.owner_id != actor.id or draft.status != "open":
                    return Outcome([self._no_draft(None)])
            else:
                draft = self.drafts.active_draft(session, actor, client_name, include_paused=True)
            if draft is None:
                return Outcome([self._no_draft(client_name)])
            return self._resume(session, draft)

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
            visible, answers = self.drafts.state(session, draft)
            return {q.id: answers[q.id] for q in visible if q.id in answers}

    def answers_in(self, session: Session, draft: Draft) -> dict[str, Any]:
        visible, answers = self.drafts.state(session, draft)
        return {q.id: answers[q.id] for q in visible if q.id in answers}

    @staticmethod
    def _no_draft(client_name: str | None) -> Notice:
        if client_name:
            return Notice(f"You have no open draft for {client_name}. Start one with `/patchpolicy new {client_name}`.")
        return Notice("You have no policy in progress. Start one with `/patchpolicy new <client>`.")
