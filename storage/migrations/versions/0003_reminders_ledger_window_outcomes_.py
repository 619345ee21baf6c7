"""reminders ledger, window outcomes, scheduler lease

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 17:22:54.407899
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.types  # custom column types used by the models

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "schedulerlease",
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("holder", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("expires_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "reminder",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("group_name", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("occurrence", sqlmodel.sql.sqltypes.AutoString(length=140), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("due_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("window_start", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("window_end", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("claimed_by", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True),
        sa.Column("claimed_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("sent_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("channel_id", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True),
        sa.Column("message_ts", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("note", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["client.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("client_id", "occurrence", "kind", name="uq_reminder_occurrence_kind"),
    )
    with op.batch_alter_table("reminder", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_reminder_client_id"), ["client_id"], unique=False)
        batch_op.create_index("ix_reminder_due", ["status", "due_at"], unique=False)

    op.create_table(
        "windowoutcome",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("occurrence", sqlmodel.sql.sqltypes.AutoString(length=140), nullable=False),
        sa.Column("group_name", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("devices", sa.Text(), nullable=False),
        sa.Column("updates", sa.Text(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("reported_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("reported_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["client.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("client_id", "occurrence", name="uq_outcome_occurrence"),
    )
    with op.batch_alter_table("windowoutcome", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_windowoutcome_client_id"), ["client_id"], unique=False)

    with op.batch_alter_table("client", schema=None) as batch_op:
        batch_op.add_column(sa.Column("paused_until", storage.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("archived_at", storage.types.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:

    with op.batch_alter_table("client", schema=None) as batch_op:
        batch_op.drop_column("archived_at")
        batch_op.drop_column("paused_until")

    with op.batch_alter_table("windowoutcome", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_windowoutcome_client_id"))

    op.drop_table("windowoutcome")
    with op.batch_alter_table("reminder", schema=None) as batch_op:
        batch_op.drop_index("ix_reminder_due")
        batch_op.drop_index(batch_op.f("ix_reminder_client_id"))

    op.drop_table("reminder")
    op.drop_table("schedulerlease")
