"""The Patch Tuesday digest of one client: the month's counts, the exploited CVEs and whether they touch the
client (its device data first, else the device classes its policy covers), and when each group gets them."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any

from sqlmodel import Session

from bot.feeds.matching import by_data, has_device_data
from bot.feeds.msrc import SEVERITY_ORDER
from bot.feeds.views import ExploitedCve, GroupWindow, TuesdayDigest
from bot.kernel.durations import parse_duration
from bot.policy.model import Policy
from bot.sop.document import local_formatter
from storage.feeds import MsrcMonth
from storage.models import Client

# words in Microsoft's product names that fall under a device class the policy covers
_PRODUCT_CLASSES = (
    ("Windows Server", "windows_servers", "Windows servers"),
    ("Windows 1", "windows_workstations", "Windows workstations"),
    ("Microsoft Office", "windows_workstations", "Windows workstations (Office)"),
    ("Microsoft 365", "windows_workstations", "Windows workstations (Microsoft 365)"),
    ("macOS", "macos", "macOS"),
    ("Android", "mobile", "mobile devices"),
)
MAX_EXPLOITED = 10


def build_digest(session: Session, reminder_id: int, month: MsrcMonth, client: Client, policy: Policy) -> TuesdayDigest:
    vulns: list[dict[str, Any]] = month.vulnerabilities
    counts = Counter(v["severity"] or "Unrated" for v in vulns)
    exploited = [v for v in vulns if v["exploited"]]
    with_data = has_device_data(session, client.id)
    found = {}
    if with_data and exploited:
        for vuln in exploited:
            match = by_data(session, [vuln["cve"]], vuln["kbs"]).get(client.id)
            if match:
                found[vuln["cve"]] = f"missing on {match.device_count} device{'s' * (match.device_count != 1)}"
    classes = set(policy.value("scope.device_classes") or [])
    listed = [
        ExploitedCve(v["cve"], v["title"], v["severity"], found.get(v["cve"]) or _declared(v, classes, with_data))
        for v in sorted(exploited, key=_rank)
    ]
    local = local_formatter(policy.timezone)
    deadline = month.released_at + parse_duration(policy.value("sla.emergency") or "48h")
    windows = tuple(
        GroupWindow(o.group, o.start, local(o.start, "%a %d %b %H:%M"), o.end <= deadline)
        for o in _first_windows(policy, month)
    )
    touching = [e for e in listed if e.touches]
    return TuesdayDigest(
        reminder_id=reminder_id,
        source=f"msrc:{month.month_id}",
        client_id=client.id,
        client_name=client.name,
        channel_id=client.channel_id or "",
        title=month.title,
        total=len(vulns),
        counts=tuple((s, counts[s]) for s in (*SEVERITY_ORDER, "Unrated") if counts[s]),
        exploited=tuple(listed[:MAX_EXPLOITED]),
        windows=windows,
        zone=policy.timezone,
        deadline_local=local(deadline, "%a %d %b %H:%M"),
        basis="the device data" if with_data else "the device classes in the policy",
        offer_review=bool(touching) and any(not w.in_time for w in windows),
    )


def _declared(vuln: dict[str, Any], classes: set[str], with_data: bool) -> str:
    """Without device data: the device class the policy covers that a product of this CVE falls under."""
    if with_data:
        return ""
    for product in vuln["products"]:
        for words, device_class, label in _PRODUCT_CLASSES:
            if words in product and device_class in classes:
                return f"{label} (declared)"
    return ""


def _first_windows(policy: Policy, month: MsrcMonth) -> list:  # type: ignore[type-arg]
    """Each group's first window that starts after the release, soonest first."""
    seen: set[str] = set()
    found = []
    for occurrence in policy.next_windows(month.released_at, per_group=1):
        if occurrence.group not in seen and occurrence.start < month.released_at + timedelta(days=45):
            seen.add(occurrence.group)
            found.append(occurrence)
    return found


def _rank(vuln: dict[str, Any]) -> tuple[int, str]:
    order = {s: i for i, s in enumerate(SEVERITY_ORDER)}
    return order.get(vuln["severity"], len(order)), vuln["cve"]
