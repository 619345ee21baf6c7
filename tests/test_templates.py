"""Templates, copies, syncs and policy files, through the fake Slack and the command line."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import func, select

from bot.cli import main
from storage.db import Database
from storage.models import Client, Draft, PolicyVersion
from tests.support.questionnaire import answer_all, finish, live_prompt, stored_answers
from tests.support.slack_driver import BotUnderTest, message_text

CLIENT_SPECIFIC = {
    "client.name",
    "client.timezone",
    "client.approver",
    "client.channel",
    "client.compliance",
    "scope.internet_facing",
    "data.rmm",
    "data.group_map",
}
RETRIES = "How many automatic retries"
DEFERRALS = "How many times may a user defer"


def published(bot: BotUnderTest, name: str) -> PolicyVersion:
    with bot.db.read() as session:
        client = session.exec(select(Client).where(Client.key == name.casefold())).one()
        return session.exec(
            select(PolicyVersion).where(PolicyVersion.client_id == client.id).order_by(PolicyVersion.version.desc())
        ).first()


def client_row(bot: BotUnderTest, name: str) -> Client:
    with bot.db.read() as session:
        return session.exec(select(Client).where(Client.key == name.casefold())).one()


def edit_answer(bot: BotUnderTest, fake, prompt_start: str, typed: str) -> None:
    """From the summary: pick the question in the Edit menu, type the new answer, land on the summary again."""
    bot.click(live_prompt(fake), "pp.edit", selected=prompt_start)
    bot.dm(typed)
    assert "Summary" in live_prompt(fake)["text"]


def last_response(fake) -> str:
    return fake.responses[-1]["text"]


def client_on_template(bot: BotUnderTest, fake) -> list[str]:
    """House Standard v1 (3 retries, 2 deferrals), then Acme from it with its own deferrals (4)."""
    bot.command("template new House Standard")
    template_asked = answer_all(bot, fake, {"failures.retries": "3", "deployment.deferrals": "2"})
    assert not CLIENT_SPECIFIC & set(template_asked)
    bot.click(live_prompt(fake), "pp.finish")
    bot.command("publish House Standard")
    assert "Published template House Standard v1. No client policy is built on it yet." in last_response(fake)

    ack = bot.command("new Acme from house standard", channel="C0ACME", channel_name="acme-patching")
    assert ack.body == "I've sent you a DM to write Acme's patch policy from house standard."
    intro = [m for m in fake.posts("DUTECH") if "starts from template House Standard v1" in message_text(m)]
    assert intro and "I'll ask only what is still missing for Acme" in message_text(intro[-1])
    asked = answer_all(bot, fake, {"client.timezone": "Europe/London"})
    edit_answer(bot, fake, DEFERRALS, "4")
    bot.click(live_prompt(fake), "pp.finish")
    bot.command("publish acme")
    return asked


def test_a_client_from_a_template_is_asked_only_its_own_questions_and_keeps_its_overrides(bot, fake):
    asked = client_on_template(bot, fake)

    assert set(asked) == CLIENT_SPECIFIC
    template = published(bot, "House Standard")
    assert not CLIENT_SPECIFIC & set(template.answers)
    assert template.posted_at is not None and fake.posts("C0GENERAL") == []
    acme = published(bot, "Acme")
    assert acme.answers["failures.retries"] == 3  # from the template
    assert acme.answers["deployment.deferrals"] == 4  # Acme's own
    assert acme.answers["client.timezone"] == "Europe/London"
    assert acme.answers["client.channel"] == {"id": "C0ACME", "name": "acme-patching"}
    row = client_row(bot, "Acme")
    assert (row.template_id, row.template_version) == (client_row(bot, "House Standard").id, 1)

    overview = message_text(fake.posts("C0ACME")[0])
    assert "Acme: patch management SOP v1" in overview
    assert "Built on template House Standard v1:" in overview and "1 is Acme's own." in overview
    listing = message_text(bot.command("list").json())
    assert "MSP template" in listing and "on template House Standard v1" in listing


def test_a_template_update_syncs_into_the_client_keeping_its_overrides(bot, fake):
    client_on_template(bot, fake)
    bot.command("edit House Standard")
    edit_answer(bot, fake, RETRIES, "4")
    edit_answer(bot, fake, DEFERRALS, "1")
    bot.click(live_prompt(fake), "pp.finish")
    bot.command("publish House Standard")
    notice = last_response(fake)
    assert "Published template House Standard v2." in notice
    assert "Template v2 changes 1 answer Acme follows: `/patchpolicy sync Acme` takes them." in notice

    assert "Template v2 changes 1 answer Acme follows" in message_text(bot.command("show acme").json())

    ack = bot.command("sync acme")
    assert ack.body == "I've sent you a DM to sync acme with its template."
    diff = next(m for m in reversed(fake.posts("DUTECH")) if "Template House Standard v2 changes" in message_text(m))
    text = message_text(diff)
    assert "changes 1 answer Acme follows (its 1 own answer kept)" in text
    assert f"{RETRIES} before a ticket is opened? (0-5): 3 → 4" in text
    assert "Summary" in live_prompt(fake)["text"]
    bot.click(live_prompt(fake), "pp.finish")
    bot.command("publish acme")

    acme = published(bot, "Acme")
    assert acme.version == 2
    assert acme.answers["failures.retries"] == 4  # followed the template
    assert acme.answers["deployment.deferrals"] == 4  # the override survived (the template now says 1)
    assert client_row(bot, "Acme").template_version == 2
    assert "changes" not in message_text(bot.command("show acme").json()).split("Built on template")[1]
    bot.command("sync acme")
    assert "Acme already has every answer of template House Standard it follows." in message_text(
        fake.last_post("DUTECH")
    )


def test_a_non_editor_cannot_make_templates_but_can_list_them(fake, make_bot):
    guarded = make_bot(editors="UTECH")
    try:
        refused = guarded.command("template new Sneaky", user="UOTHER").json()["text"]
        assert "Only PatchPolicy editors can change policies" in refused
        assert "No templates yet" in message_text(guarded.command("template list", user="UOTHER").json())
    finally:
        guarded.stop()


def exported_yaml(bot: BotUnderTest, fake) -> str:
    finish(bot, fake)
    bot.click(fake.last_post("DUTECH"), "pp.publish")
    bot.command("export acme yaml")
    (upload,) = [f for f in fake.files.values() if f["filename"] == "acme-policy-v1.yaml"]
    return upload["content"]


def test_export_then_import_in_the_dm_gives_the_same_answers(bot, fake):
    text = exported_yaml(bot, fake)
    assert "kind: client\nname: Acme\nanswers:\n  # What is the client's name" in text
    assert "  client.timezone: America/New_York\n" in text

    bot.share_file("acme.yaml", text)
    notice = next(m for m in reversed(fake.posts("DUTECH")) if "starts from the policy file" in message_text(m))
    assert "Acme's policy starts from the policy file" in message_text(notice)
    assert "Summary" in live_prompt(fake)["text"]  # nothing missing: straight to the summary
    assert stored_answers(bot.db, status="open") == published(bot, "Acme").answers


def broken(text: str) -> str:
    """Three mistakes: an unknown question, a bad time zone, a number that is not one."""
    text = text.replace("client.timezone: America/New_York", "client.timezone: Mars/Olympus")
    text = text.replace("failures.retries: 2", "failures.retries: lots")
    return text.replace("  scope.groups:", "  scope.gadgets: 3\n  scope.groups:")


def draft_count(db: Database) -> int:
    with db.read() as session:
        return session.exec(select(func.count()).select_from(Draft)).one()


def test_a_bad_file_gives_three_precise_errors_and_changes_nothing(bot, fake, tmp_path, monkeypatch, capsys):
    text = broken(exported_yaml(bot, fake))
    lines = text.split("\n")
    where = {
        key: lines.index(next(x for x in lines if x.startswith(f"  {key}:"))) + 1
        for key in ("client.timezone", "failures.retries", "scope.gadgets")
    }
    before = draft_count(bot.db)

    bot.share_file("acme.yaml", text)
    reply = message_text(fake.last_post("DUTECH"))
    assert "I couldn't load that policy file; nothing was changed." in reply
    assert f"line {where['client.timezone']}: client.timezone: 'Mars/Olympus' is not an IANA time zone." in reply
    assert f"line {where['scope.gadgets']}: 'scope.gadgets' is not a question I know." in reply
    assert f"line {where['failures.retries']}: failures.retries:" in reply
    assert reply.count("• line") == 3
    assert draft_count(bot.db) == before

    path = tmp_path / "acme.yaml"
    path.write_text(text, encoding="utf-8")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    assert main(["import", str(path)]) == 1
    out = capsys.readouterr().out
    assert "nothing was changed" in out and out.count("• line") == 3
    assert draft_count(Database(f"sqlite:///{tmp_path / 'cli.db'}")) == 0


def test_import_and_render_from_a_file_on_the_command_line(bot, fake, tmp_path, monkeypatch, capsys):
    path = tmp_path / "acme.yaml"
    path.write_text(exported_yaml(bot, fake), encoding="utf-8")

    assert main(["render", str(path)]) == 0
    markdown = capsys.readouterr().out
    assert markdown.startswith("# Acme: Patch management SOP (draft)\n")
    assert "## Patch windows and calendar" in markdown and "Patch Tuesday + 5 days" in markdown
    assert main(["render", str(path), "html"]) == 0
    html = capsys.readouterr().out
    assert "<h2>Failed patches and rollback</h2>" in html and "<script" not in html
    assert main(["check", str(path)]) == 0
    assert "- Pass: Cyber Essentials." in capsys.readouterr().out

    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    assert main(["import", str(path)]) == 0
    assert "Acme's policy starts from the policy file" in capsys.readouterr().out
    assert stored_answers(Database(f"sqlite:///{tmp_path / 'cli.db'}")) == published(bot, "Acme").answers


@pytest.mark.parametrize("name", ["bad.yaml"])
def test_render_refuses_a_broken_file_with_each_problem(tmp_path: Path, capsys, name):
    path = tmp_path / name
    path.write_text("kind: client\nname: Acme\nanswers:\n  client.timezone: Mars/Olympus\n  sla.high: 2 fortnights\n")
    assert main(["render", str(path)]) == 1
    err = capsys.readouterr().err
    assert f"{path}: line 4: client.timezone:" in err
    assert f"{path}: line 5: sla.high:" in err
