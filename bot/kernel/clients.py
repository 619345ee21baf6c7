"""Client names and keys: 'Acme' and ' acme ' are the same client."""

from __future__ import annotations

import re
import unicodedata

MAX_NAME = 80
# Unicode format characters that reorder or hide text: refused in names (a right-to-left override makes
# "Acme" look like something else). Other format characters, such as the joiner in a family emoji, are fine.
BIDI_CONTROLS = frozenset("\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u061c")


class ClientNameError(ValueError):
    """Not a usable client name; the message says why."""


def clean_name(text: str) -> str:
    """A display name: trimmed, inner spaces collapsed, no control characters."""
    name = re.sub(r"\s+", " ", text).strip()
    if not name:
        raise ClientNameError("Give the client's name, e.g. `/patchpolicy new Acme`.")
    if len(name) > MAX_NAME:
        raise ClientNameError(f"A client name can be at most {MAX_NAME} characters.")
    if any(ch in BIDI_CONTROLS or unicodedata.category(ch) in {"Cc", "Cs", "Co", "Cn"} for ch in name):
        raise ClientNameError("A client name can't contain control or text-direction characters.")
    if not any(ch.isalnum() for ch in name):
        raise ClientNameError("A client name needs at least one letter or digit.")
    return name


def client_key(name: str) -> str:
    """The case-insensitive unique key of a client name."""
    return unicodedata.normalize("NFKC", clean_name(name)).casefold()


def file_stem(name: str, client_id: int | None) -> str:
    """A client's name for its files, in ASCII ('Café Ltd' -> 'cafe-ltd'); with its id when letters are lost in
    ASCII, so two non-Latin names never write the same file ('Акме' -> 'client-7')."""
    decomposed = unicodedata.normalize("NFKD", name)
    stem = re.sub(r"[^a-z0-9]+", "-", decomposed.encode("ascii", "ignore").decode().casefold()).strip("-")
    lost = any(ch.isalnum() and not ch.isascii() for ch in decomposed if not unicodedata.combining(ch))
    return f"{stem or 'client'}-{client_id}" if lost or not stem else stem
