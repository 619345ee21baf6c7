"""MSP standards: templates, client policies copied from a template or another client, syncs, policy files."""

from __future__ import annotations

from typing import Any

from sqlmodel import select

from bot.kernel.actor import Actor
from bot.kernel.clients import file_stem
from bot.kernel.directory import Directory
from bot.kernel.lookup import resolve_client
from bot.kernel.versions import latest_version
from bot.kernel.views import ExportFile, Notice, Outcome, TableView
from bot.policy import template_links
from bot.policy.policy_file import PolicyFileError, dump, load
from bot.publishing.reading import answer_changes
from bot.questionnaire.engine import Questionnaire
from storage.db import Database
from storage.models import Client

MAX_DIFF_LINES = 12


class Standards:
    """Everything that moves answers between policies: templates, copies, syncs, files."""

    def __init__(self, db: Database, questionnaire: Questionnaire, directory: Directory) -> None:
        self.db = db
        self.questionnaire = questionnaire
        self.directory = directory

    def template(self, actor: Actor, args: str, context: dict[str, Any]) -> Outcome:
        """`template new <name>` or `template list`."""
        word, _, rest = args.partition(" ")
        if word.casefold() == "new" and rest.strip():
            return self.questionnaire.start(actor, rest, context, kind="template")
        if word.casefold() == "list" or not args.strip():
            return Outcome([self.templates()])
        return Outcome([Notice("Use `/patchpolicy template new <name>` or `/patchpolicy template list`.", "error")])

    def templates(self) -> TableView | Notice:
        """Every template with its version and how many client policies are built on it."""
        with self.db.read() as session:
            rows = session.exec(select(Client).where(Client.kind == "template").order_by(Client.key)).all()
            if not rows:
                return Notice("No templates yet. `/patchpolicy template new <name>` writes your MSP standard.")
            table = []
            for template in rows:
                users = session.exec(select(Client.name).where(Client.template_id == template.id)).all()
                version = f"v{template.published_version}" if template.published_version else "not published"
                table.append((template.name, version, ", ".join(sorted(users)) or "none yet"))
        return TableView("Templates", ("Template", "Version", "Client policies built on it"), tuple(table))

    def new_from(self, actor: Actor, client_name: str, source_name: str, context: dict[str, Any]) -> Outcome:
        """`new <client> from <template or client>`: a draft pre-filled with the source's shared answers."""
        with self.db.read() as session:
            match = resolve_client(session, source_name)
            source = match.client
            if source is None or match.rest:
                problem = match.problem or f"I don't know a template or client called '{source_name}'."
                return Outcome([Notice(problem, "error")])
            row = latest_version(session, source.id)
            if row is None:
                return Outcome([Notice(f"{source.name} has no published version to copy yet.", "error")])
            answers = template_links.shared_answers(row.answers)
            link = {"id": source.id, "version": row.version} if source.kind == "template" else None
            label = f"template {source.name} v{row.version}" if link else f"{source.name}'s SOP v{row.version}"
        return self.questionnaire.start_prefilled(actor, client_name, context, answers, label, template=link)

    def sync(self, actor: Actor, client_name: str, context: dict[str, Any]) -> Outcome:
        """`sync <client>`: a draft with the template's newer answers where the client follows it."""
        with self.db.read() as session:
            match = resolve_client(session, client_name)
            client = match.client
            if client is None:
                return Outcome([Notice(match.problem or "", "error")])
            current = latest_version(session, client.id)
            if client.template_id is None or current is None:
                return Outcome(
                    [
                        Notice(
                            f"{client.name}'s published policy is not built on a template. "
                            f"`/patchpolicy new {client.name} from <template>` rebuilds it on one."
                        )
                    ]
                )
            linked = template_links.status(session, client, current.answers)
            base = template_links.template_answers(session, client.template_id, client.template_version)
            latest = template_links.template_answers(session, client.template_id)
            if linked is None or base is None or latest is None:
                return Outcome([Notice(f"{client.name}'s template has no published version.", "error")])
            if not linked.pending:
                return Outcome(
                    [Notice(f"{client.name} already has every answer of template {linked.template_name} it follows.")]
                )
            merged = template_links.synced(current.answers, base.answers, latest.answers)
            changes = answer_changes(current.answers, merged)
            client_id, template_id, name = client.id, client.template_id, client.name
        lines = [f"• {prompt}: {before} → {after}" for prompt, before, after in changes[:MAX_DIFF_LINES]]
        more = f"\n…and {len(changes) - MAX_DIFF_LINES} more." if len(changes) > MAX_DIFF_LINES else ""
        kept = len(linked.overrides)
        intro = (
            f"Template {linked.template_name} v{latest.version} changes {len(changes)} answer"
            f"{'s' if len(changes) != 1 else ''} {name} follows"
            f" (its {kept} own answer{'s' if kept != 1 else ''} kept):\n" + "\n".join(lines) + more + "\n"
            "Check the summary, then Finish and Publish to make the next version."
        )
        link = {"id": template_id, "version": latest.version}
        return self.questionnaire.start_from(actor, client_id, merged, {**context, "template": link}, intro)

    def dependents(self, template_id: int) -> list[str]:
        """For a template just published: each client built on it, with what the new version changes."""
        with self.db.read() as session:
            lines = []
            for client in session.exec(select(Client).where(Client.template_id == template_id)).all():
                current = latest_version(session, client.id)
                linked = template_links.status(session, client, current.answers) if current else None
                if linked is not None:
                    lines.append(linked.describe(client.name))
            return lines

    def export_yaml(self, client_name: str) -> ExportFile | Notice:
        """`export <client> yaml`: the published answers as a policy file."""
        with self.db.read() as session:
            match = resolve_client(session, client_name)
            client = match.client
            if client is None:
                return Notice(match.problem or "", "error")
            row = latest_version(session, client.id)
            if row is None:
                return Notice(f"{client.name} has no published policy to export yet.", "error")
            note = (
                f"{client.name}{' (template)' if client.kind == 'template' else ''}, SOP v{row.version}, "
                f"published {row.published_at:%Y-%m-%d} by {row.published_by_name}"
            )
            text = dump(client.name, client.kind, row.answers, note)
        return ExportFile(
            f"{file_stem(client.name, client.id)}-policy-v{row.version}.yaml", f"{client.name} policy file", text
        )

    def import_file(self, actor: Actor, text: str, context: dict[str, Any]) -> Outcome:
        """A policy file loaded into a draft; any error loads nothing."""
        try:
            loaded = load(text, self.directory)
        except PolicyFileError as err:
            listed = "\n".join(f"• {line}" for line in err.errors)
            return Outcome([Notice(f"I couldn't load that policy file; nothing was changed.\n{listed}", "error")])
        return self.questionnaire.start_prefilled(
            actor, loaded.name, context, loaded.answers, "the policy file", kind=loaded.kind
        )
