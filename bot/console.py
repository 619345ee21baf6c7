"""The local console: the same conversation as in Slack, in a terminal, on the same core."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TextIO

from bot.commands import parse_command, run
from bot.core import Core, split_from
from bot.exceptions.service import ExceptionForm
from bot.kernel.actor import Actor
from bot.kernel.directory import LocalDirectory
from bot.kernel.questions import slug
from bot.kernel.views import (
    ExportFile,
    Notice,
    Outcome,
    PublishOffer,
    QuestionView,
    ResumeOffer,
    ShowView,
    SummaryView,
    TableView,
)
from bot.oob.views import ReviewView
from bot.patchdata.status import ClientStatus, status_text

_MARKS = {"info": "", "success": "✓ ", "warning": "! ", "error": "✗ "}
BANNER = (
    "PatchPolicy console: the bot without Slack, on the local database.\n"
    "Type /patchpolicy new <client> to start, /patchpolicy help for commands, quit to leave."
)


class Console:
    """Reads lines, runs them through the core, prints what the core says."""

    def __init__(self, core: Core, actor: Actor, out: TextIO | None = None) -> None:
        self.core = core
        self.actor = actor
        self.out = out or sys.stdout
        self.offer: ResumeOffer | None = None

    def run(self, lines: TextIO = sys.stdin) -> None:
        """Loop until EOF or `quit`; works the same with a TTY or piped input."""
        self.say(BANNER)
        for raw in lines:
            line = raw.rstrip("\n")
            if line.strip().casefold() in {"quit", "exit"}:
                break
            self.handle(line)
        self.say("Bye. Your answers are saved.")

    def handle(self, line: str) -> None:
        words = " ".join(line.split()).casefold()
        if words.startswith("/"):
            cmd = parse_command(line)
            context = {}
            if cmd.name == "new" and cmd.args:  # suggest a channel named after the client
                context["channel"] = LocalDirectory().channel(f"#{slug(split_from(cmd.args)[0])[:60]}-patching")
            self.show(run(self.core, self.actor, cmd, context, fmt="md"))
        elif self.offer is not None and words in {"resume", "start over"}:
            offer, self.offer = self.offer, None
            qn = self.core.questionnaire
            if words == "resume":
                self.show(qn.act(self.actor, offer.draft_id, offer.seq, "resume"))
            else:
                self.show(qn.start_over(self.actor, offer.draft_id, offer.seq))
        else:
            self.show(self.core.questionnaire.text(self.actor, line))

    def show(self, outcome: Outcome) -> None:
        if outcome.closed is not None:
            self.say(f"  → {outcome.closed.outcome}")
        if outcome.published is not None:
            published = outcome.published
            self.say(published.markdown)
            self.core.publisher.mark_posted(published.version_id, "console", "console", None, whole=True)
            self.say(f"✓ Published {published.overview.client_name}'s SOP v{published.overview.version}.")
        for review in outcome.attached(ReviewView):
            self.say(
                f"Out-of-band review for {review.client_name}: {review.title} ({review.severity.title()}). "
                f"Triage by {review.triage_due_local}; deploy by {review.deploy_due_local}."
            )
        for status in outcome.attached(ClientStatus):
            self.say(status_text(status, "md"))
        if outcome.attached(ExceptionForm):
            self.say("Exceptions are recorded with the form in Slack: `/patchpolicy exception <client>` there.")
        for reply in outcome.replies:
            if isinstance(reply, Notice):
                link = f" {reply.link[1]}: {reply.link[0]}" if reply.link else ""
                self.say(f"{_MARKS.get(reply.tone, '')}{reply.text}{link}")
            elif isinstance(reply, PublishOffer):
                self.say(f"Publish it with `/patchpolicy publish {reply.client_name}`.")
            elif isinstance(reply, ShowView):
                self.say(render_show(reply))
            elif isinstance(reply, TableView):
                self.say(render_table(reply))
            elif isinstance(reply, ExportFile):
                self.say(write_export(Path.cwd() / reply.filename, reply.content))
            elif isinstance(reply, QuestionView):
                self.say(render_question(reply))
            elif isinstance(reply, SummaryView):
                self.say(render_summary(reply))
            elif isinstance(reply, ResumeOffer):
                self.offer = reply if reply.is_owner else None
                self.say(render_offer(reply))

    def say(self, text: str) -> None:
        print(text, file=self.out, flush=True)


def render_question(view: QuestionView) -> str:
    q = view.question
    lines = []
    if view.error:
        lines.append(f"✗ {view.error}")
    lines.append(f"\n[{view.client_name} · {view.section_title} - {view.position} of {view.total}]")
    lines.append(q.prompt)
    if q.hint:
        lines.append(f"  ({q.hint})")
    if view.current_label is not None:
        lines.append(f"  Current answer: {view.current_label}")
    if q.type == "yesno":
        lines.append("  yes / no")
    for index, choice in enumerate(q.choices, start=1):
        lines.append(f"  {index}) {choice.label}")
    if q.type == "multi":
        lines.append("  (pick several: e.g. 1,3)")
    if view.recommended_label is not None:
        lines.append(f"  [Enter] use recommended: {view.recommended_label}")
    nav = ["back"] if not view.first else []
    nav += ["summary"] if view.editing else ["skip", "pause", "rest (recommended for the rest of this section)"]
    lines.append("  or type: " + " · ".join(nav))
    return "\n".join(lines)


def render_summary(view: SummaryView) -> str:
    title = "Final answers" if view.finished else "Summary"
    lines = [f"\n== {view.client_name}: {title} =="]
    for section in view.sections:
        lines.append(f"-- {section.title}")
        lines += [f"  {item.number}. {item.prompt}\n     {item.label}" for item in section.items]
    if view.compliance and not view.finished:
        lines += ["-- Compliance check", *[f"  {line}" for line in view.compliance]]
    if not view.finished:
        if view.missing:
            lines.append(f"Still to answer: {', '.join(str(item.number) for item in view.missing)}")
        lines.append("Type `edit <number>` to change an answer, or `finish`.")
    return "\n".join(lines)


def render_show(view: ShowView) -> str:
    o = view.overview
    lines = [f"\n# {o.client_name}: patch management SOP v{o.version}"]
    if view.section is not None:
        return "\n".join([*lines, f"## {view.section.title}", view.body or ""])
    lines += [
        f"Owner: {o.owner} · Approver: {o.approver} · Effective: {o.effective} · Next review: {o.next_review}",
        "Next patch windows:",
        *[f"  - {w.group}: {w.local}" for w in o.windows],
        "Deadlines:",
        *[f"  - {t[0]}: {t[2]}" for t in o.tiers],
        "Sections: " + ", ".join(s.title for s in view.sections),
        f"Show one with `/patchpolicy show {o.client_name} <words>`, e.g. reboot, windows, oob.",
    ]
    return "\n".join(lines)


def render_table(view: TableView) -> str:
    lines = [f"\n== {view.title} ==", " | ".join(view.headers)]
    lines += [" | ".join(row) for row in view.rows]
    if view.footer:
        lines.append(view.footer)
    return "\n".join(lines)


def render_offer(offer: ResumeOffer) -> str:
    if not offer.is_owner:
        return f"{offer.client_name} already has an open draft, started by {offer.owner_id}."
    return (
        f"{offer.client_name} already has an open draft (question {offer.position} of {offer.total}). "
        "Type `resume` to continue it, or `start over`."
    )


def write_export(target: Path, content: str) -> str:
    """Write an exported file, never through a link planted at its name; what happened, in words."""
    try:
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0), 0o644)
    except OSError as err:
        return f"✗ Can't write {target}: {err.strerror}. Nothing was written."
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(content)
    return f"✓ Wrote {target}"
