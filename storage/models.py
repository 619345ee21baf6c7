"""SQLModel tables. Schema changes go through an Alembic migration in storage/migrations."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime


def _dt(nullable: bool = False) -> Any:
    return Field(sa_column=Column(UTCDateTime(), nullable=nullable))


class Client(SQLModel, table=True):
    """A managed client. `key` is the case-insensitive unique name (`acme` finds `Acme`)."""

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=80, unique=True, index=True)
    name: str = Field(max_length=80)
    timezone: str | None = Field(default=None, max_length=64)
    channel_id: str | None = Field(default=None, max_length=80)
    channel_name: str | None = Field(default=None, max_length=80)
    created_by: str = Field(max_length=64)
    created_at: datetime = _dt()
    published_version: int | None = None
    paused_until: datetime | None = _dt(nullable=True)
    archived_at: datetime | None = _dt(nullable=True)
    kind: str = Field(default="client", max_length=16)  # "client", or "template" (an MSP standard)
    template_id: int | None = Field(default=None, foreign_key="client.id")  # the template it is built on
    template_version: int | None = None  # the template version its answers follow


class Draft(SQLModel, table=True):
    """A questionnaire in progress (or finished) for one client. One open draft per client."""

    __table_args__ = (
        Index(
            "uq_draft_open_per_client",
            "client_id",
            unique=True,
            sqlite_where=text("status = 'open'"),
            postgresql_where=text("status = 'open'"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    client_id: int = Field(foreign_key="client.id", index=True)
    owner_id: str = Field(max_length=64, index=True)
    status: str = Field(default="open", max_length=16)
    mode: str = Field(default="asking", max_length=16)
    current_qid: str | None = Field(default=None, max_length=120)
    paused: bool = False
    seq: int = 0
    dm_channel: str | None = Field(default=None, max_length=64)
    prompt_ts: str | None = Field(default=None, max_length=64)
    context: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = _dt()
    updated_at: datetime = _dt()
    completed_at: datetime | None = _dt(nullable=True)


class Answer(SQLModel, table=True):
    """The current answer to one question of one draft; `skipped` answers carry no value."""

    __table_args__ = (UniqueConstraint("draft_id", "question_id", name="uq_answer_draft_question"),)

    id: int | None = Field(default=None, primary_key=True)
    draft_id: int = Field(foreign_key="draft.id", index=True)
    question_id: str = Field(max_length=120)
    value: Any = Field(default=None, sa_column=Column(JSON, nullable=True))
    skipped: bool = False
    answered_by: str = Field(max_length=64)
    answered_at: datetime = _dt()


class PolicyVersion(SQLModel, table=True):
    """A published SOP: immutable, with who published it, when, and the exact answers it was made from."""

    __table_args__ = (
        UniqueConstraint("client_id", "version", name="uq_version_client_version"),
        UniqueConstraint("draft_id", name="uq_version_draft"),
    )

    id: int | None = Field(default=None, primary_key=True)
    client_id: int = Field(foreign_key="client.id", index=True)
    version: int
    draft_id: int = Field(foreign_key="draft.id")
    answers: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    markdown: str = Field(sa_column=Column(Text, nullable=False))
    published_by: str = Field(max_length=64)
    published_by_name: str = Field(max_length=120)
    published_at: datetime = _dt()
    channel_id: str | None = Field(default=None, max_length=80)
    message_ts: str | None = Field(default=None, max_length=64)
    permalink: str | None = Field(default=None, max_length=500)
    posted_at: datetime | None = _dt(nullable=True)  # the overview is in the channel (at message_ts)
    thread_posted_at: datetime | None = _dt(nullable=True)  # the full text is in its thread
    file_posted_at: datetime | None = _dt(nullable=True)  # the Markdown file is in its thread

    @property
    def fully_posted(self) -> bool:
        return self.posted_at is not None and self.thread_posted_at is not None and self.file_posted_at is not None


class Reminder(SQLModel, table=True):
    """The plan and the ledger of reminders: one row per (client, window occurrence, kind), claimed before posting."""

    __table_args__ = (
        UniqueConstraint("client_id", "occurrence", "kind", name="uq_reminder_occurrence_kind"),
        Index("ix_reminder_due", "status", "due_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    client_id: int = Field(foreign_key="client.id", index=True)
    version: int
    subject: str = Field(default="window", max_length=16)  # window, oob, exception
    subject_id: int | None = None  # the review or exception a non-window reminder is about
    group_name: str = Field(max_length=80)
    occurrence: str = Field(max_length=140)  # "<group>@<UTC start>", "oob:<id>", "exception:<id>"
    kind: str = Field(max_length=24)  # "lead:24h", "start", "close"; "triage:before", "deploy:escalate", ...
    due_at: datetime = _dt()
    window_start: datetime = _dt()
    window_end: datetime = _dt()
    status: str = Field(default="planned", max_length=16)  # planned, claimed, sent, skipped, cancelled
    attempts: int = 0
    next_attempt_at: datetime | None = _dt(nullable=True)
    claimed_by: str | None = Field(default=None, max_length=80)
    claimed_at: datetime | None = _dt(nullable=True)
    sent_at: datetime | None = _dt(nullable=True)
    channel_id: str | None = Field(default=None, max_length=80)
    message_ts: str | None = Field(default=None, max_length=64)
    note: str | None = Field(default=None, max_length=300)


class WindowOutcome(SQLModel, table=True):
    """What the team reported when a window closed: all good, or which devices and updates failed."""

    __table_args__ = (UniqueConstraint("client_id", "occurrence", name="uq_outcome_occurrence"),)

    id: int | None = Field(default=None, primary_key=True)
    client_id: int = Field(foreign_key="client.id", index=True)
    occurrence: str = Field(max_length=140)
    group_name: str = Field(max_length=80)
    status: str = Field(max_length=16)  # all_good, failures
    devices: str = Field(default="", sa_column=Column(Text, nullable=False))
    updates: str = Field(default="", sa_column=Column(Text, nullable=False))
    notes: str = Field(default="", sa_column=Column(Text, nullable=False))
    reported_by: str = Field(max_length=64)
    reported_at: datetime = _dt()


class SchedulerLease(SQLModel, table=True):
    """Which process runs the scheduler: replicas share one database, and only the lease holder schedules."""

    name: str = Field(primary_key=True, max_length=40)
    holder: str = Field(max_length=120)
    expires_at: datetime = _dt()


class OobReview(SQLModel, table=True):
    """An out-of-band patch review for one client: its deadlines, where its checklist is, and its state."""

    __table_args__ = (
        Index(
            "uq_oob_open_title",
            "client_id",
            "title_key",
            unique=True,
            sqlite_where=text("closed_at IS NULL"),
            postgresql_where=text("closed_at IS NULL"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    client_id: int = Field(foreign_key="client.id", index=True)
    version: int
    title: str = Field(max_length=200)
    title_key: str = Field(max_length=200)  # casefolded: the same review opened twice is one review
    severity: str = Field(max_length=16)
    status: str = Field(default="open", max_length=16)  # open, triaged, testing; closed: deployed, ...
    step: int = 0  # bumped on each change: a button from an earlier step does nothing
    opened_by: str = Field(max_length=64)
    opened_at: datetime = _dt()
    triage_due: datetime = _dt()
    deploy_due: datetime = _dt()
    triaged_at: datetime | None = _dt(nullable=True)
    closed_at: datetime | None = _dt(nullable=True)
    closed_by: str | None = Field(default=None, max_length=64)
    mitigation: str = Field(default="", sa_column=Column(Text, nullable=False))
    mitigation_remove_by: datetime | None = _dt(nullable=True)
    channel_id: str | None = Field(default=None, max_length=80)
    message_ts: str | None = Field(default=None, max_length=64)
    source: str | None = Field(default=None, max_length=48)  # the feed entry that opened it: kev:CVE-2026-1234
    facts: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))  # the feed's words


class OobEvent(SQLModel, table=True):
    """One step of a review: who moved it to which status, when."""

    __table_args__ = (UniqueConstraint("review_id", "step", name="uq_oobevent_step"),)

    id: int | None = Field(default=None, primary_key=True)
    review_id: int = Field(foreign_key="oobreview.id", index=True)
    step: int
    status: str = Field(max_length=16)
    actor_id: str = Field(max_length=64)
    actor_name: str = Field(max_length=120)
    at: datetime = _dt()
    note: str = Field(default="", sa_column=Column(Text, nullable=False))


class PatchException(SQLModel, table=True):
    """An accepted risk: what is not patched, why, the controls, who approved it and until when."""

    id: int | None = Field(default=None, primary_key=True)
    client_id: int = Field(foreign_key="client.id", index=True)
    review_id: int | None = Field(default=None, foreign_key="oobreview.id")
    what: str = Field(sa_column=Column(Text, nullable=False))
    reason: str = Field(sa_column=Column(Text, nullable=False))
    controls: str = Field(sa_column=Column(Text, nullable=False))
    approver: str = Field(max_length=200)
    second_approver: str | None = Field(default=None, max_length=200)
    expires_at: datetime = _dt()
    status: str = Field(default="active", max_length=16)  # active, expired, closed
    created_by: str = Field(max_length=64)
    created_at: datetime = _dt()
    request_key: str = Field(max_length=120, unique=True)  # the form submission: a resubmit records it once


class PolicyReview(SQLModel, table=True):
    """A review of a client's policy: who reviewed it, when, and what came of it (even if nothing changed)."""

    id: int | None = Field(default=None, primary_key=True)
    client_id: int = Field(foreign_key="client.id", index=True)
    version: int
    reviewed_by: str = Field(max_length=64)
    reviewed_by_name: str = Field(max_length=120)
    reviewed_at: datetime = _dt()
    outcome: str = Field(max_length=200)


class InboxRequest(SQLModel, table=True):
    """A Slack request recorded before its ack: the work it asks for runs from here, and is marked done in the
    same transaction as its effect, so a crash or a stop after the ack loses nothing."""

    __table_args__ = (
        Index("ix_inboxrequest_state_id", "state", "id"),
        Index("ix_inboxrequest_heads", "state", "user_key", "id"),  # each person's oldest open request
    )

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=200, unique=True)  # event id or trigger id: a repeat delivery is recorded once
    user_key: str = Field(max_length=64, index=True)  # one person's requests run in the order they came
    body: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    received_at: datetime = _dt()
    state: str = Field(default="pending", max_length=16)  # pending, running, done, failed
    attempts: int = 0
    not_before: datetime = _dt()  # a retry waits until then
    claimed_by: str | None = Field(default=None, max_length=120)
    claimed_until: datetime | None = _dt(nullable=True)
    finished_at: datetime | None = _dt(nullable=True)
    error: str | None = Field(default=None, max_length=500)
