"""the durable inbox: Slack requests recorded before their ack (it also dedupes deliveries, so the table of
processed event ids goes)

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29 17:45:00
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.types  # custom column types used by the models

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "inboxrequest",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("user_key", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("received_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("not_before", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("claimed_by", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=True),
        sa.Column("claimed_until", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("finished_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("error", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key"),
    )
    with op.batch_alter_table("inboxrequest", schema=None) as batch_op:
        batch_op.create_index("ix_inboxrequest_state_id", ["state", "id"], unique=False)
        batch_op.create_index(batch_op.f("ix_inboxrequest_user_key"), ["user_key"], unique=False)
    op.drop_table("processedrequest")


def downgrade() -> None:
    op.create_table(
        "processedrequest",
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("seen_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    with op.batch_alter_table("inboxrequest", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_inboxrequest_user_key"))
        batch_op.drop_index("ix_inboxrequest_state_id")
    op.drop_table("inboxrequest")
