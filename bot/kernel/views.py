"""What the core asks adapters to say. Plain data: no Slack, no terminal, no escaping yet."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from bot.kernel.questions import Question


@dataclass(frozen=True)
class Notice:
    """A line of information. tone: info, success, warning, error."""

    text: str
    tone: str = "info"
    link: tuple[str, str] | None = None  # (url, label), shown after the text
    mentions: tuple[str, ...] = ()  # people (U...) and user groups (S...) to name after the text


@dataclass(frozen=True)
class QuestionView:
    """One question, ready to be asked."""

    draft_id: int
    seq: int
    client_name: str
    section_title: str
    position: int
    total: int
    question: Question
    recommended: Any = None
    recommended_label: str | None = None
    current: Any = None
    current_label: str | None = None
    error: str | None = None
    editing: bool = False
    first: bool = False


@dataclass(frozen=True)
class SummaryItem:
    number: int
    question_id: str
    prompt: str
    label: str
    state: str  # answered, skipped, missing


@dataclass(frozen=True)
class SummarySection:
    id: str
    title: str
    items: tuple[SummaryItem, ...]


@dataclass(frozen=True)
class SummaryView:
    """Every answer by section, with Edit and Finish."""

    draft_id: int
    seq: int
    client_name: str
    sections: tuple[SummarySection, ...]
    missing: tuple[SummaryItem, ...] = ()
    finished: bool = False
    compliance: tuple[str, ...] | None = None


@dataclass(frozen=True)
class ResumeOffer:
    """A client already has an open draft: resume it, or start over (its owner only)."""

    draft_id: int
    seq: int
    client_name: str
    owner_id: str
    is_owner: bool
    position: int
    total: int


@dataclass(frozen=True)
class ClosedPrompt:
    """The earlier prompt message, to be rewritten without its buttons."""

    channel: str
    ts: str
    title: str
    outcome: str


@dataclass(frozen=True)
class PublishOffer:
    """A finished draft that can be published."""

    draft_id: int
    client_name: str
    channel_name: str | None


@dataclass(frozen=True)
class WindowLine:
    group: str
    start: datetime
    end: datetime
    local: str  # e.g. "Sun 13 Dec 2026 22:00 EST"


@dataclass(frozen=True)
class Overview:
    """The compact face of a published SOP."""

    client_id: int
    client_name: str
    version: int
    owner: str
    approver: str
    effective: str
    next_review: str
    published_by: str
    windows: tuple[WindowLine, ...]
    tiers: tuple[tuple[str, str, str], ...]
    compliance: tuple[str, ...] | None
    permalink: str | None = None
    template_note: str | None = None  # how a client's answers stand against its template
    is_template: bool = False


@dataclass(frozen=True)
class SectionLink:
    id: str
    title: str


@dataclass(frozen=True)
class ShowView:
    """A published SOP on demand: the overview, or one section (body in the adapter's format)."""

    overview: Overview
    sections: tuple[SectionLink, ...]
    section: SectionLink | None = None
    body: str | None = None


@dataclass(frozen=True)
class Published:
    """A version that was just stored, with everything needed to post it."""

    version_id: int
    overview: Overview
    channel_id: str | None
    channel_name: str | None
    document: tuple[tuple[str, str], ...]  # (title, body) per section, for the chat format
    markdown: str
    filename: str
    message_ts: str | None = None  # the overview, when an earlier post got that far
    thread_posted: bool = False
    file_posted: bool = False


@dataclass(frozen=True)
class ExportFile:
    filename: str
    title: str
    content: str


@dataclass(frozen=True)
class TableView:
    """A titled list of rows: clients, versions, differences."""

    title: str
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    footer: str | None = None


@dataclass(frozen=True)
class HomeView:
    drafts: tuple[tuple[int, int, str, str], ...]  # draft id, seq, client name, progress
    clients: TableView
    client_ids: tuple[int, ...]


T = TypeVar("T")
Reply = Notice | QuestionView | SummaryView | ResumeOffer | PublishOffer | ShowView | TableView | ExportFile


@dataclass
class Outcome:
    """What one user action produced: the prompt to close, then the replies in order."""

    replies: list[Reply] = field(default_factory=list)
    closed: ClosedPrompt | None = None
    published: Published | None = None
    # What a capability hands the adapter to act on: review checklists to post, a form to open, a report file.
    attachments: list[Any] = field(default_factory=list)

    def attached(self, kind: type[T]) -> list[T]:
        """The attachments of one kind, in order."""
        return [a for a in self.attachments if isinstance(a, kind)]

    @property
    def prompt(self) -> QuestionView | SummaryView | None:
        """The last question or summary, whose message becomes the draft's live prompt."""
        for reply in reversed(self.replies):
            if isinstance(reply, QuestionView | SummaryView):
                return reply
        return None
