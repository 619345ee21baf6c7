"""policy reviews

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26 21:13:52.235076
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.types  # custom column types used by the models

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "policyreview",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("reviewed_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("reviewed_by_name", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("reviewed_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("outcome", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["client.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("policyreview", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_policyreview_client_id"), ["client_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("policyreview", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_policyreview_client_id"))

    op.drop_table("policyreview")
