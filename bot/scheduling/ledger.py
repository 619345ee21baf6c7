"""The reminder ledger's parts as the dispatcher and the adapters see them: a window reminder, the poster that says
it, the subjects that own other reminders, and what a dispatch run did."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from storage.models import Reminder


@dataclass(frozen=True)
class ReminderView:
    """One reminder, ready to be said."""

    reminder_id: int
    kind: str  # lead:<duration>, start, close
    client_id: int
    client_name: str
    group: str
    channel_id: str
    start: datetime
    end: datetime
    local_start: str
    local_end: str
    reboot: str
    deploy_by: str
    notice: str
    checkin: bool
    owner_ids: tuple[str, ...] = ()
    device_data: bool = False  # the client has RMM data: the check-in points to what it shows


class Poster(Protocol):
    """Says reminders somewhere (Slack, the console). Raises on failure."""

    def post(self, view: Any) -> tuple[str, str]:
        """Post a ReminderView (or a subject's view) and return (channel, message ts)."""
        ...

    def find_posted(self, view: Any, since: datetime) -> tuple[str, str] | None:
        """(channel, ts) if this reminder was already posted after `since` (a crash after posting)."""
        ...


class Subject(Protocol):
    """Reminders about something other than a patch window (reviews, exceptions, reports), same ledger."""

    def skip_reason(self, row: Reminder, now: datetime) -> str | None:
        """Why this due reminder should not be said any more, or None."""
        ...

    def reminder(self, row: Reminder) -> Any | None:
        """The view to post, or None when there is nowhere to post it."""
        ...


@dataclass
class DispatchReport:
    sent: int = 0
    skipped: int = 0
    failed: int = 0
