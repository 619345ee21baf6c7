"""Planning a client's window reminders from its published version: leads, start, close check-in, chase."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session, select

from bot.kernel.durations import parse_duration
from bot.policy.model import policy_from
from bot.policy.windows import occurrences
from storage.models import Client, PolicyVersion, Reminder

HORIZON = timedelta(days=45)
CHASE_AFTER = timedelta(hours=12)  # an unanswered close check-in is chased once, by DM to the SOP owner
MAX_WINDOW = timedelta(hours=24)


def plan_client(session: Session, client: Client, version: PolicyVersion, now: datetime) -> int:
    """Bring the client's planned reminders in line with this version, up to HORIZON ahead."""
    policy = policy_from(version.answers)
    wanted: dict[tuple[str, str], tuple[str, datetime, datetime, datetime]] = {}
    if client.archived_at is None:
        leads = [(f"lead:{lead}", parse_duration(lead)) for lead in policy.value("windows.reminder_leads") or []]
        longest = max((d for _, d in leads), default=timedelta(0))
        for group in policy.groups:
            if group.rule is None:
                continue
            # from a day back: a window under way now still has its close check-in ahead
            found = occurrences(
                group.name,
                group.rule,
                policy.timezone,
                now - MAX_WINDOW,
                now + HORIZON + longest,
                list(group.blackouts),
            )
            for occ in found:
                kinds = [(kind, occ.start - lead) for kind, lead in leads] + [("start", occ.start)]
                if policy.value("windows.close_checkin"):
                    kinds += [("close", occ.end), ("chase", occ.end + CHASE_AFTER)]
                for kind, due in kinds:
                    if now <= due <= now + HORIZON:
                        wanted[(occ.key, kind)] = (group.name, due, occ.start, occ.end)
    rows = session.exec(
        select(Reminder).where(Reminder.client_id == client.id, Reminder.subject == "window", Reminder.due_at >= now)
    ).all()
    existing = {(r.occurrence, r.kind): r for r in rows}
    for key, row in existing.items():
        if row.status == "planned" and key not in wanted:
            row.status, row.note = "cancelled", f"not in v{version.version}"
            session.add(row)
        elif row.status == "planned" and row.version != version.version:
            row.version = version.version
            session.add(row)
    added = [
        Reminder(
            client_id=client.id,
            version=version.version,
            group_name=group,
            occurrence=occurrence,
            kind=kind,
            due_at=due,
            window_start=start,
            window_end=end,
        )
        for (occurrence, kind), (group, due, start, end) in wanted.items()
        if (occurrence, kind) not in existing
    ]
    session.add_all(added)
    session.flush()
    return len(added)


def plan_once(
    session: Session,
    client: Client,
    version: PolicyVersion,
    subject: str,
    occurrence: str,
    kind: str,
    due: datetime,
    span: tuple[datetime, datetime],
    label: str,
) -> int:
    """Add a reminder of another subject (a report, a review, a digest) unless the ledger already has it: 1 or 0."""
    exists = session.exec(
        select(Reminder.id).where(
            Reminder.client_id == client.id, Reminder.occurrence == occurrence, Reminder.kind == kind
        )
    ).first()
    if exists is not None:
        return 0
    session.add(
        Reminder(
            client_id=client.id,
            version=version.version,
            subject=subject,
            group_name=label,
            occurrence=occurrence,
            kind=kind,
            due_at=due,
            window_start=span[0],
            window_end=span[1],
        )
    )
    return 1
