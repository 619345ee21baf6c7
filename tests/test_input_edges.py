"""Names and files at the edges (issue 16, defect 10): a family emoji is a fine name, a text-direction override is
not; two non-Latin clients never export to the same file; an export never writes through a planted link."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlmodel import select

from bot.console import Console, write_export
from bot.core import Core
from bot.kernel.actor import Actor
from bot.kernel.clients import ClientNameError, clean_name, file_stem
from bot.kernel.clock import ManualClock
from bot.kernel.directory import LocalDirectory
from storage.db import Database
from storage.models import Answer, Client, Draft
from tests.support.policies import recommended_answers

TESS = Actor("UTECH", "Tess", "Europe/London", editor=True)
START = datetime(2026, 11, 26, 14, 0, tzinfo=UTC)


def test_a_family_emoji_is_a_name_and_text_direction_controls_are_not():
    assert clean_name("👨\u200d👩\u200d👧 Family Dental") == "👨\u200d👩\u200d👧 Family Dental"
    for bad in ("\u202eemcA", "Acme\u2066", "Ac\x00me"):
        with pytest.raises(ClientNameError, match="control or text-direction"):
            clean_name(bad)


def test_file_names_keep_ascii_words_and_never_collide_for_non_latin_names():
    assert file_stem("Café Ltd", 3) == "cafe-ltd"
    assert file_stem("Acme Corp", 4) == "acme-corp"
    assert file_stem("Акме", 7) == "client-7" and file_stem("Глобекс", 8) == "client-8"
    assert file_stem("Acme Ёж", 9) == "acme-9"  # letters lost in ASCII: the id keeps it apart


def published(core: Core, name: str) -> None:
    outcome = core.questionnaire.start_prefilled(
        TESS, name, {}, recommended_answers({"client.name": name}), "test answers"
    )
    core.questionnaire.act(TESS, outcome.prompt.draft_id, outcome.prompt.seq, "finish")
    assert core.publish(TESS, client_name=name).published is not None


def test_two_non_latin_clients_export_to_two_files_and_a_planted_link_is_not_followed(db_url, tmp_path, monkeypatch):
    db = Database(db_url)
    db.migrate()
    core = Core(db, ManualClock(START), LocalDirectory())
    published(core, "Акме")
    published(core, "Глобекс")
    monkeypatch.chdir(tmp_path)
    out = io.StringIO()
    console = Console(core, TESS, out)
    console.handle("/patchpolicy export Акме yaml")
    console.handle("/patchpolicy export Глобекс yaml")
    written = sorted(p.name for p in tmp_path.glob("*.yaml"))
    assert len(written) == 2 and written[0] != written[1], written
    assert "Акме" in (tmp_path / written[0]).read_text(encoding="utf-8") + (tmp_path / written[1]).read_text(
        encoding="utf-8"
    )

    secret = tmp_path / "secret.txt"
    secret.write_text("keep me", encoding="utf-8")
    (tmp_path / "planted.md").symlink_to(secret)
    said = write_export(tmp_path / "planted.md", "overwritten?")
    assert said.startswith("✗ Can't write") and secret.read_text(encoding="utf-8") == "keep me"
    db.dispose()


def test_an_export_writes_a_new_file(tmp_path: Path):
    assert write_export(tmp_path / "acme.md", "# Acme") == f"✓ Wrote {tmp_path / 'acme.md'}"
    assert (tmp_path / "acme.md").read_text(encoding="utf-8") == "# Acme"


def console_core(db_url: str) -> tuple[Core, Console, io.StringIO]:
    db = Database(db_url)
    db.migrate()
    core = Core(db, ManualClock(START), LocalDirectory())
    out = io.StringIO()
    return core, Console(core, TESS, out), out


@pytest.mark.parametrize(
    ("typed", "said"),
    [
        ("\u202eemcA", "A client name can't contain control or text-direction characters."),
        ("Ac\udcffme", "A client name can't contain control or text-direction characters."),
        ("Ac\x07me", "A client name can't contain control or text-direction characters."),
        ("***", "A client name needs at least one letter or digit."),
    ],
)
def test_the_first_question_checks_a_new_name_as_new_does(db_url, typed, said):
    """Issue 16, defect 7: renaming through the first question skipped the checks of `new`."""
    core, console, out = console_core(db_url)
    console.handle("/patchpolicy new Acme")
    console.handle(typed)
    assert said in out.getvalue()
    with core.db.read() as session:
        assert [c.name for c in session.exec(select(Client)).all()] == ["Acme"]
        assert session.exec(select(Answer).where(Answer.question_id == "client.name")).all() == []
    core.db.dispose()


def test_renaming_to_another_clients_name_is_refused_at_finish_and_finishing_works_once_changed(db_url):
    core, console, out = console_core(db_url)
    published(core, "Globex")
    console.handle("/patchpolicy new Acme")
    console.handle("  globex  ")  # the first question: the client's name, as another client is called
    console.handle("rest")  # accept the recommended answers for the rest
    for _ in range(12):
        console.handle("rest")
    console.handle("finish")
    assert "Another client is already called Globex; change the name (question 1) first." in out.getvalue()
    with core.db.read() as session:
        assert sorted(c.name for c in session.exec(select(Client)).all()) == ["Acme", "Globex"]
        acme = session.exec(select(Draft).where(Draft.status == "open")).one()
    assert acme is not None

    console.handle("edit 1")
    console.handle("Acme Corporation")
    console.handle("finish")
    with core.db.read() as session:
        names = {c.name: c.key for c in session.exec(select(Client)).all()}
    assert names == {"Acme Corporation": "acme corporation", "Globex": "globex"}
    core.db.dispose()
