"""The rules of an out-of-band review: severities, the steps and what follows each, its deadlines, its reminders."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from bot.kernel.durations import describe_duration, parse_duration
from bot.policy.model import TIERS, Policy
from storage.models import OobReview, Reminder

SEVERITIES = tuple(key for key, _name, _definition in TIERS)
DEFAULT_SEVERITY = "critical"
CLOSING = ("deployed", "mitigated", "exception", "not_affected")
LABELS = {
    "open": "Open",
    "triaged": "Triaged",
    "testing": "Testing",
    "deployed": "Deployed",
    "mitigated": "Mitigated",
    "exception": "Exception",
    "not_affected": "Not affected",
}
NEXT = {
    "open": ("triaged", "testing", *CLOSING),
    "triaged": ("testing", *CLOSING),
    "testing": CLOSING,
}
ESCALATE_AFTER = timedelta(minutes=30)
MAX_TITLE = 200
_CVE = re.compile(r"\bcve-(\d{4})-(\d{4,})\b", re.IGNORECASE)


def deadlines(policy: Policy, severity: str, opened: datetime) -> tuple[datetime, datetime]:
    """(triage due, deploy due) for a review of this severity opened at `opened`."""
    triage = parse_duration(policy.value("oob.triage_time") or "4h")
    tier = parse_duration(policy.value(f"sla.{severity}") or "48h")
    if severity == "emergency":
        deploy = min(triage + parse_duration(policy.value("oob.deploy_time") or "44h"), tier)
    else:
        deploy = tier
    return opened + triage, opened + max(deploy, triage)


def reminder_plan(review: OobReview, stage: str, opened: datetime, due: datetime) -> list[tuple[str, datetime]]:
    """(kind, due) of one stage's reminders: before, at, and the escalation past the deadline."""
    lead = min(max((due - opened) / 4, timedelta(hours=1)), timedelta(hours=24))
    plan = [(f"{stage}:due", due), (f"{stage}:escalate", due + ESCALATE_AFTER)]
    plan.append((f"{stage}:escalate-dm", due + ESCALATE_AFTER))
    if due - lead > opened:
        plan.insert(0, (f"{stage}:before", due - lead))
    return plan


def parse_open(text: str) -> tuple[str, str, bool]:
    """'acme CVE-2026-1234 emergency' -> ('acme CVE-2026-1234', 'emergency', True): the severity is optional."""
    words = text.split()
    if words and words[-1].casefold() in SEVERITIES:
        return " ".join(words[:-1]), words[-1].casefold(), True
    return text.strip(), DEFAULT_SEVERITY, False


def clean_title(title: str) -> str:
    title = " ".join(title.split())[:MAX_TITLE]
    return _CVE.sub(lambda m: f"CVE-{m.group(1)}-{m.group(2)}", title)


def ledger_row(review: OobReview, kind: str, due: datetime, now: datetime, deadline: datetime) -> Reminder:
    """A ledger row about this review (subject "oob")."""
    return Reminder(
        client_id=review.client_id,
        version=review.version,
        subject="oob",
        subject_id=review.id,
        group_name="out-of-band",
        occurrence=f"oob:{review.id}",
        kind=kind,
        due_at=due,
        window_start=now,
        window_end=deadline,
    )


def words(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    if minutes < 60:
        return f"{max(minutes, 1)} min"
    return describe_duration(
        timedelta(hours=round(minutes / 60)) if minutes < 72 * 60 else timedelta(days=round(minutes / 1440))
    )
