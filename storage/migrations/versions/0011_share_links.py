"""client share links: a signed, expiring, revocable read-only link to a client's SOP, report and calendar

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04 16:30:00
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.types  # custom column types used by the models

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sharelink",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("created_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.ForeignKeyConstraint(["client_id"], ["client.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_sharelink_client", "sharelink", ["client_id", "expires_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_sharelink_client", table_name="sharelink")
    op.drop_table("sharelink")
