"""The `/patchpolicy` command line: parsing it, and the help text."""

from __future__ import annotations

from dataclasses import dataclass

HELP = (
    ("new <client>", "Write a client's patch policy, one question at a time, in a DM."),
    (
        "new <client> from <template|client>",
        "Start from a template (or another client's policy): only the client-specific questions are asked.",
    ),
    ("template new <name>", "Write your MSP's standard policy, versioned and published like a client's."),
    ("template list", "The templates, and the client policies built on each."),
    ("sync <client>", "Take the template's newer answers the client follows (its own answers are kept)."),
    ("resume [client]", "Continue your policy draft where you left off."),
    ("publish <client>", "Publish the finished policy as the next version, in the client's channel."),
    ("show <client> [section]", "The current SOP, or one section: e.g. `show acme reboot`."),
    ("list", "Every client with its status, owner and next patch window."),
    ("edit <client>", "Change the published policy: a new draft, straight to the summary."),
    ("check <client>", "The compliance check: each chosen framework, pass or each gap with what to change."),
    ("history <client>", "The published versions, with who published them and when."),
    ("diff <client> [vA vB]", "What changed between two versions, answer by answer."),
    ("export <client> [md|html|yaml]", "The SOP as Markdown or printable HTML, or the answers as a policy file."),
    ("import", "Load a policy file: share the .yaml file with me in a DM."),
    (
        "windows [client] [ics]",
        "The next patch windows: every client's for 7 days, or one client's (ics: a calendar file).",
    ),
    (
        "oob <client|all> <title or CVE> [severity]",
        "Open an out-of-band review: the SOP's procedure as a checklist with deadlines, reminded until closed.",
    ),
    ("oob list", "Open out-of-band reviews across all clients, overdue first."),
    ("exception <client>", "Record an exception: what is not patched, why, the controls, approver and expiry."),
    ("exceptions [client]", "The exceptions, soonest to expire first."),
    (
        "report <client> [month]",
        "The month's report (default: last month): windows, check-ins, reviews, exceptions, deadlines met.",
    ),
    ("audit <client>", "The audit pack as one printable file: SOP, versions, reviews, 12 reports, exceptions."),
    ("pause <client> [until YYYY-MM-DD]", "Stop a client's window reminders for a while."),
    ("unpause <client>", "Turn a client's reminders back on."),
    ("archive <client>", "Stop a client's reminders for good (its SOP versions are kept)."),
    ("help", "Show this list."),
)
MAX_ARGS = 200
EDITOR_COMMANDS = {
    "new",
    "resume",
    "edit",
    "publish",
    "pause",
    "unpause",
    "archive",
    "template",
    "sync",
    "import",
    "oob",
    "exception",
}


def needs_editor(cmd: Command) -> bool:
    """Whether the command changes policies (reading is for everyone)."""
    if cmd.name == "template":
        return cmd.args.casefold().startswith("new")
    if cmd.name == "oob":
        return cmd.args.casefold() != "list"
    return cmd.name in EDITOR_COMMANDS


@dataclass(frozen=True)
class Command:
    """A parsed command. `unknown` holds a subcommand that was not understood."""

    name: str
    args: str = ""
    unknown: str | None = None


def parse_command(text: str) -> Command:
    """'/patchpolicy new Acme Corp' text -> Command('new', 'Acme Corp'); anything odd -> help."""
    text = " ".join((text or "").split())
    if text.casefold().startswith("/patchpolicy"):
        text = text[len("/patchpolicy") :].strip()
    if not text:
        return Command("help")
    word, _, rest = text.partition(" ")
    name = word.casefold()
    if name not in {usage.split()[0] for usage, _ in HELP}:
        return Command("help", unknown=word[:40])
    return Command(name, rest.strip()[:MAX_ARGS])


def help_text(unknown: str | None = None) -> str:
    """The command list, with a word about the unknown subcommand if there was one."""
    lines = [f"I don't know `{unknown}`. Here is what I can do:" if unknown else "Here is what I can do:"]
    lines += [f"• `/patchpolicy {usage}`: {what}" for usage, what in HELP]
    return "\n".join(lines)
