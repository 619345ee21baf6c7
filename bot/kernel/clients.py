"""Client names and keys: 'Acme' and ' acme ' are the same client."""

from __future__ import annotations

import re
import unicodedata

MAX_NAME = 80


class ClientNameError(ValueError):
    """Not a usable client name; the message says why."""


def clean_name(text: str) -> str:
    """A display name: trimmed, inner spaces collapsed, no control characters."""
    name = re.sub(r"\s+", " ", text).strip()
    if not name:
        raise ClientNameError("Give the client's name, e.g. `/patchpolicy new Acme`.")
    if len(name) > MAX_NAME:
        raise ClientNameError(f"A client name can be at most {MAX_NAME} characters.")
    if any(unicodedata.category(ch).startswith("C") for ch in name):
        raise ClientNameError("A client name can't contain control characters.")
    if not any(ch.isalnum() for ch in name):
        raise ClientNameError("A client name needs at least one letter or digit.")
    return name


def client_key(name: str) -> str:
    """The case-insensitive unique key of a client name."""
    return unicodedata.normalize("NFKC", clean_name(name)).casefold()
