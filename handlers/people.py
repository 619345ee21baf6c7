"""Who is acting, and their DM: the Slack facts the core needs about a user."""

from __future__ import annotations

from typing import Any

from slack_sdk import WebClient

from bot.kernel.actor import Actor
from handlers.editors import Editors


def slack_actor(editors: Editors, user_id: str, fallback_name: str) -> Actor:
    """The user with their display name, time zone (from users.info if the cache lacks them: after the ack) and
    whether they are an editor."""
    person = editors.workspace.fetch(user_id)
    name, tz = (person.name, person.tz) if person else (fallback_name, None)
    return Actor(user_id, name, tz, editors.is_editor(user_id))


def payload_actor(editors: Editors, body: dict[str, Any]) -> Actor:
    """The user who clicked or submitted, from an interaction payload and the cache alone: safe before an ack."""
    user = body["user"]
    person = editors.workspace.person(user["id"])
    if person is None:
        editors.workspace.refresh_soon()
    name = person.name if person else user.get("username") or user.get("name") or user["id"]
    return Actor(user["id"], name, person.tz if person else None, editors.is_editor(user["id"]))


def open_dm(client: WebClient, user_id: str) -> str:
    """The id of the bot's DM with a user."""
    return client.conversations_open(users=user_id)["channel"]["id"]


def channel_context(channel_id: str, channel_name: str | None) -> dict[str, Any]:
    """The channel a command came from, as the recommended client channel (not for DMs)."""
    if channel_id[:1] in {"C", "G"}:
        return {"channel": {"id": channel_id, "name": channel_name or channel_id}}
    return {}
