"""Jinja2 environments, one per output format, each escaping every value for its format.

Markdown is the canonical form (console, files, git); Slack mrkdwn has its own environment; HTML is
the Markdown rendered by markdown-it-py with raw HTML disabled, inside an autoescaped page template.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markdown_it import MarkdownIt

from bot.kernel.escaping import mrkdwn

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"  # the top-level templates/, shipped in the wheel
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|&~#])")


class Safe(str):
    """Text already formatted for the environment's format: not escaped again."""


def markdown_escape(text: str) -> str:
    """Escape text for Markdown: one line, every character that could start markup backslashed."""
    return _MD_SPECIAL.sub(r"\\\1", " ".join(str(text).split()))


class MarkdownFormat:
    name = "md"

    def escape(self, text: Any) -> str:
        return markdown_escape("" if text is None else str(text))

    def b(self, text: Any) -> Safe:
        return Safe(f"**{self.escape(text)}**")

    def bullets(self, items: Iterable[Any]) -> Safe:
        return Safe("\n".join(f"- {self.escape(item)}" for item in items) or "- None")

    def table(self, headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> Safe:
        lines = ["| " + " | ".join(self.escape(h) for h in headers) + " |", "|" + "---|" * len(headers)]
        lines += ["| " + " | ".join(self.escape(c) for c in row) + " |" for row in rows]
        return Safe("\n".join(lines))


class MrkdwnFormat:
    name = "mrkdwn"

    def escape(self, text: Any) -> str:
        return mrkdwn(" ".join(("" if text is None else str(text)).split()))

    def b(self, text: Any) -> Safe:
        return Safe(f"*{self.escape(text)}*")

    def bullets(self, items: Iterable[Any]) -> Safe:
        return Safe("\n".join(f"• {self.escape(item)}" for item in items) or "• None")

    def table(self, headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> Safe:
        lines = []
        for row in rows:
            first, *rest = [self.escape(c) for c in row]
            lines.append(f"• *{first}*" + ("" if not rest else ": " + " · ".join(rest)))
        return Safe("\n".join(lines))


FORMATS = {"md": MarkdownFormat(), "mrkdwn": MrkdwnFormat()}


@lru_cache(maxsize=4)
def environment(format_name: str) -> Environment:
    """The environment for one format; values are escaped for it unless they are Safe."""
    fmt = FORMATS[format_name]

    def finalize(value: Any) -> str:
        if isinstance(value, Safe):
            return value
        return fmt.escape(value)

    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=False,  # mrkdwn and Markdown are not HTML; `finalize` escapes for the real format
        finalize=finalize,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )
    env.globals["fmt"] = fmt
    env.filters["window_line"] = _window_line
    env.filters["revision_row"] = _revision_row
    env.filters["report_window"] = _report_window
    env.filters["tally_row"] = _tally_row
    env.filters["overdue_row"] = _overdue_row
    return env


def _report_window(window: Any) -> list[str]:
    """A report's window tuple (start, group, local start, state, outcome) as a table row."""
    _start, group, local_start, state, outcome = window
    devices = outcome.devices if outcome is not None and outcome.status == "failures" else ""
    updates = outcome.updates if outcome is not None and outcome.status == "failures" else ""
    return [local_start, group, state, devices or "-", updates or "-"]


def _tally_row(line: Any) -> list[str]:
    """A report's (name, tally) of measured figures as a table row."""
    name, tally = line
    share = "-" if tally.share is None else f"{100 * tally.share:.0f}%"
    return [
        str(name).title() if name.islower() else name,
        str(tally.due),
        str(tally.on_time),
        share,
        tally.mean,
        tally.median,
    ]


def _overdue_row(line: Any) -> list[str]:
    return [line.device, line.group, line.update, line.severity, str(line.days)]


def _window_line(occurrence: Any, local: Any) -> str:
    """'Servers: Sun 13 Dec 2026 22:00 EST to 02:00' (local is the document's time formatter)."""
    return f"{occurrence.group}: {local(occurrence.start)} to {local(occurrence.end, '%H:%M')}"


def _revision_row(revision: Any, local: Any) -> list[str]:
    return [f"v{revision.version}", local(revision.published_at, "%d %b %Y %H:%M %Z"), revision.published_by]


@lru_cache(maxsize=1)
def html_environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
    )


@lru_cache(maxsize=1)
def _markdown() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")


def markdown_to_html(text: str) -> str:
    """Markdown to HTML with any raw HTML in it shown as text."""
    return _markdown().render(text)
