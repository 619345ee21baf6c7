"""Client share links: a read-only view of one client's SOP, latest report and window calendar. The link
carries a signed id; this row says until when it works and whether it was revoked."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from storage.types import utc_field


class ShareLink(SQLModel, table=True):
    """One link given to a client. It works while now < expires_at and revoked_at is empty."""

    __table_args__ = (Index("ix_sharelink_client", "client_id", "expires_at"),)

    id: int | None = Field(default=None, primary_key=True)
    client_id: int = Field(foreign_key="client.id")
    created_by: str = Field(max_length=64)
    created_at: datetime = utc_field()
    expires_at: datetime = utc_field()
    revoked_at: datetime | None = utc_field(nullable=True)
    revoked_by: str | None = Field(default=None, max_length=64)
