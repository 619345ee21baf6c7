"""CISA's Known Exploited Vulnerabilities catalogue: its published JSON read into plain records.

Fields as CISA publishes them: top level `catalogVersion`, `dateReleased`, `count`, `vulnerabilities[]`; each
entry `cveID`, `vendorProject`, `product`, `vulnerabilityName`, `dateAdded`, `shortDescription`,
`requiredAction`, `dueDate`, `knownRansomwareCampaignUse` ("Known"/"Unknown"), `notes`, `cwes`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

_CVE = re.compile(r"^CVE-\d{4}-\d{4,}$")


class FeedError(ValueError):
    """A feed answered something that is not what its publisher documents; the message says what."""


@dataclass(frozen=True)
class KevItem:
    cve_id: str
    vendor: str
    product: str
    name: str
    description: str
    required_action: str
    date_added: date
    due_date: date | None
    ransomware: str  # Known, Unknown


@dataclass(frozen=True)
class Catalogue:
    version: str
    items: tuple[KevItem, ...]


def parse_catalogue(body: Any) -> Catalogue:
    """The catalogue, or FeedError naming the first thing that is wrong (nothing is kept from a bad read)."""
    if not isinstance(body, dict) or not isinstance(body.get("vulnerabilities"), list):
        raise FeedError("the KEV catalogue has no `vulnerabilities` list")
    items = tuple(_item(i, entry) for i, entry in enumerate(body["vulnerabilities"]))
    return Catalogue(str(body.get("catalogVersion") or ""), items)


def _item(index: int, entry: Any) -> KevItem:
    if not isinstance(entry, dict):
        raise FeedError(f"KEV entry {index + 1} is not an object")
    cve = str(entry.get("cveID") or "").strip().upper()
    if not _CVE.match(cve):
        raise FeedError(f"KEV entry {index + 1} has no valid cveID")
    try:
        added = date.fromisoformat(str(entry.get("dateAdded")))
        due = date.fromisoformat(str(entry["dueDate"])) if entry.get("dueDate") else None
    except ValueError:
        raise FeedError(f"{cve} in the KEV catalogue has a date that is not YYYY-MM-DD") from None
    ransomware = str(entry.get("knownRansomwareCampaignUse") or "Unknown")
    return KevItem(
        cve_id=cve,
        vendor=_text(entry.get("vendorProject"), 200),
        product=_text(entry.get("product"), 200),
        name=_text(entry.get("vulnerabilityName"), 300) or cve,
        description=_text(entry.get("shortDescription"), 2000),
        required_action=_text(entry.get("requiredAction"), 2000),
        date_added=added,
        due_date=due,
        ransomware="Known" if ransomware.casefold() == "known" else "Unknown",
    )


def _text(value: Any, limit: int) -> str:
    return " ".join(str(value or "").split())[:limit]
