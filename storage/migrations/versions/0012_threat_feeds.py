"""threat feeds: each feed's last read, KEV entries, Patch Tuesday months, what each led to per client; a
review remembers the feed entry that opened it and the entry's facts

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04 18:00:00
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.types  # custom column types used by the models

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

_text = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table(
        "feedstate",
        sa.Column("feed", _text(length=16), nullable=False),
        sa.Column("etag", _text(length=200), nullable=False),
        sa.Column("modified", _text(length=64), nullable=False),
        sa.Column("version", _text(length=64), nullable=False),
        sa.Column("attempted_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("succeeded_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("next_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("error", _text(length=500), nullable=True),
        sa.Column("found", _text(length=500), nullable=False),
        sa.PrimaryKeyConstraint("feed"),
    )
    op.create_table(
        "keventry",
        sa.Column("cve_id", _text(length=32), nullable=False),
        sa.Column("vendor", _text(length=200), nullable=False),
        sa.Column("product", _text(length=200), nullable=False),
        sa.Column("name", _text(length=300), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("required_action", sa.Text(), nullable=False),
        sa.Column("date_added", sa.Date(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("ransomware", _text(length=16), nullable=False),
        sa.Column("first_seen_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("cve_id"),
    )
    op.create_table(
        "msrcmonth",
        sa.Column("month_id", _text(length=16), nullable=False),
        sa.Column("title", _text(length=200), nullable=False),
        sa.Column("released_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("vulnerabilities", sa.JSON(), nullable=False),
        sa.Column("read_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("month_id"),
    )
    op.create_table(
        "feedmatch",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", _text(length=48), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("how", _text(length=16), nullable=False),
        sa.Column("status", _text(length=16), nullable=False),
        sa.Column("detail", _text(length=500), nullable=False),
        sa.Column("review_id", sa.Integer(), nullable=True),
        sa.Column("at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("decided_by", _text(length=64), nullable=True),
        sa.ForeignKeyConstraint(["client_id"], ["client.id"]),
        sa.ForeignKeyConstraint(["review_id"], ["oobreview.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("source", "client_id", name="uq_feedmatch_source_client"),
    )
    op.create_index("ix_feedmatch_client_id", "feedmatch", ["client_id"], unique=False)
    with op.batch_alter_table("oobreview") as batch:
        batch.add_column(sa.Column("source", _text(length=48), nullable=True))
        batch.add_column(sa.Column("facts", sa.Text(), server_default="", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("oobreview") as batch:
        batch.drop_column("facts")
        batch.drop_column("source")
    op.drop_index("ix_feedmatch_client_id", table_name="feedmatch")
    op.drop_table("feedmatch")
    op.drop_table("msrcmonth")
    op.drop_table("keventry")
    op.drop_table("feedstate")
