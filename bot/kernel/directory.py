"""Who and where: resolving channels and users typed in answers. Adapters supply the implementation."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

_CHANNEL_NAME = re.compile(r"^#?([a-z0-9][a-z0-9_\-]{0,79})$")
_USER_NAME = re.compile(r"^@?([\w.\-]{1,80})$")


@dataclass(frozen=True)
class ChannelCheck:
    """Whether the bot can work in a chosen channel, and what to tell the person who chose it (plain text)."""

    usable: bool
    note: str = ""


def each_person(text: str, find: Callable[[str], dict[str, Any] | None]) -> list[dict[str, Any]] | None:
    """The people named in text (separated by spaces or commas), each found by `find`; None if any is not."""
    found = []
    for token in re.split(r"[\s,]+", text.strip()):
        if not token:
            continue
        person = find(token)
        if person is None:
            return None
        found.append({"id": person["id"], "name": person["name"]})
    return found or None


class Directory(Protocol):
    """Resolves typed channel and user references; returns None when one does not exist."""

    def channel(self, text: str) -> dict[str, Any] | None:
        """{'id': ..., 'name': ...} for '#name' or an id."""
        ...

    def users(self, text: str) -> list[dict[str, Any]] | None:
        """[{'id': ..., 'name': ...}] for the people named in text; None if any is unknown."""
        ...

    def prepare_channel(self, channel: dict[str, Any]) -> ChannelCheck:
        """Make sure the bot can post, read and share files in the channel (joining it if it may)."""
        ...


class LocalDirectory:
    """The console's directory: any well-formed '#channel' or '@person' exists."""

    def channel(self, text: str) -> dict[str, Any] | None:
        match = _CHANNEL_NAME.match(text.strip().lower())
        if not match:
            return None
        return {"id": f"#{match.group(1)}", "name": match.group(1)}

    def prepare_channel(self, channel: dict[str, Any]) -> ChannelCheck:
        return ChannelCheck(True)

    def users(self, text: str) -> list[dict[str, Any]] | None:
        def find(token: str) -> dict[str, Any] | None:
            match = _USER_NAME.match(token)
            return {"id": f"@{match.group(1)}", "name": match.group(1)} if match else None

        return each_person(text, find)
