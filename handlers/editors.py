"""Who may change policies: PATCHPOLICY_EDITORS (users and user groups) and the workspace's admins and owners."""

from __future__ import annotations

import logging
import threading
import time

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

log = logging.getLogger(__name__)
CACHE_SECONDS = 300


class Editors:
    """Answers 'is this user an editor?', caching Slack's answers for a few minutes."""

    def __init__(self, client: WebClient, configured: str) -> None:
        self.client = client
        self.ids = tuple(part.strip() for part in configured.split(",") if part.strip())
        self._cache: dict[str, tuple[float, bool]] = {}
        self._lock = threading.Lock()

    @property
    def everyone(self) -> bool:
        """No editors configured: everyone in the workspace may edit (the documented default)."""
        return not self.ids

    def is_editor(self, user_id: str) -> bool:
        if self.everyone or user_id in self.ids:
            return True
        with self._lock:
            cached = self._cache.get(user_id)
        if cached and time.monotonic() - cached[0] < CACHE_SECONDS:
            return cached[1]
        answer = self._admin(user_id) or self._in_group(user_id)
        with self._lock:
            self._cache[user_id] = (time.monotonic(), answer)
        return answer

    def _admin(self, user_id: str) -> bool:
        try:
            user = self.client.users_info(user=user_id)["user"]
        except SlackApiError as err:
            log.info("users.info failed for an editor check: %s", err.response.get("error"))
            return False
        return bool(user.get("is_admin") or user.get("is_owner") or user.get("is_primary_owner"))

    def _in_group(self, user_id: str) -> bool:
        for group in (g for g in self.ids if g.startswith("S")):
            try:
                if user_id in self.client.usergroups_users_list(usergroup=group).get("users", []):
                    return True
            except SlackApiError as err:
                log.info("usergroups.users.list failed for %s: %s", group, err.response.get("error"))
        return False
