"""What a review looks like to the adapters: the checklist, a reminder about it, the result of a step."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.oob.rules import CLOSING, NEXT


@dataclass(frozen=True)
class ReviewStep:
    status: str
    actor_name: str
    at_local: str
    note: str


@dataclass(frozen=True)
class ReviewView:
    """A review as its checklist message shows it."""

    review_id: int
    step: int
    client_id: int
    client_name: str
    channel_id: str | None
    message_ts: str | None
    title: str
    severity: str
    status: str
    triage_due: datetime
    triage_due_local: str
    deploy_due: datetime
    deploy_due_local: str
    triaged: bool
    steps: tuple[ReviewStep, ...]
    procedure: str  # the SOP's out-of-band section, in the adapter's format
    mitigation: str = ""
    mitigation_remove_by_local: str = ""
    facts: str = ""  # plain text from the feed that opened it (CISA's words), for the adapter to escape

    @property
    def closed(self) -> bool:
        return self.status in CLOSING

    @property
    def next_statuses(self) -> tuple[str, ...]:
        return NEXT.get(self.status, ())


@dataclass(frozen=True)
class ReviewReminderView:
    """One reminder about a review: in its channel, or (escalations) in the SOP owner's DM."""

    reminder_id: int
    kind: str  # "<stage>:<before|due|escalate|escalate-dm>"
    channel_id: str | None
    dm_user: str | None
    owner_ids: tuple[str, ...]
    review: ReviewView

    @property
    def stage(self) -> str:
        return self.kind.split(":")[0]

    @property
    def moment(self) -> str:
        return self.kind.split(":")[1]


@dataclass(frozen=True)
class ReviewOpened:
    """A review a feed opened: its checklist, posted through the reminder ledger (so once, by any replica)."""

    reminder_id: int
    review: ReviewView

    @property
    def channel_id(self) -> str | None:
        return self.review.channel_id


@dataclass(frozen=True)
class Moved:
    """The result of a status button: the review as it is now, and whether this click changed it."""

    view: ReviewView
    changed: bool
    actor_name: str
