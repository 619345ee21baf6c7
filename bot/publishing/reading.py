"""Reading published SOPs: show, list, history, diff, export, and the App Home's content."""

from __future__ import annotations

import re
from typing import Any

from sqlmodel import Session, col, func, select

from bot.kernel.actor import Actor
from bot.kernel.clients import file_stem
from bot.kernel.clock import Clock
from bot.kernel.lookup import ClientMatch, resolve_client
from bot.kernel.questions import load_bank
from bot.kernel.versions import latest_version
from bot.kernel.views import ExportFile, HomeView, Notice, SectionLink, ShowView, TableView
from bot.policy.answers import describe
from bot.policy.compliance import check as check_policy
from bot.policy.model import Policy
from bot.publishing.publisher import Publisher
from bot.sop.document import SECTIONS, local_formatter, to_html, to_markdown
from bot.sop.section_lookup import find_section
from storage.db import Database
from storage.models import Answer, Client, Draft, PolicyVersion

LIST_LIMIT = 40
_VERSION = re.compile(r"^v?(\d{1,6})$")


class Reader:
    """Everything that reads policies and changes nothing."""

    def __init__(self, db: Database, clock: Clock, publisher: Publisher) -> None:
        self.db = db
        self.clock = clock
        self.publisher = publisher

    def show(self, text: str, format_name: str = "mrkdwn") -> ShowView | Notice:
        """`show <client> [words]`: the overview with its sections, or the one section the words name."""
        with self.db.read() as session:
            found = self._published(session, text)
            if isinstance(found, Notice):
                return found
            match, row = found
            overview = self.publisher.overview(session, match.client, row, self.clock.now())
            links = tuple(SectionLink(s.id, s.title) for s in SECTIONS)
            if not match.rest:
                return ShowView(overview, links)
            spec = find_section(match.rest)
            if spec is None:
                return Notice(
                    f"I couldn't find a section about '{match.rest}' in {match.client.name}'s SOP. "
                    f"Try one of: reboot, windows, failed patches, oob, exceptions, sla."
                )
            document = self.publisher.document(session, match.client, row, format_name)
            section = document.section(spec.id)
            return ShowView(overview, links, SectionLink(spec.id, spec.title), section.body)

    def section(self, client_id: int, section_id: str, format_name: str = "mrkdwn") -> ShowView | Notice:
        """One section of a client's current SOP (from a section button)."""
        with self.db.read() as session:
            client = session.get(Client, client_id)
            row = latest_version(session, client_id) if client else None
            if client is None or row is None:
                return Notice("That SOP is no longer published.")
            overview = self.publisher.overview(session, client, row, self.clock.now())
            links = tuple(SectionLink(s.id, s.title) for s in SECTIONS)
            if not section_id:
                return ShowView(overview, links)
            spec = next((s for s in SECTIONS if s.id == section_id), None)
            if spec is None:
                return Notice("I don't know that section.")
            body = self.publisher.document(session, client, row, format_name).section(spec.id).body
            return ShowView(overview, links, SectionLink(spec.id, spec.title), body)

    def current_answers(self, client_id: int) -> dict[str, Any] | None:
        """The answers of the client's current published version."""
        with self.db.read() as session:
            row = latest_version(session, client_id)
            return dict(row.answers) if row else None

    def clients(self, limit: int = LIST_LIMIT) -> TableView:
        """`list`: every client with status, owner, last publish date and next window."""
        now = self.clock.now()
        with self.db.read() as session:
            total = session.exec(select(func.count()).select_from(Client)).one()
            clients = session.exec(select(Client).order_by(col(Client.key)).limit(limit)).all()
            rows = [self._client_row(session, client, now) for client in clients]
        footer = f"Showing {len(rows)} of {total} clients." if total > len(rows) else None
        return TableView("Clients", ("Client", "Status", "Owner", "Last published", "Next window"), tuple(rows), footer)

    def check(self, text: str) -> TableView | Notice:
        """`check <client>`: the verdicts for the published policy, or for the newest draft if none."""
        with self.db.read() as session:
            match = resolve_client(session, text)
            if match.client is None:
                return Notice(match.problem or "", "error")
            row = latest_version(session, match.client.id)
            draft = session.exec(
                select(Draft).where(Draft.client_id == match.client.id).order_by(col(Draft.updated_at).desc())
            ).first()
        if row is not None:
            answers, what = dict(row.answers), f"v{row.version}"
        elif draft is not None:
            answers, what = self.publisher.questionnaire.answers(draft.id), "the draft"
        else:
            return Notice(f"{match.client.name} has no policy to check yet.")
        policy = Policy(answers)
        verdicts = check_policy(policy, self.clock.now())
        if not verdicts:
            return Notice(f"{match.client.name}'s policy names no framework to check against.")
        rows = tuple((v.label, v.summary()) for v in verdicts)
        failed = sum(not v.passed for v in verdicts if v.binding)
        footer = (
            f"{failed} framework(s) breached."
            if failed
            else ("Every framework passes." if policy.frameworks else "The policy names no framework to check against.")
        )
        return TableView(f"{match.client.name} ({what}): compliance check", ("Framework", "Verdict"), rows, footer)

    def history(self, text: str) -> TableView | Notice:
        with self.db.read() as session:
            match = resolve_client(session, text)
            if match.client is None:
                return Notice(match.problem or "", "error")
            versions = session.exec(
                select(PolicyVersion)
                .where(PolicyVersion.client_id == match.client.id)
                .order_by(col(PolicyVersion.version).desc())
            ).all()
            if not versions:
                return Notice(f"{match.client.name} has no published versions yet.")
            local = local_formatter(Policy(versions[0].answers).timezone)
            rows = tuple(
                (
                    f"v{v.version}",
                    local(v.published_at, "%d %b %Y %H:%M %Z"),
                    v.published_by_name,
                    "posted" if v.fully_posted else ("posted in part" if v.posted_at else "not posted yet"),
                )
                for v in versions
            )
            return TableView(f"{match.client.name}: versions", ("Version", "Published", "By", "Posted"), rows)

    def diff(self, text: str) -> TableView | Notice:
        """`diff <client> [vA vB]`: what changed between two versions (default: the last two), answer by answer."""
        with self.db.read() as session:
            match = resolve_client(session, text)
            if match.client is None:
                return Notice(match.problem or "", "error")
            wanted = match.rest.split()
            numbers = [int(m.group(1)) for w in wanted if (m := _VERSION.match(w))]
            if len(numbers) != len(wanted) or len(numbers) not in {0, 2}:
                return Notice("Name two versions, e.g. `/patchpolicy diff acme v1 v3`, or none for the last two.")
            versions = {
                v.version: v
                for v in session.exec(select(PolicyVersion).where(PolicyVersion.client_id == match.client.id)).all()
            }
            if not numbers:
                numbers = sorted(versions)[-2:]
            if len(numbers) < 2 or any(n not in versions for n in numbers):
                have = ", ".join(f"v{n}" for n in sorted(versions)) or "none"
                return Notice(f"{match.client.name} needs two published versions to compare (it has: {have}).")
            old, new = versions[numbers[0]], versions[numbers[1]]
            rows = tuple(answer_changes(old.answers, new.answers))
            title = f"{match.client.name}: v{old.version} → v{new.version}"
            footer = None if rows else "No answers changed."
            return TableView(title, ("Question", f"v{old.version}", f"v{new.version}"), rows, footer)

    def export(self, text: str, format_name: str) -> ExportFile | Notice:
        with self.db.read() as session:
            found = self._published(session, text)
            if isinstance(found, Notice):
                return found
            match, row = found
            client = match.client
            document = self.publisher.document(session, client, row, "md")
        base = f"{file_stem(client.name, client.id)}-patch-sop-v{row.version}"
        if format_name == "html":
            return ExportFile(f"{base}.html", document.title, to_html(document))
        return ExportFile(f"{base}.md", document.title, to_markdown(document))

    def home(self, actor: Actor) -> HomeView:
        with self.db.read() as session:
            drafts = session.exec(
                select(Draft, Client)
                .join(Client, col(Client.id) == col(Draft.client_id))
                .where(Draft.owner_id == actor.id, Draft.status == "open")
                .order_by(col(Draft.updated_at).desc())
            ).all()
            open_drafts = []
            for draft, client in drafts[:15]:
                answered = session.exec(select(func.count()).where(Answer.draft_id == draft.id)).one()
                state = "paused" if draft.paused else ("at the summary" if draft.mode == "summary" else "in progress")
                open_drafts.append((draft.id, draft.seq, client.name, f"{answered} answers, {state}"))
            ids = tuple(session.exec(select(Client.id).order_by(col(Client.key)).limit(25)).all())
        return HomeView(tuple(open_drafts), self.clients(limit=25), ids)

    def _client_row(self, session: Session, client: Client, now: Any) -> tuple[str, ...]:
        draft = session.exec(select(Draft).where(Draft.client_id == client.id, Draft.status == "open")).first()
        row = latest_version(session, client.id)
        parts = []
        if row is not None:
            parts.append(f"published v{row.version}")
        if draft is not None:
            parts.append(f"draft by {_owner_name(draft)}")
        elif session.exec(select(Draft).where(Draft.client_id == client.id, Draft.status == "complete")).first():
            parts.append("finished, not published")
        if client.kind == "template":
            parts.insert(0, "MSP template")
        elif client.template_id is not None:
            template = session.get(Client, client.template_id)
            parts.append(f"on template {template.name} v{client.template_version}" if template else "")
        status = ", ".join(p for p in parts if p) or "no policy"
        if row is None:
            return (client.name, status, "", "", "")
        policy = Policy(row.answers)
        if client.kind == "template":
            return (client.name, status, policy.owner, local_formatter("UTC")(row.published_at, "%d %b %Y"), "")
        local = local_formatter(policy.timezone)
        upcoming = policy.next_windows(now, per_group=1)
        next_window = f"{upcoming[0].group}: {local(upcoming[0].start)}" if upcoming else "none"
        return (client.name, status, policy.owner, local(row.published_at, "%d %b %Y"), next_window)

    @staticmethod
    def _published(session: Session, text: str) -> tuple[ClientMatch, PolicyVersion] | Notice:
        """The client the words name (with the words after its name) and its current version, or a notice."""
        match = resolve_client(session, text)
        if match.client is None:
            return Notice(match.problem or "", "error")
        row = latest_version(session, match.client.id)
        if row is None:
            return Notice(f"{match.client.name} has no published SOP yet.")
        return match, row


def answer_changes(old: dict[str, Any], new: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(question prompt, old answer, new answer) for every answer that differs, in questionnaire order."""
    bank = load_bank()
    questions = {q.id: q for q in bank.expand(old) + bank.expand(new)}
    order = {q.id: q.order for q in questions.values()}
    changed = sorted((k for k in set(old) | set(new) if old.get(k) != new.get(k)), key=lambda k: order.get(k, (99,)))
    rows = []
    for key in changed:
        question = questions.get(key)
        if question is None:
            continue
        before = describe(question, old[key]) if key in old else "(not asked)"
        after = describe(question, new[key]) if key in new else "(not asked)"
        rows.append((question.prompt, before, after))
    return rows


def _owner_name(draft: Draft) -> str:
    user = (draft.context.get("user") or [{}])[0]
    return f"@{user.get('name') or draft.owner_id}"
