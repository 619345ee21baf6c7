"""Who is acting: the person, as the adapter knows them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Actor:
    """The person acting, as the adapter knows them."""

    id: str
    name: str
    timezone: str | None = None
    editor: bool = True  # may create, edit, publish and pause; reading is for everyone
