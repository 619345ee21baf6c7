"""The shape of a raw answer (text, a number, a list of text, a mapping) checked against its question's type,
before any parser reads it: a policy file can hold any YAML value."""

from __future__ import annotations

import math
from typing import Any

from bot.kernel.questions import Question


class AnswerError(ValueError):
    """The answer is not acceptable; the message is shown to the user as is."""


_SCALARS = (str, int, float)
_LISTED = {"multi", "lines", "users"}  # may come as a list (of text; people as text or {id, name})
_MAPPED = {"channel", "window"}  # may come as a mapping (a policy file's stored form)
MAX_ITEMS = 200
MAX_RAW = 40_000  # characters: the longest message Slack delivers; any answer's own limit is lower


def check_shape(question: Question, raw: Any) -> None:
    """The raw value's type fits the question (whatever way it came: a click, typed text, a policy file, a
    template), so every parser below sees text, a number, a list of text or its own mapping."""
    kind = question.type
    if isinstance(raw, bool) and kind != "yesno":
        raise AnswerError("This needs text or a choice, not true/false.")
    if (isinstance(raw, float) and not math.isfinite(raw)) or (isinstance(raw, int) and abs(raw) >= 10**12):
        raise AnswerError("That is not a number I can use.")
    if isinstance(raw, _SCALARS):
        if isinstance(raw, str) and len(raw) > MAX_RAW:
            raise AnswerError(f"That is {len(raw)} characters; far more than any answer needs.")
        return
    if isinstance(raw, list) and kind in _LISTED:
        if len(raw) > MAX_ITEMS:
            raise AnswerError(f"That is {len(raw)} items; at most {MAX_ITEMS} please.")
        person = kind == "users"
        if all(isinstance(i, str) or (person and isinstance(i, dict)) for i in raw):
            return
        raise AnswerError("Each item should be text" + (" or a person's id and name." if person else "."))
    if isinstance(raw, dict) and kind in _MAPPED:
        return
    if raw is None:
        raise AnswerError("This has no answer; give one, or leave the question out.")
    shape = "a list" if isinstance(raw, list) else "a mapping" if isinstance(raw, dict) else type(raw).__name__
    raise AnswerError(f"This needs {_wanted(kind)}, not {shape}.")


def _wanted(kind: str) -> str:
    if kind in _LISTED:
        return "text or a list of text"
    if kind in _MAPPED:
        return f"text or a {kind} mapping"
    return "a single value (text or a number)"
