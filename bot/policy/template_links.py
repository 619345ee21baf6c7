"""A client policy built on an MSP template: which answers follow it, which override it, and syncing.

An answer follows the template when it equals the template's answer in the version the policy is based
on; any other value is the client's override. Syncing to a newer template version takes the template's
changes for the answers that follow and keeps every override.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, select

from bot.kernel.questions import Bank, load_bank
from storage.models import Client, PolicyVersion


@dataclass(frozen=True)
class TemplateStatus:
    """Where a client stands against its template."""

    template_name: str
    based_on: int  # the template version the client's answers follow
    latest: int
    follows: tuple[str, ...]  # question ids
    overrides: tuple[str, ...]
    pending: tuple[str, ...]  # answers the client follows that the latest template version changes

    def describe(self, client_name: str) -> str:
        """One sentence for the overview, the list and the template's publisher."""
        own = len(self.overrides)
        text = (
            f"Built on template {self.template_name} v{self.based_on}: {len(self.follows)} answers follow it, "
            f"{own} {'is' if own == 1 else 'are'} {client_name}'s own."
        )
        if self.pending:
            count = len(self.pending)
            text += (
                f" Template v{self.latest} changes {count} answer{'s' if count != 1 else ''} "
                f"{client_name} follows: `/patchpolicy sync {client_name}` takes them."
            )
        return text


def shared_answers(answers: dict[str, Any], bank: Bank | None = None) -> dict[str, Any]:
    """The answers a template or a copy passes on: everything but the client-specific ones."""
    bank = bank or load_bank()
    specific = {q.id for q in bank.expand(answers) if q.client_specific}
    return {qid: value for qid, value in answers.items() if qid not in specific}


def template_answers(session: Session, template_id: int, version: int | None = None) -> PolicyVersion | None:
    """A template's published version (the newest when version is None)."""
    query = select(PolicyVersion).where(PolicyVersion.client_id == template_id)
    if version is not None:
        query = query.where(PolicyVersion.version == version)
    return session.exec(query.order_by(PolicyVersion.version.desc())).first()  # type: ignore[union-attr]


def status(session: Session, client: Client, answers: dict[str, Any]) -> TemplateStatus | None:
    """How the client's current answers relate to its template, or None if it has none."""
    if client.template_id is None or client.template_version is None:
        return None
    template = session.get(Client, client.template_id)
    base = template_answers(session, client.template_id, client.template_version)
    latest = template_answers(session, client.template_id)
    if template is None or base is None or latest is None:
        return None
    base_shared = shared_answers(base.answers)
    follows = tuple(q for q in base_shared if answers.get(q) == base_shared[q])
    overrides = tuple(q for q in base_shared if q not in follows)
    changed = _changed(base_shared, shared_answers(latest.answers))
    pending = tuple(q for q in changed if _follows(q, answers, base_shared))
    return TemplateStatus(template.name, base.version, latest.version, follows, overrides, pending)


def synced(answers: dict[str, Any], base: dict[str, Any], latest: dict[str, Any]) -> dict[str, Any]:
    """The client's answers with the template's changes taken where they follow it; overrides kept."""
    base, latest = shared_answers(base), shared_answers(latest)
    merged = dict(answers)
    for qid in _changed(base, latest):
        if not _follows(qid, answers, base):
            continue
        if qid in latest:
            merged[qid] = latest[qid]
        else:
            merged.pop(qid, None)
    return merged


def _changed(base: dict[str, Any], latest: dict[str, Any]) -> list[str]:
    return [qid for qid in {**base, **latest} if base.get(qid) != latest.get(qid)]


def _follows(qid: str, answers: dict[str, Any], base: dict[str, Any]) -> bool:
    return answers.get(qid) == base.get(qid)
