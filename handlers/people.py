"""Who is acting, and their DM: the Slack facts the core needs about a user."""

from __future__ import annotations

from typing import Any

from slack_sdk import WebClient

from bot.kernel.actor import Actor
from handlers.editors import Editors
from handlers.workspace import Workspace


def slack_actor(workspace: Workspace, user_id: str, fallback_name: str, editors: Editors | None = None) -> Actor:
    """The user with their display name and time zone (from users.info if the cache lacks them: after the ack)."""
    person = workspace.fetch(user_id)
    editor = editors.is_editor(user_id) if editors is not None else True
    return Actor(user_id, person.name if person else fallback_name, person.tz if person else None, editor)


def payload_actor(workspace: Workspace, body: dict[str, Any], editors: Editors | None = None) -> Actor:
    """The user who clicked or submitted, from an interaction payload and the cache alone: safe before an ack."""
    user = body["user"]
    person = workspace.person(user["id"])
    if person is None:
        workspace.refresh_soon()
    name = person.name if person else user.get("username") or user.get("name") or user["id"]
    editor = editors.is_editor(user["id"]) if editors is not None else True
    return Actor(user["id"], name, person.tz if person else None, editor)


def open_dm(client: WebClient, user_id: str) -> str:
    """The id of the bot's DM with a user."""
    return client.conversations_open(users=user_id)["channel"]["id"]


def channel_context(channel_id: str, channel_name: str | None) -> dict[str, Any]:
    """The channel a command came from, as the recommended client channel (not for DMs)."""
    if channel_id[:1] in {"C", "G"}:
        return {"channel": {"id": channel_id, "name": channel_name or channel_id}}
    return {}
