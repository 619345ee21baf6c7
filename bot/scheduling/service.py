"""Schedule commands: the next windows, an iCalendar file, pausing and archiving a client's reminders."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event
from sqlmodel import col, select

from bot.kernel.clock import Clock
from bot.kernel.lookup import resolve_client
from bot.kernel.questions import slug
from bot.kernel.versions import latest_version
from bot.kernel.views import ExportFile, Notice, TableView
from bot.policy.model import Policy
from bot.policy.windows import occurrences
from bot.scheduling.reminders import Reminders
from bot.sop.document import local_formatter
from storage.db import Database
from storage.models import Client, Reminder

FOREVER = datetime(3000, 1, 1, tzinfo=UTC)
ICS_DAYS = 365


class Schedule:
    """What is coming up, as a list or a calendar; and the switches that silence a client."""

    def __init__(self, db: Database, clock: Clock, reminders: Reminders) -> None:
        self.db = db
        self.clock = clock
        self.reminders = reminders

    def windows(self, text: str) -> TableView | ExportFile | Notice:
        """`windows`: every client's windows in the next 7 days; `windows <client> [ics]`: one client's."""
        words = text.split()
        as_ics = bool(words) and words[-1].casefold() == "ics"
        if as_ics:
            words = words[:-1]
        if not words:
            return self._all_clients()
        with self.db.read() as session:
            match = resolve_client(session, " ".join(words))
            if match.client is None:
                return Notice(match.problem or "", "error")
            row = latest_version(session, match.client.id)
            if row is None:
                return Notice(f"{match.client.name} has no published SOP, so no windows yet.")
        policy = Policy(row.answers)
        now = self.clock.now()
        if as_ics:
            return ExportFile(
                f"{slug(policy.name)}-patch-windows.ics",
                f"{policy.name} patch windows",
                calendar(policy, match.client.id, now),
            )
        local = local_formatter(policy.timezone)
        rows = tuple((o.group, local(o.start), local(o.end, "%a %H:%M %Z")) for o in policy.next_windows(now, 3))
        paused = self._paused_note(match.client, now)
        return TableView(f"{policy.name}: next patch windows", ("Group", "Starts", "Ends"), rows, paused)

    def _all_clients(self) -> TableView:
        now = self.clock.now()
        with self.db.read() as session:
            found = session.exec(
                select(Reminder, Client)
                .join(Client, col(Client.id) == col(Reminder.client_id))
                .where(
                    Reminder.kind == "start",
                    col(Reminder.status).in_(["planned", "sent", "claimed"]),
                    Reminder.window_start >= now,
                    Reminder.window_start < now + timedelta(days=7),
                )
                .order_by(col(Reminder.window_start))
            ).all()
            zones = {}
            rows = []
            for reminder, client in found:
                if client.id not in zones:
                    zones[client.id] = local_formatter(client.timezone or "UTC")
                local = zones[client.id]
                rows.append((client.name, reminder.group_name, local(reminder.window_start)))
        return TableView(
            "Patch windows in the next 7 days",
            ("Client", "Group", "Starts"),
            tuple(rows),
            None if rows else "No windows in the next 7 days.",
        )

    def pause(self, text: str) -> Notice:
        """`pause <client> [until YYYY-MM-DD]`: no reminders until then (or until unpaused)."""
        name, _, until_text = text.partition(" until ")
        now = self.clock.now()
        with self.db.write() as session:
            match = resolve_client(session, name)
            if match.client is None:
                return Notice(match.problem or "", "error")
            client = match.client
            until = FOREVER
            if until_text.strip():
                try:
                    day = date.fromisoformat(until_text.strip())
                except ValueError:
                    return Notice(
                        "Give the date as YYYY-MM-DD, e.g. `/patchpolicy pause acme until 2027-01-04`.", "error"
                    )
                until = datetime.combine(day, time(0, 0), ZoneInfo(client.timezone or "UTC"))
                if until <= now:
                    return Notice("That date has passed; pick a later one.", "error")
            client.paused_until = until
            session.add(client)
        when = "until you unpause them" if until == FOREVER else f"until {until_text.strip()}"
        return Notice(f"Reminders for {client.name} are paused {when}.", "success")

    def unpause(self, text: str) -> Notice:
        with self.db.write() as session:
            match = resolve_client(session, text)
            if match.client is None:
                return Notice(match.problem or "", "error")
            match.client.paused_until = None
            session.add(match.client)
        return Notice(f"Reminders for {match.client.name} are on again.", "success")

    def archive(self, text: str) -> Notice:
        """Stop a client's reminders for good; its SOP versions are kept."""
        with self.db.write() as session:
            match = resolve_client(session, text)
            if match.client is None:
                return Notice(match.problem or "", "error")
            match.client.archived_at = self.clock.now()
            session.add(match.client)
            cancelled = self.reminders.cancel_client(session, match.client.id, "client archived")
        return Notice(
            f"{match.client.name} is archived: {cancelled} planned reminders cancelled. Its SOP versions are kept.",
            "success",
        )

    @staticmethod
    def _paused_note(client: Client, now: datetime) -> str | None:
        if client.archived_at is not None:
            return "This client is archived: no reminders are sent."
        if client.paused_until is not None and client.paused_until > now:
            return "Reminders are paused."
        return None


def calendar(policy: Policy, client_id: int, now: datetime, past_days: int = 0, feed: bool = False) -> str:
    """An iCalendar file of the next year's windows (UTC times, so every calendar app agrees), from `past_days`
    ago. A feed (a subscribed calendar) asks calendar apps to fetch it again every few hours."""
    cal = Calendar()
    cal.add("prodid", "-//PatchPolicy//patch windows//EN")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", f"{policy.name} patch windows")
    if feed:
        cal.add("refresh-interval", timedelta(hours=6), parameters={"VALUE": "DURATION"})
        cal.add("x-published-ttl", "PT6H")
    for group in policy.groups:
        if group.rule is None:
            continue
        for occ in occurrences(
            group.name,
            group.rule,
            policy.timezone,
            now - timedelta(days=past_days),
            now + timedelta(days=ICS_DAYS),
            list(group.blackouts),
        ):
            event = Event()
            event.add("uid", f"{client_id}-{occ.key}@patchpolicy")
            event.add("dtstamp", now.astimezone(UTC))
            event.add("dtstart", occ.start.astimezone(UTC))
            event.add("dtend", occ.end.astimezone(UTC))
            event.add("summary", f"{policy.name}: {group.name} patch window")
            event.add("description", f"Reboot: {group.reboot}. Window rule: {group.rule.describe()}.")
            cal.add_component(event)
    return cal.to_ical().decode()
