"""The feeds as a subject of the reminder ledger: a Patch Tuesday digest, a proposed review, a question to an
SOP owner; each built when it is due, from what is stored, so it says what is true when it goes out."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from bot.feeds.digest import build_digest
from bot.feeds.kev_actions import facts_of
from bot.feeds.views import KevProposal, KevQuestion, TuesdayDigest
from bot.kernel.versions import latest_version
from bot.oob.rules import deadlines
from bot.policy.model import Policy
from bot.sop.document import local_formatter
from storage.db import Database
from storage.feeds import FeedMatch, KevEntry, MsrcMonth
from storage.models import Client, Reminder

UNDECIDED = ("suggested", "proposed")


class FeedSubject:
    """The "feed" subject: kinds digest, propose and ask."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def skip_reason(self, row: Reminder, now: datetime) -> str | None:
        if now >= row.window_end:
            return "it is over a week late"
        if row.kind in {"propose", "ask"}:
            with self.db.read() as session:
                if not self._undecided(session, row):
                    return "someone already decided"
        return None

    def reminder(self, row: Reminder) -> TuesdayDigest | KevProposal | KevQuestion | None:
        with self.db.read() as session:
            client = session.get(Client, row.client_id)
            version = latest_version(session, row.client_id)
            if client is None or version is None:
                return None
            policy = Policy(version.answers)
            if row.kind == "digest":
                month = session.get(MsrcMonth, row.occurrence.split(":", 1)[1])
                if month is None or not client.channel_id:
                    return None
                return build_digest(session, row.id, month, client, policy)
            source = ":".join(row.occurrence.split(":")[:2])
            entry = session.get(KevEntry, source.split(":", 1)[1])
            if entry is None:
                return None
            pending = self._undecided(session, row)
            if not pending:  # decided since the dispatcher asked: nothing to post
                return None
            if row.kind == "propose":
                match = pending[0]
                deploy = deadlines(policy, "emergency", row.due_at)[1]
                local = local_formatter(policy.timezone)
                return KevProposal(
                    row.id,
                    source,
                    client.id,
                    client.name,
                    client.channel_id or "",
                    facts_of(entry),
                    match.detail,
                    local(deploy),
                )
            owner = row.occurrence.rsplit(":", 1)[1]
            names = {
                c.id: c.name
                for c in session.exec(select(Client).where(col(Client.id).in_([m.client_id for m in pending])))
            }
            clients = tuple((m.client_id, names.get(m.client_id, "?"), m.detail) for m in pending)
            return KevQuestion(row.id, source, owner, facts_of(entry), clients)

    def _undecided(self, session: Session, row: Reminder) -> list[FeedMatch]:
        """The matches this row is about that nobody has decided yet: the client's, or every client of the owner."""
        source = ":".join(row.occurrence.split(":")[:2])
        query = select(FeedMatch).where(FeedMatch.source == source, col(FeedMatch.status).in_(UNDECIDED))
        if row.kind == "propose":
            query = query.where(FeedMatch.client_id == row.client_id)
        matches = list(session.exec(query.order_by(FeedMatch.id)).all())
        if row.kind == "ask":
            owner = row.occurrence.rsplit(":", 1)[1]
            matches = [m for m in matches if _owner(session, m.client_id) == owner]
        return matches


def _owner(session: Session, client_id: int) -> str | None:
    version = latest_version(session, client_id)
    owners = Policy(version.answers).owner_ids if version else []
    return owners[0] if owners else None
