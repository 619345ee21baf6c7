"""Which client the words name: full names first, then an unambiguous start of a name or its slug."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.kernel.lookup import resolve_client
from storage.db import Database
from storage.models import Client
from tests.support.questionnaire import finish
from tests.support.slack_driver import message_text

NAMES = ("Acme Corp", "Globex", "Initech Europe", "Initech Americas", "Umbrella")


@pytest.fixture
def db(db_url):
    database = Database(db_url)
    database.migrate()
    with database.write() as session:
        for name in NAMES:
            kind = "template" if name == "Umbrella" else "client"
            session.add(
                Client(
                    key=name.casefold(),
                    name=name,
                    created_by="U1",
                    created_at=datetime(2026, 11, 1, tzinfo=UTC),
                    kind=kind,
                )
            )
    yield database
    database.dispose()


@pytest.mark.parametrize(
    ("typed", "client", "rest"),
    [
        ("acme corp reboot", "Acme Corp", "reboot"),  # the full name
        ("ACME   corp", "Acme Corp", ""),
        ("acme reboot", "Acme Corp", "reboot"),  # the only client whose name starts with 'acme'
        ("acme-corp sla", "Acme Corp", "sla"),  # its slug
        ("glob", "Globex", ""),
        ("initech eur windows", "Initech Europe", "windows"),
    ],
)
def test_a_full_name_a_start_of_one_or_a_slug_finds_the_client(db, typed, client, rest):
    with db.read() as session:
        match = resolve_client(session, typed)
    assert (match.client.name if match.client else None, match.rest) == (client, rest)
    assert match.problem is None


def test_a_start_several_clients_share_lists_them_and_finds_none(db):
    with db.read() as session:
        match = resolve_client(session, "initech reboot")
    assert match.client is None
    assert (
        match.problem
        == "Several clients start with 'initech': Initech Americas, Initech Europe. Type more of the name."
    )


def test_an_unknown_name_suggests_the_closest_and_a_kind_limits_the_search(db):
    with db.read() as session:
        typo = resolve_client(session, "globx")
        template = resolve_client(session, "umbrella", kind="client")
        nothing = resolve_client(session, "")
    assert typo.client is None and typo.problem == "I don't know a client called 'globx'. Did you mean Globex?"
    assert template.client is None and template.problem.startswith("I don't know a client called 'umbrella'.")
    assert nothing.problem == "Which client? Add its name, e.g. `/patchpolicy show acme`."


def test_show_acme_reboot_brings_up_acme_corps_reboot_section(bot, fake):
    finish(bot, fake, name="Acme Corp")
    bot.click(fake.last_post("DUTECH"), "pp.publish")
    shown = message_text(bot.command("show acme reboot").json())
    assert "Acme Corp v1: Deployment, reboots and user notice" in shown
