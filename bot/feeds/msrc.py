"""Microsoft's monthly security release (Patch Tuesday) from the MSRC CVRF API v3.0, read into plain records.

`GET {MSRC_URL}/updates` lists documents (`value[]` of `ID` like `2026-Dec`, `InitialReleaseDate`, `CvrfUrl`);
`GET {MSRC_URL}/cvrf/{ID}` with `Accept: application/json` is the month: `DocumentTitle.Value`,
`ProductTree.FullProductName[]` (`ProductID`, `Value`), and `Vulnerability[]` with `CVE`, `Title.Value`,
`Threats[]` (Type 3: the severity in `Description.Value`; Type 1: "…;Exploited:Yes;…"),
`CVSSScoreSets[].BaseScore` and `Remediations[]` (`Description.Value`: a KB number, `ProductID[]`).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

from bot.feeds.kev import FeedError

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
SEVERITY_ORDER = ("Critical", "Important", "Moderate", "Low")
RELEASE_HOUR_UTC = 17  # 10:00 in Redmond in summer (PDT), 09:00 in winter: the month's document is up by then
_KB = re.compile(r"^(?:KB)?(\d{6,8})$", re.IGNORECASE)


def month_id(day: date) -> str:
    """2026-12-08 -> '2026-Dec', the CVRF document's ID."""
    return f"{day.year}-{MONTHS[day.month - 1]}"


def second_tuesday(year: int, month: int) -> date:
    first = date(year, month, 1)
    return first + timedelta(days=(1 - first.weekday()) % 7 + 7)


def release_moment(year: int, month: int) -> datetime:
    """When this month's release is expected to be readable (UTC)."""
    day = second_tuesday(year, month)
    return datetime(day.year, day.month, day.day, RELEASE_HOUR_UTC, tzinfo=UTC)


def listed(body: Any, wanted: str) -> tuple[bool, datetime | None]:
    """Whether document `wanted` is in the updates list yet, and its release date when it gives one."""
    if not isinstance(body, dict) or not isinstance(body.get("value"), list):
        raise FeedError("the MSRC updates list has no `value` list")
    for entry in body["value"]:
        if isinstance(entry, dict) and str(entry.get("ID")) == wanted:
            return True, _moment(entry.get("InitialReleaseDate"))
    return False, None


def parse_month(body: Any) -> tuple[str, list[dict[str, Any]]]:
    """(title, vulnerabilities): each {cve, title, severity, exploited, cvss, kbs, products}."""
    if not isinstance(body, dict) or not isinstance(body.get("Vulnerability"), list):
        raise FeedError("the CVRF document has no `Vulnerability` list")
    names = {
        str(p.get("ProductID")): str(p.get("Value") or "")
        for p in (body.get("ProductTree") or {}).get("FullProductName") or []
        if isinstance(p, dict)
    }
    title = _value(body.get("DocumentTitle")) or "Security Updates"
    found = [_vulnerability(v, names) for v in body["Vulnerability"] if isinstance(v, dict) and v.get("CVE")]
    return title[:200], found


def _vulnerability(vuln: dict[str, Any], names: dict[str, str]) -> dict[str, Any]:
    severities: set[str] = set()
    exploited = False
    for threat in vuln.get("Threats") or []:
        text = _value(threat.get("Description"))
        if threat.get("Type") == 3 and text in SEVERITY_ORDER:
            severities.add(text)
        if threat.get("Type") == 1 and "exploited:yes" in text.replace(" ", "").casefold():
            exploited = True
    scores = [s.get("BaseScore") for s in vuln.get("CVSSScoreSets") or [] if isinstance(s, dict)]
    numbers = [float(s) for s in scores if isinstance(s, int | float)]
    kbs: set[str] = set()
    products: set[str] = set()
    for fix in vuln.get("Remediations") or []:
        match = _KB.match(_value(fix.get("Description")).strip())
        if match:
            kbs.add(f"KB{match.group(1)}")
    for status in vuln.get("ProductStatuses") or []:
        products.update(names.get(str(pid), "") for pid in status.get("ProductID") or [])
    return {
        "cve": str(vuln["CVE"]).strip().upper(),
        "title": _value(vuln.get("Title"))[:200],
        "severity": next((s for s in SEVERITY_ORDER if s in severities), ""),
        "exploited": exploited,
        "cvss": max(numbers) if numbers else None,
        "kbs": sorted(kbs),
        "products": sorted(p for p in products if p)[:40],
    }


def _value(node: Any) -> str:
    if isinstance(node, dict):
        return " ".join(str(node.get("Value") or "").split())
    return " ".join(str(node or "").split())


def _moment(text: Any) -> datetime | None:
    try:
        moment = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
