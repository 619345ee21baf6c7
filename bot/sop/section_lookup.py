"""Finding the SOP section a few typed words are about: by title, id or keyword, with typos tolerated."""

from __future__ import annotations

import difflib

from bot.sop.document import SECTIONS, SectionSpec


def find_section(words: str) -> SectionSpec | None:
    """The section the words are about, by title, id or keyword, with typos tolerated."""
    query = " ".join(words.casefold().replace("-", " ").split())
    if not query:
        return None
    best: tuple[float, SectionSpec] | None = None
    for spec in SECTIONS:
        phrases = [spec.id.replace("-", " "), spec.title.casefold(), *spec.keywords]
        score = max(_similarity(query, phrase) for phrase in phrases)
        if best is None or score > best[0]:
            best = (score, spec)
    return best[1] if best and best[0] >= 0.75 else None


def _similarity(query: str, phrase: str) -> float:
    """1.0 for an exact phrase or every query word in the phrase; else the closest word-by-word match."""
    if query == phrase or query in phrase.split(", "):
        return 1.0
    phrase_words = phrase.replace(",", "").split()
    query_words = query.split()
    if all(w in phrase_words for w in query_words):
        return 0.95
    scores = [max(difflib.SequenceMatcher(None, w, p).ratio() for p in phrase_words) for w in query_words]
    whole = difflib.SequenceMatcher(None, query, phrase).ratio()
    return max(whole, sum(scores) / len(scores) - 0.05)
