"""Resolving channels and users through the Slack Web API, for answers that name them."""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.kernel.directory import ChannelCheck, each_person
from handlers.membership import ensure_member
from handlers.workspace import Workspace

log = logging.getLogger(__name__)
_CHANNEL_REF = re.compile(r"^<#([CG][A-Z0-9]{2,20})(?:\|([^>]*))?>$|^([CG][A-Z0-9]{2,20})$")
_USER_REF = re.compile(r"^<@([UW][A-Z0-9]{2,20})(?:\|[^>]*)?>$|^([UW][A-Z0-9]{2,20})$")


class SlackDirectory:
    """Looks channels and people up in the workspace."""

    def __init__(self, client: WebClient, workspace: Workspace) -> None:
        self.client = client
        self.workspace = workspace

    def channel(self, text: str) -> dict[str, Any] | None:
        text = text.strip()
        match = _CHANNEL_REF.match(text)
        try:
            if match:
                channel_id = match.group(1) or match.group(3)
                try:
                    info = self.client.conversations_info(channel=channel_id)["channel"]
                except SlackApiError as err:
                    if err.response.get("error") != "channel_not_found":
                        raise
                    # picked from the list but hidden from the bot: a private channel it is not in yet
                    return {"id": channel_id, "name": match.group(2) or channel_id}
                return {"id": info["id"], "name": info.get("name", info["id"])}
            name = text.lstrip("#").casefold()
            if not re.fullmatch(r"[a-z0-9][a-z0-9_\-]{0,79}", name):
                return None
            cursor = None
            for _ in range(50):  # 50 pages of 1,000 channels at most
                page = self.client.conversations_list(
                    types="public_channel,private_channel", limit=1000, exclude_archived=True, cursor=cursor
                )
                for channel in page["channels"]:
                    if channel.get("name") == name:
                        return {"id": channel["id"], "name": channel["name"]}
                cursor = (page.get("response_metadata") or {}).get("next_cursor")
                if not cursor:
                    break
        except SlackApiError as err:
            log.warning("channel lookup failed: %s", err.response.get("error"))
        return None

    def prepare_channel(self, channel: dict[str, Any]) -> ChannelCheck:
        """Join a public channel the bot is not in yet; a private one needs an invitation first."""
        access = ensure_member(self.client, channel["id"], channel.get("name"))
        if not access.ok:
            return ChannelCheck(False, f"{access.problem} Then choose it again.")
        if access.joined:
            return ChannelCheck(True, f"I've joined #{channel.get('name')} so I can post the SOP and reminders there.")
        return ChannelCheck(True)

    def users(self, text: str) -> list[dict[str, Any]] | None:
        def find(token: str) -> dict[str, Any] | None:
            match = _USER_REF.match(token)
            return self.user(match.group(1) or match.group(2)) if match else None

        return each_person(text, find)

    def user(self, user_id: str) -> dict[str, Any] | None:
        """id, name (display name, else real name, else handle) and tz of one user; None if unknown."""
        person = self.workspace.fetch(user_id)
        if person is None:
            return None
        return {"id": person.id, "name": person.name, "tz": person.tz, "deleted": person.deleted}
