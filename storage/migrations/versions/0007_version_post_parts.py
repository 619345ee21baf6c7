"""a version's post in parts: the overview, the full text in its thread, the file

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29 15:40:00
"""

import sqlalchemy as sa
from alembic import op

import storage.types  # custom column types used by the models

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("policyversion", schema=None) as batch_op:
        batch_op.add_column(sa.Column("thread_posted_at", storage.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("file_posted_at", storage.types.UTCDateTime(timezone=True), nullable=True))
    # earlier releases recorded a post only once all of it had gone out
    op.execute(
        sa.text(
            "UPDATE policyversion SET thread_posted_at = posted_at, file_posted_at = posted_at "
            "WHERE posted_at IS NOT NULL"
        )
    )


def downgrade() -> None:
    with op.batch_alter_table("policyversion", schema=None) as batch_op:
        batch_op.drop_column("file_posted_at")
        batch_op.drop_column("thread_posted_at")
