"""Who is acting: the person, as the adapter knows them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Actor:
    """The person acting, as the adapter knows them."""

    id: str
    name: str
    timezone: str | None = None
    editor: bool = False  # may create, edit, publish and pause (the adapter decides); reading is for everyone
