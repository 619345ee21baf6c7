"""templates: client kind and template link

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 19:34:32.293908
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("client", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False, server_default="client")
        )
        batch_op.add_column(sa.Column("template_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("template_version", sa.Integer(), nullable=True))
        batch_op.create_foreign_key("fk_client_template_id", "client", ["template_id"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("client", schema=None) as batch_op:
        batch_op.drop_constraint("fk_client_template_id", type_="foreignkey")
        batch_op.drop_column("template_version")
        batch_op.drop_column("template_id")
        batch_op.drop_column("kind")
