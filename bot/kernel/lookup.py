"""Finding a client by the words a tech typed: its full name, or an unambiguous start of it, or its slug.

`resolve_client` is the one place that decides which client the words name and, when none does, says so in
words (`ClientMatch.problem`): unknown, with the closest names, or which of several it could be.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from sqlmodel import Session, col, select

from bot.kernel.clients import ClientNameError, client_key
from storage.models import Client

MAX_NAME_WORDS = 6
MIN_PREFIX = 2  # characters typed before a start of a name counts
MAX_CANDIDATES = 5


def slug_of(key: str) -> str:
    """'acme corp.' -> 'acme-corp': how a name is written as one word."""
    return re.sub(r"[\W_]+", "-", key).strip("-")


@dataclass(frozen=True)
class ClientMatch:
    """The client found (with the words after its name), or why none was: the closest names, or the several
    clients the words could mean."""

    client: Client | None
    rest: str
    typed: str = ""
    suggestions: tuple[str, ...] = ()
    candidates: tuple[str, ...] = ()

    @property
    def problem(self) -> str | None:
        """What to tell the person when no client was found (plain text); None when one was."""
        if self.client is not None:
            return None
        word = self.typed.split()[0] if self.typed.split() else ""
        if not word:
            return "Which client? Add its name, e.g. `/patchpolicy show acme`."
        if self.candidates:
            return f"Several clients start with '{word}': {', '.join(self.candidates)}. Type more of the name."
        hint = f" Did you mean {', '.join(self.suggestions)}?" if self.suggestions else ""
        return f"I don't know a client called '{word}'.{hint}"


def resolve_client(session: Session, text: str, kind: str | None = None) -> ClientMatch:
    """The client the leading words name: the longest full name first ('acme corp reboot' -> Acme Corp +
    'reboot'), else the one client whose name (or slug) starts with them ('acme reboot' -> Acme Corp when no
    other client starts with 'acme'). `kind` limits the search to clients or templates."""
    words = text.split()
    kinds = [Client.kind == kind] if kind is not None else []
    typed: list[tuple[str, str]] = []  # (key of the leading words, the words after them), longest first
    for count in range(min(len(words), MAX_NAME_WORDS), 0, -1):
        try:
            typed.append((client_key(" ".join(words[:count])), " ".join(words[count:])))
        except ClientNameError:
            continue
    if typed:
        exact = session.exec(select(Client).where(col(Client.key).in_([key for key, _ in typed]), *kinds)).all()
        if exact:
            best = max(exact, key=lambda c: len(c.key))
            return ClientMatch(best, dict(typed)[best.key], text)
        # only the keys and names are read to match a start of a name; the one client found is loaded after
        known = session.exec(select(Client.id, Client.key, Client.name).where(*kinds)).all()  # type: ignore[call-overload]
        for key, rest in typed:
            if len(key) < MIN_PREFIX:
                continue
            started = [row for row in known if row.key.startswith(key) or slug_of(row.key).startswith(slug_of(key))]
            if len(started) == 1:
                return ClientMatch(session.get(Client, started[0].id), rest, text)
            if started:
                names = tuple(sorted(row.name for row in started))[:MAX_CANDIDATES]
                return ClientMatch(None, "", text, candidates=names)
    return ClientMatch(None, "", text, suggestions=suggest_clients(session, text))


def suggest_clients(session: Session, text: str, limit: int = 3) -> tuple[str, ...]:
    """The client names closest to what was typed (first word, or the whole text)."""
    names = {c.key: c.name for c in session.exec(select(Client.key, Client.name)).all()}  # type: ignore[call-overload]
    keys = list(names)
    typed = " ".join(text.split()).casefold()
    tries = [typed, typed.split(" ")[0]] if typed else []
    found: list[str] = []
    for attempt in tries:
        for key in difflib.get_close_matches(attempt, keys, n=limit, cutoff=0.6):
            if names[key] not in found:
                found.append(names[key])
    return tuple(found[:limit])
