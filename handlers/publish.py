"""Posting a published version: the overview in the client's channel, the full SOP in its thread and as a file."""

from __future__ import annotations

import logging

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.core import Core
from bot.views import Notice, Published
from handlers.sop_blocks import document_messages, published_message

log = logging.getLogger(__name__)
_NOT_IN_CHANNEL = {"not_in_channel", "channel_not_found", "is_archived"}
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
    """Post the version and record where; on failure the version stays unposted and the notice says how to retry."""
    overview = published.overview
    name, version = overview.client_name, overview.version
    retry = f"`/patchpolicy publish {name}` posts it again."
    if not published.channel_id:
        return Notice(
            f"{name}'s SOP v{version} is published, but the policy names no channel to post it in.", "warning"
        )
    try:
        ts = _already_posted(client, published)  # posted before a crash (or a failure) kept it from being recorded
        if ts is None:
            metadata = {"event_type": EVENT_TYPE, "event_payload": {"version_id": published.version_id}}
            head = client.chat_postMessage(
                channel=published.channel_id, metadata=metadata, **published_message(overview).as_kwargs()
            )
            ts = head["ts"]
            for message in document_messages(name, version, published.document):
                client.chat_postMessage(channel=published.channel_id, thread_ts=ts, **message.as_kwargs())
            client.files_upload_v2(
                channel=published.channel_id,
                thread_ts=ts,
                content=published.markdown,
                filename=published.filename,
                title=f"{name} patch management SOP v{version}",
            )
        permalink = client.chat_getPermalink(channel=published.channel_id, message_ts=ts).get("permalink")
    except SlackApiError as err:
        error = err.response.get("error", "error")
        log.warning("posting %s v%s failed: %s", name, version, error)
        if error in _NOT_IN_CHANNEL:
            return Notice(
                f"{name}'s SOP v{version} is saved, but I can't post in #{published.channel_name}. "
                f"Invite me there (`/invite @PatchPolicy`); then {retry}",
                "warning",
            )
        return Notice(f"{name}'s SOP v{version} is saved, but Slack refused the post ({error}). {retry}", "warning")
    core.publisher.mark_posted(published.version_id, published.channel_id, ts, permalink)
    link = (permalink, f"#{published.channel_name}") if permalink else None
    return Notice(f"Published {name}'s SOP v{version} in #{published.channel_name}.", "success", link)
