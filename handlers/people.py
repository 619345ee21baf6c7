"""Who is acting, and their DM: the Slack facts the core needs about a user."""

from __future__ import annotations

from typing import Any

from slack_sdk import WebClient

from bot.questionnaire import Actor
from handlers.directory import SlackDirectory


def slack_actor(client: WebClient, user_id: str, fallback_name: str) -> Actor:
    """The user with their display name and time zone from users.info (the name given when that fails)."""
    person: dict[str, Any] = SlackDirectory(client).user(user_id) or {}
    return Actor(user_id, person.get("name") or fallback_name, person.get("tz"))


def open_dm(client: WebClient, user_id: str) -> str:
    """The id of the bot's DM with a user."""
    return client.conversations_open(users=user_id)["channel"]["id"]


def channel_context(channel_id: str, channel_name: str | None) -> dict[str, Any]:
    """The channel a command came from, as the recommended client channel (not for DMs)."""
    if channel_id[:1] in {"C", "G"}:
        return {"channel": {"id": channel_id, "name": channel_name or channel_id}}
    return {}
