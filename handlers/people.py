"""Who is acting, and their DM: the Slack facts the core needs about a user."""

from __future__ import annotations

from typing import Any

from slack_sdk import WebClient

from bot.questionnaire import Actor
from handlers.directory import SlackDirectory
from handlers.editors import Editors


def slack_actor(client: WebClient, user_id: str, fallback_name: str, editors: Editors | None = None) -> Actor:
    """The user with their display name and time zone from users.info, and whether they are an editor."""
    person: dict[str, Any] = SlackDirectory(client).user(user_id) or {}
    editor = editors.is_editor(user_id) if editors is not None else True
    return Actor(user_id, person.get("name") or fallback_name, person.get("tz"), editor)


def payload_actor(client: WebClient, body: dict[str, Any], editors: Editors | None = None) -> Actor:
    """The user who clicked or submitted, from an interaction payload's `user`."""
    user = body["user"]
    return slack_actor(client, user["id"], user.get("username") or user["id"], editors)


def open_dm(client: WebClient, user_id: str) -> str:
    """The id of the bot's DM with a user."""
    return client.conversations_open(users=user_id)["channel"]["id"]


def channel_context(channel_id: str, channel_name: str | None) -> dict[str, Any]:
    """The channel a command came from, as the recommended client channel (not for DMs)."""
    if channel_id[:1] in {"C", "G"}:
        return {"channel": {"id": channel_id, "name": channel_name or channel_id}}
    return {}
