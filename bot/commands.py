"""The `/patchpolicy` command line: parsing it, and the help text."""

from __future__ import annotations

from dataclasses import dataclass

HELP = (
    ("new <client>", "Write a client's patch policy, one question at a time, in a DM."),
    ("resume [client]", "Continue your policy draft where you left off."),
    ("help", "Show this list."),
)
DM_COMMANDS = {"new", "resume"}
MAX_ARGS = 200


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
