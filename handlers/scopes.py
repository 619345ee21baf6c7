"""The OAuth scopes each Slack Web API method needs, as Slack's method reference lists them.

`METHOD_SCOPES` maps a method to the scope it needs per kind of conversation (`public`, `private`, `im`) or
for any (`*`); `REQUIRED_SCOPES` is what the bot's own calls need, and what `manifest.yml` grants. A test
derives the needed set from the calls in the code and compares all three, so they cannot drift apart.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

log = logging.getLogger(__name__)

ANY = "*"
METHOD_SCOPES: dict[str, dict[str, str | None]] = {
    "auth.test": {ANY: None},
    "chat.postMessage": {ANY: "chat:write"},
    "chat.update": {ANY: "chat:write"},
    "chat.postEphemeral": {ANY: "chat:write"},
    "chat.getPermalink": {ANY: None},
    "conversations.history": {"public": "channels:history", "private": "groups:history", "im": "im:history"},
    "conversations.info": {"public": "channels:read", "private": "groups:read", "im": "im:read"},
    "conversations.list": {"public": "channels:read", "private": "groups:read"},
    "conversations.join": {"public": "channels:join"},
    "conversations.open": {ANY: "im:write"},
    "files.getUploadURLExternal": {ANY: "files:write"},
    "files.completeUploadExternal": {ANY: "files:write"},
    "files.download": {ANY: "files:read"},  # GET url_private_download with the bot token
    "users.info": {ANY: "users:read"},
    "users.list": {ANY: "users:read"},
    "usergroups.users.list": {ANY: "usergroups:read"},
    "views.open": {ANY: None},
    "views.publish": {ANY: None},
    "views.update": {ANY: None},
    "views.push": {ANY: None},
}
# The kinds of conversation the bot works in: client channels (public or private) and DMs with people.
CONVERSATION_KINDS = ("public", "private", "im")
# What a feature needs besides its method calls: the slash command, and the DM messages the bot reads.
FEATURE_SCOPES = {"slash_command": "commands", "message.im": "im:history"}

REQUIRED_SCOPES = frozenset(
    {
        "commands",
        "chat:write",
        "im:history",
        "im:write",
        "channels:read",
        "groups:read",
        "channels:history",
        "groups:history",
        "channels:join",
        "users:read",
        "usergroups:read",
        "files:write",
        "files:read",
    }
)
REINSTALL = "Reinstall PatchPolicy from the updated manifest.yml (api.slack.com/apps → your app → App Manifest)."


# Methods the bot calls on channels only: ensure_member answers for a DM without asking Slack.
CHANNELS_ONLY = frozenset({"conversations.info", "conversations.join", "conversations.list"})


def scopes_for(methods: Iterable[str], kinds: Iterable[str] = CONVERSATION_KINDS) -> set[str]:
    """Every scope the given methods need in the given kinds of conversation."""
    needed: set[str] = set()
    for method in methods:
        wanted = set(kinds) - ({"im"} if method in CHANNELS_ONLY else set())
        for kind, scope in METHOD_SCOPES[method].items():
            if scope and (kind == ANY or kind in wanted):
                needed.add(scope)
    return needed


def missing_scope_text(err: SlackApiError) -> str | None:
    """For Slack's `missing_scope` answer: which scope the install lacks and what to do; else None."""
    if err.response.get("error") != "missing_scope":
        return None
    needed = err.response.get("needed") or "a scope"
    return f"Slack refused: this workspace's install of PatchPolicy lacks the `{needed}` scope. {REINSTALL}"


def check_granted(client: WebClient) -> set[str]:
    """Read the scopes the token was granted (auth.test's x-oauth-scopes) and log one line naming any missing."""
    try:
        response = client.auth_test()
    except SlackApiError as err:
        log.warning("could not read the granted scopes: %s", err.response.get("error"))
        return set()
    headers = {k.lower(): v for k, v in (response.headers or {}).items()}
    raw = headers.get("x-oauth-scopes")
    if isinstance(raw, list):
        raw = ",".join(raw)
    if raw is None:
        return set()
    granted = {s.strip() for s in str(raw).split(",") if s.strip()}
    missing = sorted(REQUIRED_SCOPES - granted)
    if missing:
        log.warning("Slack scopes missing from this install: %s. %s", ", ".join(missing), REINSTALL)
    return set(missing)
