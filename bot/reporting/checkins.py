"""Window check-ins: what the team reports when a window closes, stored once per occurrence."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import select

from bot.kernel.actor import Actor
from bot.kernel.clock import Clock
from bot.kernel.views import Notice
from bot.publishing.publisher import Publisher
from storage.db import Database
from storage.models import Client, PolicyVersion, Reminder, WindowOutcome

MAX_FIELD = 2000


@dataclass(frozen=True)
class CheckinResult:
    client_name: str
    group: str
    status: str  # all_good, failures
    reported_by: str
    devices: str
    updates: str
    notes: str
    steps: str  # the SOP's failed-patch and rollback section, in the adapter's format
    changed: bool  # False when the same report was already stored (a double click)


class Checkins:
    def __init__(self, db: Database, clock: Clock, publisher: Publisher) -> None:
        self.db = db
        self.clock = clock
        self.publisher = publisher

    def record(
        self,
        reminder_id: int,
        actor: Actor,
        status: str,
        devices: str = "",
        updates: str = "",
        notes: str = "",
        format_name: str = "mrkdwn",
    ) -> CheckinResult | Notice:
        """Store the outcome of the window this close reminder was about."""
        if status not in {"all_good", "failures"}:
            return Notice("Unknown check-in.", "error")
        devices, updates, notes = (v.strip()[:MAX_FIELD] for v in (devices, updates, notes))
        with self.db.write() as session:
            reminder = session.get(Reminder, reminder_id)
            if reminder is None or reminder.kind != "close":
                return Notice("That check-in is no longer open.", "error")
            client = session.get(Client, reminder.client_id)
            row = session.exec(
                select(WindowOutcome).where(
                    WindowOutcome.client_id == client.id, WindowOutcome.occurrence == reminder.occurrence
                )
            ).first()
            changed = True
            if row is None:
                row = WindowOutcome(
                    client_id=client.id,
                    occurrence=reminder.occurrence,
                    group_name=reminder.group_name,
                    status=status,
                    reported_by=actor.id,
                    reported_at=self.clock.now(),
                )
            elif (row.status, row.devices, row.updates, row.notes) == (status, devices, updates, notes):
                changed = False
            row.status, row.devices, row.updates, row.notes = status, devices, updates, notes
            if changed:
                row.reported_by, row.reported_at = actor.id, self.clock.now()
            session.add(row)
            version = session.exec(
                select(PolicyVersion).where(
                    PolicyVersion.client_id == client.id, PolicyVersion.version == reminder.version
                )
            ).first()
            steps = ""
            if status == "failures" and version is not None:
                steps = self.publisher.document(session, client, version, format_name).section("failures").body
            return CheckinResult(
                client.name, reminder.group_name, status, row.reported_by, devices, updates, notes, steps, changed
            )
