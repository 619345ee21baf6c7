"""RMM exports shared in the bot's DM with the client's name: downloaded from Slack, then imported by the core."""

from __future__ import annotations

import logging
import shutil
import tempfile
import urllib.request
from pathlib import Path
from typing import Any

from slack_sdk import WebClient

from bot.core import Core
from bot.kernel.escaping import unescape_slack
from bot.kernel.views import Notice
from handlers.policy_files import from_slack
from handlers.render import render

log = logging.getLogger(__name__)
SUFFIXES = (".csv", ".json")
MAX_BYTES = 1024 * 1024 * 1024  # an export of a million rows is about 150 MB
_TIMEOUT = 30


def is_export(files: list[dict[str, Any]]) -> bool:
    return any(str(f.get("name", "")).casefold().endswith(SUFFIXES) for f in files)


def import_export(event: dict[str, Any], client: WebClient, core: Core) -> None:
    """Import the shared export for the client the message names, and say what came of it."""
    channel = event["channel"]
    shared = next(f for f in event.get("files") or [] if str(f.get("name", "")).casefold().endswith(SUFFIXES))
    client_text = unescape_slack(event.get("text") or "").strip()
    if not client_text:
        note = Notice("Which client is this export for? Share it again with the client's name as the message.")
        client.chat_postMessage(channel=channel, **render(note).as_kwargs())
        return
    with tempfile.TemporaryDirectory(prefix="patchpolicy-export-") as folder:
        path = Path(folder) / ("export" + Path(str(shared.get("name"))).suffix.casefold())
        problem = _download(client, shared, path)
        if problem is not None:
            client.chat_postMessage(channel=channel, **render(problem).as_kwargs())
            return
        result = core.device_data.import_file(client_text, path, event["user"], name=str(shared.get("name"))[:300])
    if result.ok and not result.already:
        core.plan_changed()
    note = Notice(result.text(), "success" if result.ok and not result.already else "info" if result.ok else "error")
    client.chat_postMessage(channel=channel, **render(note).as_kwargs())


def _download(client: WebClient, shared: dict[str, Any], path: Path) -> Notice | None:
    if int(shared.get("size") or 0) > MAX_BYTES:
        return Notice("That file is over 1 GB; split the export by site or by month.", "error")
    url = str(shared.get("url_private_download") or shared.get("url_private") or "")
    if not from_slack(client, url):
        return Notice("I can only read files stored in Slack.", "error")
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {client.token}"})
    try:
        with urllib.request.urlopen(request, timeout=_TIMEOUT) as response, path.open("wb") as out:  # host checked
            shutil.copyfileobj(response, out, 1 << 20)
    except OSError as err:
        log.warning("could not download a shared export: %s", err)
        return Notice("I couldn't download that file from Slack; please share it again.", "error")
    return None
