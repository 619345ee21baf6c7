"""The command registry: every subcommand declared once, and everything about commands derived from it."""

from __future__ import annotations

from pathlib import Path

from bot.commands import BY_NAME, HELP, Ack, ack_of, help_text, needs_editor, parse_command, readme_table

README = Path(__file__).resolve().parent.parent / "README.md"


def test_the_readme_command_table_is_the_registrys():
    assert readme_table() in README.read_text(encoding="utf-8"), (
        "README's command table differs: paste `python -c 'from bot.commands import readme_table; "
        "print(readme_table())'` into it"
    )


def test_help_lists_every_usage_and_names_an_unknown_subcommand():
    text = help_text("frobnicate")
    assert text.startswith("I don't know `frobnicate`.")
    assert all(f"`/patchpolicy {usage}`" in text for usage, _ in HELP)
    assert {usage.split()[0] for usage, _ in HELP} == set(BY_NAME)


def test_who_may_run_what_and_how_it_is_acknowledged_follow_the_arguments():
    cases = {
        "template new House": (True, Ack.DM),
        "template list": (False, Ack.READ),
        "oob": (True, Ack.FORM),
        "oob list": (False, Ack.READ),
        "oob acme CVE-2026-1 high": (True, Ack.REVIEWS),
        "windows acme ics": (False, Ack.FILE),
        "windows acme": (False, Ack.READ),
        "show acme reboot": (False, Ack.READ),
        "publish acme": (True, Ack.PUBLISH),
        "exception acme": (True, Ack.FORM),
        "audit acme": (False, Ack.FILE),
    }
    for text, expected in cases.items():
        cmd = parse_command(text)
        assert (needs_editor(cmd), ack_of(cmd)) == expected, text


def test_parsing_trims_and_unknown_words_become_help():
    assert parse_command("/patchpolicy   show   Acme Corp ") == parse_command("show Acme Corp")
    assert parse_command("show Acme Corp").args == "Acme Corp"
    assert parse_command("frobnicate x").unknown == "frobnicate"
    assert parse_command("").name == "help"
