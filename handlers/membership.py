"""Making sure the bot can work in a client's channel: it joins a public one, and asks to be invited to a private one.

Reading a channel's history, sending ephemeral messages and sharing files there all need the bot to be a member;
chat:write.public would only let it post.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from handlers.scopes import missing_scope_text

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Access:
    """Whether the bot is in the channel now, whether it just joined, and if not in, why (for a person)."""

    ok: bool
    joined: bool = False
    problem: str = ""


def invite_hint(name: str | None) -> str:
    """Plain text (the notice that shows it escapes it)."""
    where = f"#{name}" if name else "that channel"
    return (
        f"I'm not in {where} and can't join it myself (it's private, or hidden from me): "
        "invite me there with `/invite @PatchPolicy`."
    )


def _refused(err: SlackApiError, name: str | None) -> Access:
    error = err.response.get("error", "error")
    log.warning("channel access check for %s failed: %s", name, error)
    if error == "channel_not_found":
        return Access(False, problem=invite_hint(name))
    if error == "is_archived":
        return Access(False, problem=f"#{name or ''} is archived: choose another channel.")
    return Access(False, problem=missing_scope_text(err) or f"Slack refused to let me into the channel ({error}).")


def ensure_member(client: WebClient, channel_id: str, name: str | None = None) -> Access:
    """The bot in the channel: already there, joined now (public), or the reason it can't be (private, archived)."""
    if channel_id.startswith("D"):
        return Access(True)
    try:
        info = client.conversations_info(channel=channel_id)["channel"]
    except SlackApiError as err:
        return _refused(err, name)
    name = info.get("name") or name
    if info.get("is_member"):
        return Access(True)
    if info.get("is_archived"):
        return Access(False, problem=f"#{name or ''} is archived: choose another channel.")
    if info.get("is_private"):
        return Access(False, problem=invite_hint(name))
    try:
        client.conversations_join(channel=channel_id)
    except SlackApiError as err:
        return _refused(err, name)
    log.info("joined #%s (%s)", name, channel_id)
    return Access(True, joined=True)
