"""Patch exceptions: accepted risks with compensating controls, an approver and an expiry the policy bounds.

An exception lasts until the end of its expiry date in the client's time zone. Longer than the policy's
`exceptions.max_length` needs a second approver (the policy says who). Reminders (ledger subject
"exception") go out 7 days and 1 day before it expires and when it does.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bot.kernel.actor import Actor
from bot.kernel.clock import Clock
from bot.kernel.durations import describe_duration, parse_duration
from bot.kernel.lookup import resolve_client
from bot.kernel.timezones import end_of_local_day, last_local_day
from bot.kernel.versions import latest_version
from bot.kernel.views import Notice, TableView
from bot.oob.reviews import Reviews
from bot.policy.model import Policy
from storage.db import Database
from storage.models import Client, OobReview, PatchException, Reminder

LONGEST = timedelta(days=366)
LEADS = (("expiry:before:7d", timedelta(days=7)), ("expiry:before:1d", timedelta(days=1)))
MAX_TEXT = 2000


@dataclass(frozen=True)
class ExceptionForm:
    """What the exception form needs to know: the client, its limits, and the review it may close."""

    client_id: int
    client_name: str
    max_length: str
    second_approver: str
    approver: str
    review_id: int | None = None
    review_step: int | None = None
    what: str = ""


@dataclass(frozen=True)
class ExceptionView:
    exception_id: int
    client_id: int
    client_name: str
    channel_id: str | None
    what: str
    reason: str
    controls: str
    approver: str
    second_approver: str | None
    expires_local: str
    created_by: str
    review_id: int | None
    just_recorded: bool = True  # False when a resubmitted form found it already stored


@dataclass(frozen=True)
class ExceptionReminderView:
    reminder_id: int
    kind: str  # expiry:before:7d, expiry:before:1d, expiry:due
    channel_id: str
    owner_ids: tuple[str, ...]
    exception: ExceptionView


class Exceptions:
    """Records, lists and reminds about exceptions."""

    def __init__(self, db: Database, clock: Clock, reviews: Reviews) -> None:
        self.db = db
        self.clock = clock
        self.reviews = reviews

    def form(
        self, client_name: str = "", review_id: int | None = None, client_id: int | None = None, what: str = ""
    ) -> ExceptionForm | Notice:
        """The form's defaults for a client (or for the review, or the overdue device, whose button was pressed)."""
        with self.db.read() as session:
            review = session.get(OobReview, review_id) if review_id is not None else None
            if review is not None:
                client = session.get(Client, review.client_id)
            elif client_id is not None and session.get(Client, client_id) is not None:
                client = session.get(Client, client_id)
            else:
                match = resolve_client(session, client_name, kind="client")
                client = match.client
                if client is None:
                    if not client_name.strip():
                        return Notice("Which client? `/patchpolicy exception <client>`.", "error")
                    return Notice(match.problem or "", "error")
            version = latest_version(session, client.id)
            if version is None:
                return Notice(f"{client.name} has no published SOP, so it has no exception rules yet.", "error")
            policy = Policy(version.answers)
            longest = parse_duration(policy.value("exceptions.max_length") or "30d")
            return ExceptionForm(
                client_id=client.id,
                client_name=client.name,
                max_length=describe_duration(longest),
                second_approver=policy.label("exceptions.second_approver"),
                approver=policy.label("exceptions.approver"),
                review_id=review.id if review else None,
                review_step=review.step if review else None,
                what=review.title if review else what[:MAX_TEXT],
            )

    def record(
        self,
        actor: Actor,
        client_id: int,
        fields: dict[str, str],
        expires_on: date | None,
        request_key: str,
        review: tuple[int, int] | None = None,
    ) -> ExceptionView | dict[str, str]:
        """Store the exception, or return {field: problem} for the form. A resubmitted form is stored once."""
        now = self.clock.now()
        text = {k: (fields.get(k) or "").strip()[:MAX_TEXT] for k in ("what", "reason", "controls", "approver")}
        second = (fields.get("second_approver") or "").strip()[:200] or None
        errors = {k: "Required." for k, v in text.items() if not v}
        with self.db.write() as session:
            client = session.get(Client, client_id)
            version = latest_version(session, client_id) if client else None
            if client is None or version is None:
                return {"what": "That client has no published SOP any more."}
            existing = session.exec(select(PatchException).where(PatchException.request_key == request_key)).first()
            if existing is not None:
                return replace(self._view(session, existing), just_recorded=False)
            policy = Policy(version.answers)
            longest = parse_duration(policy.value("exceptions.max_length") or "30d")
            expires = None
            if expires_on is None:
                errors["expires"] = "Pick the date the exception ends."
            else:
                expires = end_of_local_day(expires_on, policy.timezone)
                if expires <= now:
                    errors["expires"] = "The expiry must be in the future."
                elif expires - now > LONGEST:
                    errors["expires"] = "An exception may last a year at most; reassess it then."
                elif expires - now > longest + timedelta(days=1) and not second:
                    errors["second_approver"] = (
                        f"Longer than {describe_duration(longest)} needs a second approver "
                        f"({policy.label('exceptions.second_approver')})."
                    )
            if errors or expires is None:
                return errors
            row = PatchException(
                client_id=client_id,
                review_id=review[0] if review else None,
                what=text["what"],
                reason=text["reason"],
                controls=text["controls"],
                approver=text["approver"][:200],
                second_approver=second,
                expires_at=expires,
                created_by=actor.id,
                created_at=now,
                request_key=request_key[:120],
            )
            session.add(row)
            try:
                with session.begin_nested():
                    session.flush()
            except IntegrityError:  # the same form submitted twice at once
                return {"what": "This exception was just recorded."}
            self._plan(session, row, version.version, now)
            view = self._view(session, row)
            if review is not None:  # the review it came from closes in the same commit
                note = f"Exception until {view.expires_local}: {view.what}"
                self.reviews.move_in(session, actor, review[0], review[1], "exception", note=note)
            return view

    def _plan(self, session: Session, row: PatchException, version: int, now: datetime) -> None:
        plan = [(kind, row.expires_at - lead) for kind, lead in LEADS] + [("expiry:due", row.expires_at)]
        for kind, when in plan:
            if when > now:
                session.add(
                    Reminder(
                        client_id=row.client_id,
                        version=version,
                        subject="exception",
                        subject_id=row.id,
                        group_name="exception",
                        occurrence=f"exception:{row.id}",
                        kind=kind,
                        due_at=when,
                        window_start=row.created_at,
                        window_end=row.expires_at,
                    )
                )
        session.flush()

    def listing(self, client_name: str = "") -> TableView | Notice:
        """`exceptions [client]`: active ones first (soonest to expire), then the expired."""
        now = self.clock.now()
        with self.db.read() as session:
            query = select(PatchException, Client).join(Client, col(Client.id) == col(PatchException.client_id))
            title = "Exceptions"
            if client_name.strip():
                match = resolve_client(session, client_name)
                if match.client is None:
                    return Notice(match.problem or "", "error")
                query = query.where(PatchException.client_id == match.client.id)
                title = f"{match.client.name}: exceptions"
            rows = session.exec(query.order_by(col(PatchException.expires_at))).all()
            zones = {c.id: c.timezone or "UTC" for _, c in rows}
        if not rows:
            return Notice("No exceptions are recorded." if not client_name.strip() else f"{title}: none recorded.")
        table = []
        for row, client in sorted(rows, key=lambda r: (r[0].expires_at <= now, r[0].expires_at)):
            last_day = last_local_day(row.expires_at, zones[client.id])
            state = "expired" if row.expires_at <= now else f"until {last_day}"
            approvers = row.approver + (f" + {row.second_approver}" if row.second_approver else "")
            table.append((client.name, row.what, approvers, state))
        return TableView(title, ("Client", "Not patched", "Approved by", "Status"), tuple(table[:50]))

    # ----- reminders (the "exception" subject of the ledger) ---------------------------------------

    def skip_reason(self, row: Reminder, now: datetime) -> str | None:
        with self.db.read() as session:
            found = session.get(PatchException, row.subject_id)
        if found is None or found.status != "active":
            return "the exception is closed"
        return None

    def reminder(self, row: Reminder) -> ExceptionReminderView | None:
        with self.db.read() as session:
            found = session.get(PatchException, row.subject_id)
            if found is None:
                return None
            view = self._view(session, found)
            version = latest_version(session, found.client_id)
        if not view.channel_id:
            return None
        owners = tuple(Policy(version.answers).owner_ids) if version else ()
        return ExceptionReminderView(row.id, row.kind, view.channel_id, owners, view)

    def _view(self, session: Session, row: PatchException) -> ExceptionView:
        client = session.get(Client, row.client_id)
        return ExceptionView(
            exception_id=row.id,
            client_id=client.id,
            client_name=client.name,
            channel_id=client.channel_id,
            what=row.what,
            reason=row.reason,
            controls=row.controls,
            approver=row.approver,
            second_approver=row.second_approver,
            expires_local=last_local_day(row.expires_at, client.timezone or "UTC", "%a %d %b %Y"),
            created_by=row.created_by,
            review_id=row.review_id,
        )
