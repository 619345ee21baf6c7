"""Resolving channels and users through the Slack Web API, for answers that name them."""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

log = logging.getLogger(__name__)
_CHANNEL_REF = re.compile(r"^<#([CG][A-Z0-9]{2,20})(?:\|([^>]*))?>$|^([CG][A-Z0-9]{2,20})$")
_USER_REF = re.compile(r"^<@([UW][A-Z0-9]{2,20})(?:\|[^>]*)?>$|^([UW][A-Z0-9]{2,20})$")


class SlackDirectory:
    """Looks channels and people up in the workspace."""

    def __init__(self, client: WebClient) -> None:
        self.client = client

    def channel(self, text: str) -> dict[str, Any] | None:
        text = text.strip()
        match = _CHANNEL_REF.match(text)
        try:
            if match:
                info = self.client.conversations_info(channel=match.group(1) or match.group(3))["channel"]
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
            log.info("channel lookup failed: %s", err.response.get("error"))
        return None

    def users(self, text: str) -> list[dict[str, Any]] | None:
        found = []
        for token in re.split(r"[\s,]+", text.strip()):
            if not token:
                continue
            match = _USER_REF.match(token)
            if not match:
                return None
            user = self.user(match.group(1) or match.group(2))
            if user is None:
                return None
            found.append({"id": user["id"], "name": user["name"]})
        return found or None

    def user(self, user_id: str) -> dict[str, Any] | None:
        """id, name (display name, else real name, else handle) and tz of one user; None if unknown."""
        try:
            user = self.client.users_info(user=user_id)["user"]
        except SlackApiError as err:
            log.info("user lookup failed: %s", err.response.get("error"))
            return None
        profile = user.get("profile") or {}
        name = profile.get("display_name") or profile.get("real_name") or user.get("name") or user_id
        return {"id": user["id"], "name": name, "tz": user.get("tz"), "deleted": user.get("deleted", False)}
