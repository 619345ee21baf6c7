"""The workspace's people and the editor user groups' members, cached so that no request waits on Slack.

Loaded in the background when the bot starts (users.list, usergroups.users.list) and refreshed every few
minutes, or sooner when someone unknown acts. Listeners read only the cache before they ack.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

log = logging.getLogger(__name__)
REFRESH_SECONDS = 300.0
SOONEST_REFRESH = 20.0  # an early refresh (someone unknown acted) at most this often
PAGE = 500


@dataclass(frozen=True)
class Person:
    id: str
    name: str
    tz: str | None
    admin: bool
    deleted: bool = False


def person_of(user: dict[str, Any]) -> Person:
    profile = user.get("profile") or {}
    name = profile.get("display_name") or profile.get("real_name") or user.get("name") or user["id"]
    admin = bool(user.get("is_admin") or user.get("is_owner") or user.get("is_primary_owner"))
    return Person(user["id"], name, user.get("tz"), admin, bool(user.get("deleted")))


class Workspace:
    """People by id and the members of the given user groups, as last read from Slack."""

    def __init__(self, client: WebClient, groups: tuple[str, ...] = (), refresh_seconds: float = REFRESH_SECONDS):
        self.client = client
        self.groups = groups
        self.refresh_seconds = refresh_seconds
        self.loaded = threading.Event()  # the first load has finished (or failed)
        self._people: dict[str, Person] = {}
        self._members: dict[str, frozenset[str]] = {}
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stopped = threading.Event()
        self._last = 0.0
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, daemon=True, name="workspace-cache")
        self._thread.start()

    def stop(self) -> None:
        self._stopped.set()
        self._wake.set()

    def person(self, user_id: str) -> Person | None:
        """From the cache only: safe before an ack."""
        with self._lock:
            return self._people.get(user_id)

    def fetch(self, user_id: str) -> Person | None:
        """From the cache, else from users.info (after the ack only)."""
        found = self.person(user_id)
        if found is not None:
            return found
        try:
            found = person_of(self.client.users_info(user=user_id)["user"])
        except SlackApiError as err:
            log.warning("users.info failed for %s: %s", user_id, err.response.get("error"))
            return None
        with self._lock:
            self._people[user_id] = found
        return found

    def in_group(self, user_id: str) -> bool:
        with self._lock:
            return any(user_id in members for members in self._members.values())

    def refresh_soon(self) -> None:
        """Someone the cache does not know (or who was refused) acted: read Slack again shortly."""
        self._wake.set()

    def refresh(self) -> None:
        """Read every person and every configured group's members from Slack now."""
        people: dict[str, Person] = {}
        cursor = None
        while True:
            page = self.client.users_list(limit=PAGE, cursor=cursor)
            for user in page.get("members") or []:
                person = person_of(user)
                people[person.id] = person
            cursor = (page.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                break
        members: dict[str, frozenset[str]] = {}
        for group in self.groups:
            try:
                members[group] = frozenset(self.client.usergroups_users_list(usergroup=group).get("users") or [])
            except SlackApiError as err:
                log.warning("usergroups.users.list failed for %s: %s", group, err.response.get("error"))
        with self._lock:
            self._people.update(people)
            self._members = members

    def _run(self) -> None:
        while not self._stopped.is_set():
            try:
                self.refresh()
            except SlackApiError as err:
                log.warning("could not read the workspace's people: %s", err.response.get("error"))
            except Exception:
                log.exception("could not read the workspace's people")
            self._last = time.monotonic()
            self.loaded.set()
            self._wake.wait(self.refresh_seconds)
            if self._wake.is_set() and not self._stopped.is_set():
                self._wake.clear()
                self._stopped.wait(max(0.0, SOONEST_REFRESH - (time.monotonic() - self._last)))
