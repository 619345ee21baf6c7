"""What the feed watch asks the adapters to say: a proposal in a client's channel, a question to an SOP owner,
the Patch Tuesday digest, and each feed's last read."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class KevFacts:
    """A KEV entry as people read it."""

    cve_id: str
    name: str
    vendor: str
    product: str
    required_action: str
    added: str  # 3 Dec 2026
    due: str  # CISA's due date, or ""
    ransomware: str  # Known, Unknown

    def lines(self) -> list[str]:
        """Plain text (the adapter escapes it): what CISA says about the entry."""
        lines = [f"CISA KEV, added {self.added}: {self.name} ({self.vendor} {self.product})"]
        if self.required_action:
            lines.append(f"Required action: {self.required_action}")
        due = f"CISA due date: {self.due} · " if self.due else ""
        lines.append(f"{due}Known ransomware use: {self.ransomware}")
        return lines


@dataclass(frozen=True)
class KevProposal:
    """A client's device data names a new KEV entry and its policy says to propose, not open, the review."""

    reminder_id: int
    source: str
    client_id: int
    client_name: str
    channel_id: str
    facts: KevFacts
    evidence: str  # "3 devices missing it: PC-1, PC-2, PC-3"
    deploy_by_local: str


@dataclass(frozen=True)
class KevQuestion:
    """A new KEV entry that seems, by vendor and product name only, to touch some of one owner's clients."""

    reminder_id: int
    source: str
    owner_id: str
    facts: KevFacts
    clients: tuple[tuple[int, str, str], ...]  # (client id, name, what in its policy matched), still undecided


@dataclass(frozen=True)
class ExploitedCve:
    cve: str
    title: str
    severity: str
    touches: str  # "on 3 devices", "Windows servers (declared)", "" when nothing says it does


@dataclass(frozen=True)
class GroupWindow:
    group: str
    start: datetime
    local: str  # Wed 09 Dec 20:00
    in_time: bool  # ends before an exploited update's deadline


@dataclass(frozen=True)
class TuesdayDigest:
    """One client's Patch Tuesday digest."""

    reminder_id: int
    source: str  # msrc:2026-Dec
    client_id: int
    client_name: str
    channel_id: str
    title: str  # December 2026 Security Updates
    total: int
    counts: tuple[tuple[str, int], ...]  # per Microsoft severity, highest first
    exploited: tuple[ExploitedCve, ...]
    windows: tuple[GroupWindow, ...]
    zone: str
    deadline_local: str  # when an exploited update is due under the policy's Emergency tier
    basis: str  # how "touches" was found: the device data, or the policy's device classes
    offer_review: bool  # an exploited update the windows cannot meet: offer the out-of-band review

    @property
    def late_groups(self) -> tuple[str, ...]:
        return tuple(w.group for w in self.windows if not w.in_time)
