"""What the core asks adapters to say. Plain data: no Slack, no terminal, no escaping yet."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.questions import Question


@dataclass(frozen=True)
class Notice:
    """A line of information. tone: info, success, warning, error."""

    text: str
    tone: str = "info"


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


Reply = Notice | QuestionView | SummaryView | ResumeOffer


@dataclass
class Outcome:
    """What one user action produced: the prompt to close, then the replies in order."""

    replies: list[Reply] = field(default_factory=list)
    closed: ClosedPrompt | None = None
    dm_channel: str | None = None

    @property
    def prompt(self) -> QuestionView | SummaryView | None:
        """The last question or summary, whose message becomes the draft's live prompt."""
        for reply in reversed(self.replies):
            if isinstance(reply, QuestionView | SummaryView):
                return reply
        return None
