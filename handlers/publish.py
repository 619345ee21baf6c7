"""Posting a published version: the overview in the client's channel, the full SOP in its thread and as a file."""

from __future__ import annotations

import logging

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.core import Core
from bot.kernel.views import Notice, Published
from handlers.membership import ensure_member
from handlers.scopes import missing_scope_text
from handlers.sop_blocks import document_messages, published_message

log = logging.getLogger(__name__)
EVENT_TYPE = "patchpolicy_sop"


def _already_posted(client: WebClient, published: Published) -> str | None:
    """The ts of this version's overview if it is already in the channel (its message metadata says so)."""
    history = client.conversations_history(channel=published.channel_id, include_all_metadata=True, limit=200)
    for message in history.get("messages", []):
        metadata = message.get("metadata") or {}
        payload = metadata.get("event_payload") or {}
        if metadata.get("event_type") == EVENT_TYPE and payload.get("version_id") == published.version_id:
            return message["ts"]
    return None


def post_version(client: WebClient, core: Core, published: Published) -> Notice:
    """Post the version in parts, recording each as it goes out: the overview, the full text in its thread, the
    file. A post that fails part way is finished by the next `publish`, without posting anything twice."""
    overview = published.overview
    name, version = overview.client_name, overview.version
    retry = f"`/patchpolicy publish {name}` posts it again."
    if not published.channel_id:
        return Notice(
            f"{name}'s SOP v{version} is published, but the policy names no channel to post it in.", "warning"
        )
    access = ensure_member(client, published.channel_id, published.channel_name)
    if not access.ok:
        return Notice(
            f"{name}'s SOP v{version} is saved, but I can't post it yet. {access.problem} Then {retry}", "warning"
        )
    ts = published.message_ts
    try:
        ts = ts or _already_posted(client, published)  # posted before a crash kept it from being recorded
        if ts is None:
            metadata = {"event_type": EVENT_TYPE, "event_payload": {"version_id": published.version_id}}
            head = client.chat_postMessage(
                channel=published.channel_id, metadata=metadata, **published_message(overview).as_kwargs()
            )
            ts = head["ts"]
        permalink = client.chat_getPermalink(channel=published.channel_id, message_ts=ts).get("permalink")
        core.publisher.mark_posted(published.version_id, published.channel_id, ts, permalink)
        if not published.thread_posted:
            for message in document_messages(name, version, published.document):
                client.chat_postMessage(channel=published.channel_id, thread_ts=ts, **message.as_kwargs())
            core.publisher.mark_part_posted(published.version_id, "thread")
        if not published.file_posted:
            client.files_upload_v2(
                channel=published.channel_id,
                thread_ts=ts,
                content=published.markdown,
                filename=published.filename,
                title=f"{name} patch management SOP v{version}",
            )
            core.publisher.mark_part_posted(published.version_id, "file")
    except SlackApiError as err:
        error = err.response.get("error", "error")
        log.warning("posting %s v%s failed: %s", name, version, error)
        said = missing_scope_text(err) or f"Slack refused the post ({error})."
        if ts is not None:
            return Notice(
                f"{name}'s SOP v{version} is in #{published.channel_name}, but its full text or file is not: "
                f"{said} `/patchpolicy publish {name}` finishes it.",
                "warning",
            )
        return Notice(f"{name}'s SOP v{version} is saved, but {said[0].lower()}{said[1:]} {retry}", "warning")
    link = (permalink, f"#{published.channel_name}") if permalink else None
    return Notice(f"Published {name}'s SOP v{version} in #{published.channel_name}.", "success", link)
