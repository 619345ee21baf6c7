"""the inbox: an index on (state, user_key, id), so finding each person's oldest open request reads one index
entry per open request instead of scanning every earlier request of that person

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29 21:00:00
"""

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("inboxrequest", schema=None) as batch_op:
        batch_op.create_index("ix_inboxrequest_heads", ["state", "user_key", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("inboxrequest", schema=None) as batch_op:
        batch_op.drop_index("ix_inboxrequest_heads")
