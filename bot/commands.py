"""The `/patchpolicy` subcommands, each declared once: its usage and help line, who may run it, how an adapter
acknowledges it, and the core function that answers it. Parsing, help, authorization, the Slack ack, the
console and the README's command table all come from `SUBCOMMANDS`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from bot.core import Core, split_from
from bot.feeds.status import feeds_table
from bot.kernel.actor import Actor
from bot.kernel.views import Notice, Outcome, TableView

MAX_ARGS = 200


class Ack(StrEnum):
    """How an adapter acknowledges a subcommand before its work is done (Slack: within 3 seconds)."""

    READ = "read"  # at once; the answer follows (Slack: through the response_url)
    DM = "dm"  # "I've sent you a DM": the conversation goes on there
    PUBLISH = "publish"  # "Publishing…", then the post in the client's channel
    REVIEWS = "reviews"  # "Opening the out-of-band review…", then each client's checklist
    FILE = "file"  # "Preparing the file…", then the file in the DM
    REPORT = "report"  # "Preparing the report…", then the report and its file
    FORM = "form"  # a form opens at once (or the reason it can't)


@dataclass(frozen=True)
class Command:
    """A parsed command. `unknown` holds a subcommand that was not understood."""

    name: str
    args: str = ""
    unknown: str | None = None


Run = Callable[[Core, Actor, Command, dict[str, Any], str], Outcome]


@dataclass(frozen=True)
class Subcommand:
    """One `/patchpolicy` subcommand."""

    name: str
    usages: tuple[tuple[str, str], ...]  # (usage, help line)
    run: Run
    editor: Callable[[str], bool] = field(default=lambda _args: False)  # whether these arguments change policies
    ack: Callable[[str], Ack] = field(default=lambda _args: Ack.READ)
    refused_as: str = "change"  # "Only PatchPolicy editors can <this> policies."


def _always(_args: str) -> bool:
    return True


def _one(reply: Callable[[Core, Command, str], Any]) -> Run:
    """A subcommand whose answer is one reply from a core service."""
    return lambda core, _actor, cmd, _context, fmt: Outcome([reply(core, cmd, fmt)])


def _new(core: Core, actor: Actor, cmd: Command, context: dict[str, Any], _fmt: str) -> Outcome:
    client_name, source = split_from(cmd.args)
    if source:
        return core.standards.new_from(actor, client_name, source, context)
    return core.questionnaire.start(actor, cmd.args, context)


def _schedule_change(core: Core, _actor: Actor, cmd: Command, _context: dict[str, Any], _fmt: str) -> Outcome:
    result = getattr(core.schedule, cmd.name)(cmd.args)
    core.plan_changed()
    return Outcome([result])


def _oob(core: Core, actor: Actor, cmd: Command, _context: dict[str, Any], _fmt: str) -> Outcome:
    if cmd.args.casefold() == "list":
        return Outcome([core.reviews.open_list()])
    views, notices = core.reviews.open(actor, cmd.args)
    if views:
        core.plan_changed()
    return Outcome(list(notices), attachments=list(views))


def _report(core: Core, _actor: Actor, cmd: Command, _context: dict[str, Any], fmt: str) -> Outcome:
    report = core.reports.for_command(cmd.args)
    if isinstance(report, str):
        return Outcome([Notice(report, "error")])
    return Outcome([Notice(report.mrkdwn if fmt == "mrkdwn" else report.markdown)], attachments=[report])


def _status(core: Core, _actor: Actor, cmd: Command, _context: dict[str, Any], _fmt: str) -> Outcome:
    found = core.device_data.status(cmd.args)
    return Outcome([found]) if isinstance(found, Notice | TableView) else Outcome(attachments=[found])


def _exception(core: Core, _actor: Actor, cmd: Command, _context: dict[str, Any], _fmt: str) -> Outcome:
    found = core.exceptions.form(cmd.args)
    return Outcome([found]) if isinstance(found, Notice) else Outcome(attachments=[found])


IMPORT_NOTE = (
    "Share the policy file (.yaml) with me in a DM and I'll load it into a draft; "
    "on the command line, `patchpolicy import <file>` does the same."
)

SUBCOMMANDS: tuple[Subcommand, ...] = (
    Subcommand(
        "new",
        (
            ("new <client>", "Write a client's patch policy, one question at a time, in a DM."),
            (
                "new <client> from <template|client>",
                "Start from a template (or another client's policy): only the client-specific questions are asked.",
            ),
        ),
        _new,
        _always,
        lambda _args: Ack.DM,
    ),
    Subcommand(
        "template",
        (
            ("template new <name>", "Write your MSP's standard policy, versioned and published like a client's."),
            ("template list", "The templates, and the client policies built on each."),
        ),
        lambda core, actor, cmd, context, _fmt: core.standards.template(actor, cmd.args, context),
        lambda args: args.casefold().startswith("new"),
        lambda args: Ack.DM if args.casefold().startswith("new") else Ack.READ,
    ),
    Subcommand(
        "sync",
        (("sync <client>", "Take the template's newer answers the client follows (its own answers are kept)."),),
        lambda core, actor, cmd, context, _fmt: core.standards.sync(actor, cmd.args, context),
        _always,
        lambda _args: Ack.DM,
    ),
    Subcommand(
        "resume",
        (("resume [client]", "Continue your policy draft where you left off."),),
        lambda core, actor, cmd, _context, _fmt: core.questionnaire.resume(actor, cmd.args or None),
        _always,
        lambda _args: Ack.DM,
    ),
    Subcommand(
        "publish",
        (("publish <client>", "Publish the finished policy as the next version, in the client's channel."),),
        lambda core, actor, cmd, _context, _fmt: core.publish(actor, client_name=cmd.args),
        _always,
        lambda _args: Ack.PUBLISH,
        refused_as="publish",
    ),
    Subcommand(
        "show",
        (("show <client> [section]", "The current SOP, or one section: e.g. `show acme reboot`."),),
        _one(lambda core, cmd, fmt: core.reader.show(cmd.args, fmt)),
    ),
    Subcommand(
        "list",
        (("list", "Every client with its status, owner and next patch window."),),
        _one(lambda core, _cmd, _fmt: core.reader.clients()),
    ),
    Subcommand(
        "edit",
        (("edit <client>", "Change the published policy: a new draft, straight to the summary."),),
        lambda core, actor, cmd, context, _fmt: core.edit(actor, cmd.args, context),
        _always,
        lambda _args: Ack.DM,
        refused_as="edit",
    ),
    Subcommand(
        "check",
        (("check <client>", "The compliance check: each chosen framework, pass or each gap with what to change."),),
        _one(lambda core, cmd, _fmt: core.reader.check(cmd.args)),
    ),
    Subcommand(
        "history",
        (("history <client>", "The published versions, with who published them and when."),),
        _one(lambda core, cmd, _fmt: core.reader.history(cmd.args)),
    ),
    Subcommand(
        "diff",
        (("diff <client> [vA vB]", "What changed between two versions, answer by answer."),),
        _one(lambda core, cmd, _fmt: core.reader.diff(cmd.args)),
    ),
    Subcommand(
        "export",
        (
            (
                "export <client> [md|html|yaml]",
                "The SOP as Markdown or printable HTML, or the answers as a policy file.",
            ),
        ),
        _one(lambda core, cmd, _fmt: core.export(cmd.args)),
        ack=lambda _args: Ack.FILE,
    ),
    Subcommand(
        "import",
        (("import", "Load a policy file: share the .yaml file with me in a DM."),),
        _one(lambda _core, _cmd, _fmt: Notice(IMPORT_NOTE)),
        _always,
    ),
    Subcommand(
        "windows",
        (
            (
                "windows [client] [ics]",
                "The next patch windows: every client's for 7 days, or one client's (ics: a calendar file).",
            ),
        ),
        _one(lambda core, cmd, _fmt: core.schedule.windows(cmd.args)),
        ack=lambda args: Ack.FILE if args.split()[-1:] == ["ics"] else Ack.READ,
    ),
    Subcommand(
        "oob",
        (
            (
                "oob <client|all> <title or CVE> [severity]",
                "Open an out-of-band review: the SOP's procedure as a checklist with deadlines, reminded until closed.",
            ),
            ("oob list", "Open out-of-band reviews across all clients, overdue first."),
        ),
        _oob,
        lambda args: args.casefold() != "list",
        lambda args: Ack.FORM if not args.strip() else Ack.READ if args.casefold() == "list" else Ack.REVIEWS,
    ),
    Subcommand(
        "exception",
        (("exception <client>", "Record an exception: what is not patched, why, the controls, approver and expiry."),),
        _exception,
        _always,
        lambda _args: Ack.FORM,
    ),
    Subcommand(
        "exceptions",
        (("exceptions [client]", "The exceptions, soonest to expire first."),),
        _one(lambda core, cmd, _fmt: core.exceptions.listing(cmd.args)),
    ),
    Subcommand(
        "report",
        (("report <client> [month]", "The month's report (default: last month): windows, deadlines met, charts."),),
        _report,
        ack=lambda _args: Ack.REPORT,
    ),
    Subcommand(
        "status",
        (
            (
                "status [client]",
                "From the RMM's data: devices fully patched, updates installed by their deadline, the most overdue.",
            ),
        ),
        _status,
    ),
    Subcommand(
        "audit",
        (("audit <client>", "The audit pack, print-ready: compliance, versions, exceptions, 12 reports, the SOP."),),
        _one(lambda core, cmd, _fmt: core.audit.pack(cmd.args)),
        ack=lambda _args: Ack.FILE,
    ),
    Subcommand(
        "share",
        (("share <client> [days|revoke]", "A read-only link for the client: SOP, latest report, window calendar."),),
        lambda core, actor, cmd, _context, _fmt: Outcome([core.sharing.command(actor, cmd.args)]),
        _always,
        refused_as="share",
    ),
    Subcommand(
        "pause",
        (("pause <client> [until YYYY-MM-DD]", "Stop a client's window reminders for a while."),),
        _schedule_change,
        _always,
    ),
    Subcommand("unpause", (("unpause <client>", "Turn a client's reminders back on."),), _schedule_change, _always),
    Subcommand(
        "archive",
        (("archive <client>", "Stop a client's reminders for good (its SOP versions are kept)."),),
        _schedule_change,
        _always,
    ),
    Subcommand(
        "feeds",
        (("feeds", "The threat feeds (CISA KEV, Patch Tuesday): when each was last read, what it found, any error."),),
        _one(lambda core, _cmd, _fmt: feeds_table(core.feeds)),
    ),
    Subcommand("help", (("help", "Show this list."),), _one(lambda _core, _cmd, _fmt: Notice(help_text()))),
)
BY_NAME = {spec.name: spec for spec in SUBCOMMANDS}
HELP = tuple(usage for spec in SUBCOMMANDS for usage in spec.usages)


def parse_command(text: str) -> Command:
    """'/patchpolicy new Acme Corp' text -> Command('new', 'Acme Corp'); anything odd -> help."""
    text = " ".join((text or "").split())
    if text.casefold().startswith("/patchpolicy"):
        text = text[len("/patchpolicy") :].strip()
    if not text:
        return Command("help")
    word, _, rest = text.partition(" ")
    name = word.casefold()
    if name not in BY_NAME:
        return Command("help", unknown=word[:40])
    return Command(name, rest.strip()[:MAX_ARGS])


def needs_editor(cmd: Command) -> bool:
    """Whether the command changes policies (reading is for everyone)."""
    return BY_NAME[cmd.name].editor(cmd.args)


def ack_of(cmd: Command) -> Ack:
    return BY_NAME[cmd.name].ack(cmd.args)


def refusal_word(cmd: Command) -> str:
    return BY_NAME[cmd.name].refused_as


def help_text(unknown: str | None = None) -> str:
    """The command list, with a word about the unknown subcommand if there was one."""
    lines = [f"I don't know `{unknown}`. Here is what I can do:" if unknown else "Here is what I can do:"]
    lines += [f"• `/patchpolicy {usage}`: {what}" for usage, what in HELP]
    return "\n".join(lines)


def run(
    core: Core, actor: Actor, command: Command | str, context: dict[str, Any] | None = None, fmt: str = "mrkdwn"
) -> Outcome:
    """Run one `/patchpolicy` command for `actor` (refused when it changes policies and they are no editor)."""
    cmd = parse_command(command) if isinstance(command, str) else command
    if cmd.unknown:
        return Outcome([Notice(help_text(cmd.unknown))])
    if needs_editor(cmd) and not actor.editor:
        return Outcome([core.refusal(refusal_word(cmd))])
    return BY_NAME[cmd.name].run(core, actor, cmd, context or {}, fmt)


def readme_table() -> str:
    """The README's command table (a test keeps the README equal to it)."""
    pipe = "\\|"  # a | inside a table cell, even in code
    rows = ["| `/patchpolicy " + usage.replace("|", pipe) + f"` | {what} |" for usage, what in HELP]
    return "\n".join(["| command | what it does |", "|---|---|", *rows])
