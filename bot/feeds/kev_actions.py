"""What a new KEV entry does for each client: a review opened (or proposed) when its device data names the
CVE, a suggestion when only the names seem to match. All in one transaction with the entry itself, so an
entry is acted on once whichever replica reads it first; every post goes through the reminder ledger."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlmodel import Session

from bot.feeds.kev import KevItem
from bot.feeds.matching import DataMatch, by_data, by_name
from bot.feeds.views import KevFacts
from bot.kernel.actor import Actor
from bot.kernel.timezones import end_of_local_day
from bot.kernel.versions import latest_version
from bot.oob.reviews import Reviews
from bot.oob.rules import ledger_row
from bot.policy.model import Policy
from bot.scheduling.planning import plan_once
from storage.feeds import FeedMatch, KevEntry
from storage.models import Client, OobReview, PolicyVersion

FEED_ACTOR = Actor(id="patchpolicy-feeds", name="PatchPolicy (CISA KEV)", editor=True)
ASK_FOR = timedelta(days=7)  # a proposal or a question still worth posting this long after the read


@dataclass
class Acted:
    """What the reads did, for the feed's status line."""

    opened: list[str] = field(default_factory=list)
    proposed: list[str] = field(default_factory=list)
    suggested: list[str] = field(default_factory=list)

    def words(self) -> str:
        parts = [
            f"{label} {', '.join(sorted(set(names)))}"
            for label, names in (
                ("reviews opened for", self.opened),
                ("reviews proposed to", self.proposed),
                ("asked about", self.suggested),
            )
            if names
        ]
        return "; ".join(parts)


def facts_of(entry: KevEntry | KevItem) -> KevFacts:
    return KevFacts(
        cve_id=entry.cve_id,
        name=entry.name,
        vendor=entry.vendor,
        product=entry.product,
        required_action=entry.required_action,
        added=f"{entry.date_added:%d %b %Y}",
        due=f"{entry.due_date:%d %b %Y}" if entry.due_date else "",
        ransomware=entry.ransomware,
    )


def store_quietly(session: Session, items: list[KevItem], now: datetime) -> None:
    """Entries known before this bot watched the catalogue: kept, so they are never taken for new."""
    session.add_all(_row(item, now) for item in items)


def act_on(session: Session, reviews: Reviews, item: KevItem, now: datetime, acted: Acted) -> bool:
    """Store one new entry and act on it for every client; False when another process stored it first."""
    if session.get(KevEntry, item.cve_id) is not None:
        return False
    session.add(_row(item, now))
    session.flush()
    source = f"kev:{item.cve_id}"
    matches = by_data(session, cves=[item.cve_id])
    asks: dict[str, list[tuple[Client, PolicyVersion]]] = defaultdict(list)
    for client, version in _watching(session):
        policy = Policy(version.answers)
        match = matches.get(client.id)
        if match is not None:
            _data_match(session, reviews, client, version, policy, item, match, now, acted)
        elif (named := by_name(policy, item.vendor, item.product)) and policy.owner_ids:
            session.add(
                FeedMatch(source=source, client_id=client.id, how="name", status="suggested", detail=named, at=now)
            )
            asks[policy.owner_ids[0]].append((client, version))
            acted.suggested.append(client.name)
    for owner, clients in asks.items():
        client, version = clients[0]
        plan_once(session, client, version, "feed", f"{source}:{owner}", "ask", now, (now, now + ASK_FOR), "KEV")
    return True


def open_review(
    session: Session, reviews: Reviews, client: Client, entry: KevEntry | KevItem, evidence: str, now: datetime
) -> OobReview | None:
    """The Emergency review of a KEV entry for one client, due by the policy or CISA's date, whichever is
    first; its checklist is posted through the ledger."""
    version = latest_version(session, client.id)
    if version is None:
        return None
    policy = Policy(version.answers)
    due = end_of_local_day(entry.due_date, policy.timezone) if entry.due_date else None
    facts = "\n".join([*facts_of(entry).lines(), *([evidence] if evidence else [])])
    title = f"{entry.cve_id} {entry.name}"[:200]
    review, created = reviews.open_in(
        session, client, title, "emergency", FEED_ACTOR, now, due, (f"kev:{entry.cve_id}", facts)
    )
    if review is not None and created:
        plan_opened(session, review, now)
    return review


def plan_opened(session: Session, review: OobReview, now: datetime) -> None:
    """The checklist post of a review opened without a person in the room (a feed, a digest's button)."""
    session.add(ledger_row(review, "opened", now, now, review.deploy_due))


def evidence_of(match: DataMatch) -> str:
    names = ", ".join(match.devices) + (" and others" if match.device_count > len(match.devices) else "")
    plural = "s" if match.device_count != 1 else ""
    return f"In the device data: {match.device_count} device{plural} without the fix ({names})"


def _data_match(
    session: Session,
    reviews: Reviews,
    client: Client,
    version: PolicyVersion,
    policy: Policy,
    item: KevItem,
    match: DataMatch,
    now: datetime,
    acted: Acted,
) -> None:
    source = f"kev:{item.cve_id}"
    evidence = evidence_of(match)
    if policy.value("oob.kev_action") == "propose":
        session.add(
            FeedMatch(source=source, client_id=client.id, how="data", status="proposed", detail=evidence, at=now)
        )
        plan_once(session, client, version, "feed", source, "propose", now, (now, now + ASK_FOR), "KEV")
        acted.proposed.append(client.name)
        return
    review = open_review(session, reviews, client, item, evidence, now)
    if review is not None:
        session.add(
            FeedMatch(
                source=source,
                client_id=client.id,
                how="data",
                status="opened",
                detail=evidence,
                review_id=review.id,
                at=now,
            )
        )
        acted.opened.append(client.name)


def _watching(session: Session) -> list[tuple[Client, PolicyVersion]]:
    """Published, active clients whose policy lists the KEV trigger, with their current version."""
    found = []
    for client in Reviews.reviewable_in(session):
        version = latest_version(session, client.id)
        if version is not None and "kev" in (Policy(version.answers).value("oob.triggers") or []):
            found.append((client, version))
    return found


def _row(item: KevItem, now: datetime) -> KevEntry:
    return KevEntry(
        cve_id=item.cve_id,
        vendor=item.vendor,
        product=item.product,
        name=item.name,
        description=item.description,
        required_action=item.required_action,
        date_added=item.date_added,
        due_date=item.due_date,
        ransomware=item.ransomware,
        first_seen_at=now,
    )
