"""The feed watch: CISA KEV every few hours (conditional requests), Microsoft's release from Patch Tuesday
until that month is read. Run by the scheduler of the process holding the lease, and by `patchpolicy feeds
refresh`. A feed that fails records why and is tried again with backoff; it never stops the bot, and what
it read is acted on once (the entries and the ledger remember), so a recovery posts nothing twice."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from bot.feeds.kev import FeedError, parse_catalogue
from bot.feeds.kev_actions import Acted, act_on, store_quietly
from bot.feeds.msrc import listed, month_id, parse_month, release_moment
from bot.kernel.clock import Clock
from bot.kernel.config import Settings
from bot.kernel.errors import short
from bot.kernel.http import ApiError, Http
from bot.kernel.versions import latest_version
from bot.oob.reviews import Reviews
from bot.scheduling.planning import plan_once
from storage.db import Database
from storage.feeds import FeedState, KevEntry, MsrcMonth
from storage.models import Client

log = logging.getLogger(__name__)
KEV_EVERY = timedelta(hours=3)
MSRC_RETRY = timedelta(minutes=30)  # after the release moment, until the month's document is listed
FIRST_READ_RECENT = timedelta(days=14)  # the first read acts on entries added this recently; older are history
DIGEST_USEFUL_FOR = timedelta(days=7)  # a month read later than this after its release gets no digest
MAX_BACKOFF = timedelta(hours=3)
NAMES = {"kev": "CISA KEV catalogue", "msrc": "Microsoft security release (MSRC CVRF)"}


@dataclass(frozen=True)
class FeedUrls:
    """Where the feeds are read (KEV_URL, MSRC_URL; an empty address turns that feed off), and how a retry
    waits (a test passes its own, so no test waits out a real backoff)."""

    kev: str
    msrc: str
    sleep: Callable[[float], None] = time.sleep


def feed_urls(settings: Settings) -> FeedUrls:
    return FeedUrls(settings.kev_url.strip(), settings.msrc_url.strip())


@dataclass(frozen=True)
class FeedRun:
    """One read: what it found, or why it failed."""

    feed: str
    ok: bool
    text: str


class Feeds:
    """Reads the feeds when they are due and turns what is new into reviews, questions and digests."""

    def __init__(self, db: Database, clock: Clock, reviews: Reviews, urls: FeedUrls) -> None:
        self.db = db
        self.clock = clock
        self.reviews = reviews
        self.urls = urls
        self.kev_http = Http(urls.kev, "The CISA KEV feed", urls.sleep)
        self.msrc_http = Http(urls.msrc, "The MSRC API", urls.sleep)

    def enabled(self) -> list[str]:
        """The feeds with an address (an empty KEV_URL or MSRC_URL turns that feed off)."""
        return [feed for feed, url in (("kev", self.urls.kev), ("msrc", self.urls.msrc)) if url]

    def watch(self) -> datetime | None:
        """The scheduler's run: read what is due; return when the next read is due (None: every feed is off)."""
        self.refresh()
        upcoming = [s.next_at or self.clock.now() for s in self.states() if s.feed in self.enabled()]
        return min(upcoming, default=None)

    def refresh(self, force: bool = False) -> list[FeedRun]:
        """Read every feed that is due (all of them with `force`); each on its own, so one failing stops nothing."""
        runs = []
        for feed, read in (("kev", self._read_kev), ("msrc", self._read_msrc)):
            if feed not in self.enabled():
                if force:
                    runs.append(FeedRun(feed, True, "off (its address is empty)"))
                continue
            now = self.clock.now()
            state = self._state(feed)
            if not force and state.next_at is not None and state.next_at > now:
                continue
            try:
                found = read(now, state)
            except (ApiError, FeedError, IntegrityError) as err:
                runs.append(self._failed(feed, now, str(err) if not isinstance(err, IntegrityError) else short(err)))
                continue
            except Exception as err:  # the database away, a bug: recorded, tried again later
                log.exception("reading the %s failed", NAMES[feed])
                runs.append(self._failed(feed, now, short(err)))
                continue
            runs.append(FeedRun(feed, True, found))
        return runs

    # ----- KEV ----------------------------------------------------------------------------------

    def _read_kev(self, now: datetime, state: FeedState) -> str:
        fetched = self.kev_http.get_if_changed(self.urls.kev, state.etag, state.modified)
        if fetched.not_modified:
            self._succeeded("kev", now, now + KEV_EVERY, found=None)
            return "not changed since the last read"
        catalogue = parse_catalogue(fetched.body)
        with self.db.read() as session:
            known = set(session.exec(select(KevEntry.cve_id)).all())
        new = [item for item in catalogue.items if item.cve_id not in known]
        recent = (now - FIRST_READ_RECENT).date()
        fresh = [item for item in new if known or item.date_added >= recent]
        if not known and len(fresh) < len(new):
            with self.db.write() as session:
                store_quietly(session, [item for item in new if item not in fresh], now)
        acted = Acted()
        for item in fresh:
            try:
                with self.db.write() as session:
                    act_on(session, self.reviews, item, now, acted)
            except IntegrityError:  # another replica stored the entry (and acted on it) at the same moment
                continue
        words = f"{len(catalogue.items)} entries, {len(fresh)} new" + (f": {acted.words()}" if acted.words() else "")
        found = words if fresh or not state.succeeded_at else None
        self._succeeded("kev", now, now + KEV_EVERY, found, fetched.etag, fetched.modified, catalogue.version)
        return words

    # ----- Patch Tuesday ------------------------------------------------------------------------

    def _read_msrc(self, now: datetime, state: FeedState) -> str:
        wanted, released, following = self._month_due(now)
        with self.db.read() as session:
            done = session.get(MsrcMonth, wanted) is not None
        if done:
            self._succeeded("msrc", now, following, found=None)
            return f"{wanted} already read; next release {following:%d %b %Y}"
        listing = self.msrc_http.get("/updates", {})
        present, given = listed(listing, wanted)
        if not present:
            self._succeeded("msrc", now, now + MSRC_RETRY, found=f"{wanted} not published yet")
            return f"{wanted} is not published yet; trying again in 30 minutes"
        title, vulnerabilities = parse_month(self.msrc_http.get(f"/cvrf/{wanted}", {}))
        released = max(given or released, released)  # MSRC lists 08:00 UTC; the release is at 10:00 Redmond time
        digests = self._store_month(wanted, title, released, vulnerabilities, now)
        exploited = sum(1 for v in vulnerabilities if v["exploited"])
        words = f"{wanted}: {len(vulnerabilities)} CVEs, {exploited} exploited; digests for {digests} clients"
        self._succeeded("msrc", now, following, words, version=wanted)
        return words

    @staticmethod
    def _month_due(now: datetime) -> tuple[str, datetime, datetime]:
        """(the month whose release is due to be read, its release moment, the next month's)."""
        this = release_moment(now.year, now.month)
        if now >= this:
            later = release_moment(now.year + now.month // 12, now.month % 12 + 1)
            return month_id(this.date()), this, later
        year, month = (now.year, now.month - 1) if now.month > 1 else (now.year - 1, 12)
        return month_id(release_moment(year, month).date()), release_moment(year, month), this

    def _store_month(self, wanted: str, title: str, released: datetime, vulns: list[dict], now: datetime) -> int:  # type: ignore[type-arg]
        try:
            with self.db.write() as session:
                session.add(
                    MsrcMonth(month_id=wanted, title=title, released_at=released, vulnerabilities=vulns, read_at=now)
                )
        except IntegrityError:
            return 0  # another replica read it and planned the digests
        if now - released > DIGEST_USEFUL_FOR:
            return 0
        planned = 0
        with self.db.read() as session:
            ids = [client.id for client in Reviews.reviewable_in(session)]
        for client_id in ids:
            try:
                with self.db.write() as session:
                    client = session.get(Client, client_id)
                    version = latest_version(session, client_id)
                    if client is None or version is None or not client.channel_id:
                        continue
                    span = (released, released + DIGEST_USEFUL_FOR)
                    planned += plan_once(
                        session, client, version, "feed", f"msrc:{wanted}", "digest", now, span, "Patch Tuesday"
                    )
            except IntegrityError:
                continue
        return planned

    # ----- state --------------------------------------------------------------------------------

    def _state(self, feed: str) -> FeedState:
        with self.db.read() as session:
            return session.get(FeedState, feed) or FeedState(feed=feed)

    def _succeeded(
        self,
        feed: str,
        now: datetime,
        next_at: datetime,
        found: str | None,
        etag: str | None = None,
        modified: str | None = None,
        version: str | None = None,
    ) -> None:
        with self.db.write() as session:
            state = session.get(FeedState, feed) or FeedState(feed=feed)
            state.attempted_at = state.succeeded_at = now
            state.next_at, state.failures, state.error = next_at, 0, None
            if found is not None:
                state.found = found[:500]
            if etag is not None:
                state.etag, state.modified = etag[:200], (modified or "")[:64]
            if version:
                state.version = version[:64]
            session.add(state)

    def _failed(self, feed: str, now: datetime, error: str) -> FeedRun:
        """Recorded with its reason; tried again after 5 minutes, doubling up to MAX_BACKOFF."""
        log.warning("reading the %s failed: %s", NAMES[feed], error)
        try:
            with self.db.write() as session:
                state = session.get(FeedState, feed) or FeedState(feed=feed)
                state.failures += 1
                wait = min(timedelta(minutes=5) * 2 ** (state.failures - 1), MAX_BACKOFF)
                state.attempted_at, state.next_at, state.error = now, now + wait, error[:500]
                session.add(state)
        except Exception as err:  # the database itself is away: the next run tries again
            log.warning("could not record the %s failure: %s", NAMES[feed], short(err))
        return FeedRun(feed, False, error)

    def states(self) -> list[FeedState]:
        with self.db.read() as session:
            found = {s.feed: s for s in session.exec(select(FeedState)).all()}
        return [found.get(feed) or FeedState(feed=feed) for feed in NAMES]
