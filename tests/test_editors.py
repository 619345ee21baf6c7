"""Who may change policies: PATCHPOLICY_EDITORS users and groups, and workspace admins; everyone may read."""

from __future__ import annotations

import pytest

from tests.support.questionnaire import finish, live_prompt
from tests.support.slack_driver import message_text


@pytest.fixture
def guarded(fake, make_bot):
    fake.add_user("UADMIN", "Ada Admin", is_admin=True)
    fake.add_user("UGROUP", "Gus Group")
    fake.usergroups["S0PATCH"] = ["UGROUP"]
    running = make_bot(editors="UTECH, S0PATCH")
    yield running
    running.stop()


def test_a_non_editor_is_refused_with_who_can_help_and_nothing_changes(guarded, fake):
    for text in ("new Acme", "publish acme", "pause acme", "archive acme", "edit acme"):
        body = guarded.command(text, user="UOTHER").json()
        shown = message_text(body)
        assert "Only PatchPolicy editors can" in shown
        assert "<@UTECH>, <!subteam^S0PATCH>" in shown
    assert fake.calls_to("chat.postMessage") == []


def test_editors_by_id_group_or_admin_role_may_start_a_policy(guarded, fake):
    for user in ("UTECH", "UGROUP", "UADMIN"):
        response = guarded.command(f"new Client {user}", user=user, channel="C0ACME", channel_name="acme-patching")
        assert "I've sent you a DM" in response.body, user
        assert "Client and document - 1 of" in message_text(live_prompt(fake, user))


def test_everyone_may_read_and_a_non_editor_cannot_publish_by_button(guarded, fake):
    finish(guarded, fake)
    offer = fake.last_post("DUTECH")
    refused = guarded.click(offer, "pp.publish", user="UOTHER")
    assert "Only PatchPolicy editors can publish" in message_text(refused.followups[-1])
    assert refused.followups[-1]["response_type"] == "ephemeral"
    assert fake.posts("C0ACME") == []
    guarded.click(offer, "pp.publish")
    assert "Acme: patch management SOP v1" in message_text(guarded.command("show acme", user="UOTHER").json())
    assert "*Acme* · published v1" in message_text(guarded.command("list", user="UOTHER").json())


def test_with_no_editors_configured_everyone_may_edit(bot, fake):
    assert "I've sent you a DM" in bot.command("new Acme", user="UOTHER").body
