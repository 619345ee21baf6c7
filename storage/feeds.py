"""Threat feeds: what each feed said last (and when, and any error), the KEV entries seen, the Patch Tuesday
months read, and what each entry or month led to for each client (so nothing is opened or posted twice)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.types import utc_field


class FeedState(SQLModel, table=True):
    """One feed (kev, msrc): the validators for the next conditional request, the last read and its result."""

    feed: str = Field(primary_key=True, max_length=16)
    etag: str = Field(default="", max_length=200)
    modified: str = Field(default="", max_length=64)
    version: str = Field(default="", max_length=64)  # the catalogue's version, or the last month read
    attempted_at: datetime | None = utc_field(nullable=True)
    succeeded_at: datetime | None = utc_field(nullable=True)
    next_at: datetime | None = utc_field(nullable=True)
    failures: int = 0
    error: str | None = Field(default=None, max_length=500)
    found: str = Field(default="", max_length=500)  # what the last read that changed something found, in words


class KevEntry(SQLModel, table=True):
    """One entry of CISA's Known Exploited Vulnerabilities catalogue, as last read."""

    cve_id: str = Field(primary_key=True, max_length=32)
    vendor: str = Field(max_length=200)
    product: str = Field(max_length=200)
    name: str = Field(max_length=300)
    description: str = Field(default="", sa_column=Column(Text, nullable=False))
    required_action: str = Field(default="", sa_column=Column(Text, nullable=False))
    date_added: date
    due_date: date | None = None
    ransomware: str = Field(default="Unknown", max_length=16)
    first_seen_at: datetime = utc_field()


class MsrcMonth(SQLModel, table=True):
    """One month's Microsoft security release (MSRC CVRF), cut to what the digest needs."""

    __tablename__ = "msrcmonth"

    month_id: str = Field(primary_key=True, max_length=16)  # 2026-Dec
    title: str = Field(max_length=200)
    released_at: datetime = utc_field()
    vulnerabilities: list[dict[str, Any]] = Field(sa_column=Column(JSON, nullable=False))
    read_at: datetime = utc_field()


class FeedMatch(SQLModel, table=True):
    """What one KEV entry or Patch Tuesday month led to for one client: a review opened or proposed, a
    suggestion asked, a digest posted. One row per (source, client), whatever the feed says later."""

    __table_args__ = (UniqueConstraint("source", "client_id", name="uq_feedmatch_source_client"),)

    id: int | None = Field(default=None, primary_key=True)
    source: str = Field(max_length=48)  # kev:CVE-2026-1234, msrc:2026-Dec
    client_id: int = Field(foreign_key="client.id", index=True)
    how: str = Field(max_length=16)  # data (CVE in the device data), name (vendor and product), digest
    status: str = Field(max_length=16)  # opened, proposed, suggested, declined, posted
    detail: str = Field(default="", max_length=500)  # what matched: "3 devices missing it", "Google Chrome"
    review_id: int | None = Field(default=None, foreign_key="oobreview.id")
    at: datetime = utc_field()
    decided_by: str | None = Field(default=None, max_length=64)
