"""published versions

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 17:09:53.170583
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.types  # custom column types used by the models

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "policyversion",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("draft_id", sa.Integer(), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("markdown", sa.Text(), nullable=False),
        sa.Column("published_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("published_by_name", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("published_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("channel_id", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True),
        sa.Column("message_ts", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("permalink", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("posted_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["client.id"],
        ),
        sa.ForeignKeyConstraint(
            ["draft_id"],
            ["draft.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("client_id", "version", name="uq_version_client_version"),
        sa.UniqueConstraint("draft_id", name="uq_version_draft"),
    )
    with op.batch_alter_table("policyversion", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_policyversion_client_id"), ["client_id"], unique=False)

    with op.batch_alter_table("client", schema=None) as batch_op:
        batch_op.add_column(sa.Column("published_version", sa.Integer(), nullable=True))


def downgrade() -> None:

    with op.batch_alter_table("client", schema=None) as batch_op:
        batch_op.drop_column("published_version")

    with op.batch_alter_table("policyversion", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_policyversion_client_id"))

    op.drop_table("policyversion")
