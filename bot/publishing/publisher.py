"""Publishing: a finished draft becomes an immutable, numbered version of the client's SOP."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bot.kernel.actor import Actor
from bot.kernel.clients import file_stem
from bot.kernel.clock import Clock
from bot.kernel.lookup import resolve_client
from bot.kernel.versions import latest_version
from bot.kernel.views import Notice, Overview, Published, WindowLine
from bot.policy import template_links
from bot.policy.version_facts import VersionFacts
from bot.questionnaire.engine import Questionnaire
from bot.scheduling.planning import plan_client
from bot.sop.document import Document, DocumentMeta, Revision, document_dates, local_formatter, render_sop, to_markdown
from bot.sop.exception_register import exception_register
from storage.db import Database
from storage.models import Client, Draft, PolicyVersion


class Publisher:
    """Stores versions and builds what is posted about them."""

    def __init__(self, db: Database, clock: Clock, questionnaire: Questionnaire) -> None:
        self.db = db
        self.clock = clock
        self.questionnaire = questionnaire
        self.facts = VersionFacts()

    def publish(self, actor: Actor, client_name: str | None = None, draft_id: int | None = None) -> Published | Notice:
        """Publish the client's finished draft as version N+1, or re-offer an unposted version for posting."""
        now = self.clock.now()
        with self.db.write() as session:
            client, draft = self._publishable(session, client_name, draft_id)
            if client is None:
                return Notice(self._not_found(session, client_name), "error")
            if draft is None and draft_id is not None:
                return Notice(f"{client.name}'s policy was already published; nothing more to do.")
            if draft is None:
                latest = latest_version(session, client.id)
                if latest is not None and not latest.fully_posted:  # a post that failed part way: finish it
                    return self._published(session, client, latest)
                if latest is not None:
                    return Notice(
                        f"{client.name}'s SOP v{latest.version} is already published and there is "
                        f"nothing new to publish. Use `/patchpolicy edit {client.name}` to change it."
                    )
                return Notice(
                    f"{client.name} has no finished policy to publish yet. Finish the questionnaire "
                    f"first (`/patchpolicy resume {client.name}`)."
                )
            answers = self.questionnaire.answers_in(session, draft)
            previous = latest_version(session, client.id)
            number = (previous.version if previous else 0) + 1
            row = PolicyVersion(
                client_id=client.id,
                version=number,
                draft_id=draft.id,
                answers=answers,
                markdown="",
                published_by=actor.id,
                published_by_name=actor.name,
                published_at=now,
                channel_id=client.channel_id,
            )
            session.add(row)
            try:
                session.flush()
            except IntegrityError:  # the same draft published at the same moment by a double click
                session.rollback()
                return Notice("That policy was just published; nothing more to do.")
            row.markdown = to_markdown(self.document(session, client, row, "md"))
            draft.status, draft.updated_at = "published", now
            client.published_version = number
            link = draft.context.get("template")
            if link:  # made from (or synced to) a template: its answers now follow that version
                client.template_id, client.template_version = link["id"], link["version"]
            if client.kind == "template":
                row.posted_at = row.thread_posted_at = row.file_posted_at = now  # no channel: stored is published
            session.add_all([row, draft, client])
            if client.kind == "client":
                plan_client(session, client, row, now)  # the new version's reminders replace the old ones at once
            return self._published(session, client, row)

    def mark_posted(
        self, version_id: int, channel_id: str, message_ts: str, permalink: str | None, whole: bool = False
    ) -> None:
        """Record where the version's overview was posted (`whole`: with all of it, as the console shows it);
        until its thread and file are recorded too, the version is offered for posting again, and that post
        finishes what is missing."""
        with self.db.write() as session:
            row = session.get(PolicyVersion, version_id)
            if row is not None and row.posted_at is None:
                row.channel_id, row.message_ts, row.permalink = channel_id, message_ts, permalink
                row.posted_at = self.clock.now()
                if whole:
                    row.thread_posted_at = row.file_posted_at = row.posted_at
                session.add(row)

    def mark_part_posted(self, version_id: int, part: str, permalink: str | None = None) -> None:
        """Record that the full text ('thread') or the file ('file') is in the overview's thread."""
        with self.db.write() as session:
            row = session.get(PolicyVersion, version_id)
            if row is None:
                return
            if part == "thread" and row.thread_posted_at is None:
                row.thread_posted_at = self.clock.now()
            elif part == "file" and row.file_posted_at is None:
                row.file_posted_at = self.clock.now()
            row.permalink = row.permalink or permalink
            session.add(row)

    def document(self, session: Session, client: Client, row: PolicyVersion, format_name: str) -> Document:
        """The SOP of one version, in one format, with its revision history up to that version."""
        history = session.exec(
            select(PolicyVersion)
            .where(PolicyVersion.client_id == client.id, PolicyVersion.version <= row.version)
            .order_by(col(PolicyVersion.version))
        ).all()
        policy, compliance = self.facts.of(client, row)
        meta = DocumentMeta(
            version=row.version,
            published_at=row.published_at,
            published_by=row.published_by_name,
            history=tuple(Revision(v.version, v.published_at, v.published_by_name) for v in history),
            compliance=compliance or (),
            exceptions=exception_register(session, client.id, policy.timezone, self.clock.now()),
        )
        return render_sop(policy, meta, self.clock.now(), format_name)

    def overview(self, session: Session, client: Client, row: PolicyVersion, now: datetime) -> Overview:
        """The compact face of a version: who, when, the next window of each group, the SLA table."""
        policy, compliance = self.facts.of(client, row)
        linked = template_links.status(session, client, row.answers)
        meta = DocumentMeta(version=row.version, published_at=row.published_at, published_by=row.published_by_name)
        effective, next_review = document_dates(policy, meta, now)
        local = local_formatter(policy.timezone)
        windows = tuple(WindowLine(o.group, o.start, o.end, local(o.start)) for o in policy.next_windows(now, 1))
        return Overview(
            client_id=client.id,
            client_name=policy.name,
            version=row.version,
            owner=policy.owner,
            approver=policy.label("client.approver"),
            effective=effective,
            next_review=next_review,
            published_by=row.published_by_name,
            windows=windows,
            tiers=tuple(tuple(t) for t in policy.tiers()),
            compliance=compliance,
            permalink=row.permalink,
            template_note=linked.describe(client.name) if linked else None,
            is_template=client.kind == "template",
        )

    def _published(self, session: Session, client: Client, row: PolicyVersion) -> Published:
        chat = self.document(session, client, row, "mrkdwn")
        return Published(
            version_id=row.id,
            overview=self.overview(session, client, row, self.clock.now()),
            channel_id=client.channel_id,
            channel_name=client.channel_name,
            document=tuple((s.title, s.body) for s in chat.sections),
            markdown=row.markdown,
            filename=f"{file_stem(client.name, client.id)}-patch-sop-v{row.version}.md",
            message_ts=row.message_ts if row.posted_at else None,
            thread_posted=row.thread_posted_at is not None,
            file_posted=row.file_posted_at is not None,
        )

    def _publishable(
        self, session: Session, client_name: str | None, draft_id: int | None
    ) -> tuple[Client | None, Draft | None]:
        if draft_id is not None:
            draft = session.exec(select(Draft).where(Draft.id == draft_id).with_for_update()).first()
            if draft is None:
                return None, None
            client = session.get(Client, draft.client_id)
            return client, draft if draft.status == "complete" else None
        match = resolve_client(session, client_name or "")
        if match.client is None:
            return None, None
        draft = session.exec(
            select(Draft)
            .where(Draft.client_id == match.client.id, Draft.status == "complete")
            .order_by(col(Draft.completed_at).desc())
        ).first()
        return match.client, draft

    @staticmethod
    def _not_found(session: Session, client_name: str | None) -> str:
        if not client_name:
            return "Which client? `/patchpolicy publish <client>`."
        return resolve_client(session, client_name).problem or ""
