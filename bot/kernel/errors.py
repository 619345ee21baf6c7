"""An exception in one short line for a log: its type and the first line of its message."""

from __future__ import annotations


def short(err: BaseException) -> str:
    return f"{type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}"[:300]
