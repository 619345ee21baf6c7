"""Escaping user text for each output format. Slack mrkdwn: &, <, > only (ampersand first)."""

from __future__ import annotations


def mrkdwn(text: str) -> str:
    """Escape text for a Slack mrkdwn field, so it can't ping, mention or link anyone."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def unescape_slack(text: str) -> str:
    """Decode the three entities Slack escapes in incoming message text, before storing it."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def truncate(text: str, limit: int) -> str:
    """Cut text to at most `limit` characters, marking the cut with an ellipsis."""
    return text if len(text) <= limit else text[: max(limit - 1, 0)].rstrip() + "…"
