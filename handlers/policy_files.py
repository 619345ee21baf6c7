"""Policy files shared in the bot's DM: fetched from Slack with the bot token, then loaded by the core."""

from __future__ import annotations

import logging
import urllib.request
from typing import Any
from urllib.parse import urlparse

from slack_sdk import WebClient

from bot.kernel.views import Notice
from bot.policy.policy_file import MAX_BYTES

log = logging.getLogger(__name__)
_SUFFIXES = (".yaml", ".yml")
_TIMEOUT = 10


def fetch_policy_file(client: WebClient, files: list[dict[str, Any]]) -> str | Notice:
    """The text of the first shared .yaml file, or a notice saying what is wrong with the share."""
    shared = next((f for f in files if str(f.get("name", "")).casefold().endswith(_SUFFIXES)), None)
    if shared is None:
        return Notice("Share a policy file ending in .yaml (from `/patchpolicy export <client> yaml`).", "error")
    if int(shared.get("size") or 0) > MAX_BYTES:
        return Notice(f"That file is larger than {MAX_BYTES // 1024} KB; a policy file is much smaller.", "error")
    url = str(shared.get("url_private_download") or shared.get("url_private") or "")
    if not from_slack(client, url):
        return Notice("I can only read files stored in Slack.", "error")
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {client.token}"})
    try:
        with urllib.request.urlopen(request, timeout=_TIMEOUT) as response:  # the host was checked above
            data = response.read(MAX_BYTES + 1)
    except OSError as err:
        log.warning("could not download a shared policy file: %s", err)
        return Notice("I couldn't download that file from Slack; please share it again.", "error")
    if len(data) > MAX_BYTES:
        return Notice(f"That file is larger than {MAX_BYTES // 1024} KB; a policy file is much smaller.", "error")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return Notice("That file is not UTF-8 text; export a policy file and share it again.", "error")


def from_slack(client: WebClient, url: str) -> bool:
    """Only Slack's own file host (or the API host the client talks to) gets the bot token."""
    host = urlparse(url).hostname or ""
    api_host = urlparse(client.base_url).hostname or ""
    return bool(host) and (host == api_host or host == "files.slack.com" or host.endswith(".slack.com"))
