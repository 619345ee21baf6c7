"""Finding a client by the words a tech typed, and the SOP section those words are about."""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from sqlmodel import Session, col, select

from bot.kernel.clients import ClientNameError, client_key
from storage.models import Client

MAX_NAME_WORDS = 6


@dataclass(frozen=True)
class ClientMatch:
    """The client found (with the words after its name), or the closest names when none matched."""

    client: Client | None
    rest: str
    suggestions: tuple[str, ...] = ()


def find_client(session: Session, text: str) -> ClientMatch:
    """The longest leading run of words that is a client's name: 'acme corp reboot' -> Acme Corp + 'reboot'."""
    words = text.split()
    candidates: dict[str, str] = {}
    for count in range(min(len(words), MAX_NAME_WORDS), 0, -1):
        try:
            candidates[client_key(" ".join(words[:count]))] = " ".join(words[count:])
        except ClientNameError:
            continue
    if candidates:
        found = session.exec(select(Client).where(col(Client.key).in_(list(candidates)))).all()
        if found:
            best = max(found, key=lambda c: len(c.key))
            return ClientMatch(best, candidates[best.key])
    return ClientMatch(None, "", suggest_clients(session, text))


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
        prefixed = [names[k] for k in keys if attempt and k.startswith(attempt)][:limit]
        found += [n for n in prefixed if n not in found]
    return tuple(found[:limit])
