"""Client share links: a signed, expiring, revocable read-only link to a client's current SOP, its latest report
and a calendar feed of its patch windows, served by the bot's own HTTP server. The link carries the row's id
signed with SHARE_SECRET (itsdangerous); the row decides until when it works. A bad, expired or revoked link
is simply not found."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from zoneinfo import ZoneInfo

from itsdangerous import BadSignature, URLSafeSerializer
from markupsafe import Markup
from sqlmodel import col, select

from bot.kernel.actor import Actor
from bot.kernel.clock import Clock
from bot.kernel.config import Settings
from bot.kernel.lookup import resolve_client
from bot.kernel.questions import slug
from bot.kernel.versions import latest_version
from bot.kernel.views import Notice
from bot.policy.model import Policy
from bot.reporting.periods import period_of
from bot.reporting.reports import Reports
from bot.scheduling.service import calendar
from bot.sop.render import html_environment, markdown_to_html
from storage.db import Database
from storage.models import Client
from storage.sharing import ShareLink

DEFAULT_DAYS = 90
MAX_DAYS = 365
SALT = "patchpolicy-share-link"
PARTS = {"": "sop", "report": "report", "calendar.ics": "calendar"}


@dataclass(frozen=True)
class ShareAccess:
    """Where the bot is reachable from outside (PUBLIC_URL) and the key that signs links."""

    base_url: str
    secret: str

    @property
    def ready(self) -> bool:
        return bool(self.base_url and self.secret)


def share_access(settings: Settings) -> ShareAccess:
    secret = settings.share_secret.get_secret_value() if settings.share_secret else settings.signing_secret()
    return ShareAccess(settings.public_url.rstrip("/"), secret)


@dataclass(frozen=True)
class SharedPage:
    content_type: str
    body: bytes
    filename: str = ""


class Sharing:
    """`share <client> [days]`, `share <client> revoke`, and the pages a link opens."""

    def __init__(self, db: Database, clock: Clock, reports: Reports, access: ShareAccess) -> None:
        self.db = db
        self.clock = clock
        self.reports = reports
        self.access = access
        self.signer = URLSafeSerializer(access.secret or "unset", salt=SALT)

    def command(self, actor: Actor, text: str) -> Notice:
        if not self.access.ready:
            return Notice(
                "Share links need the bot's HTTP server to be reachable from outside: set PUBLIC_URL (and run in "
                "HTTP mode, with SLACK_SIGNING_SECRET or SHARE_SECRET to sign the links).",
                "error",
            )
        now = self.clock.now()
        with self.db.write() as session:
            match = resolve_client(session, text, kind="client")
            client = match.client
            if client is None:
                return Notice(match.problem or "Which client? `/patchpolicy share <client> [days]`.", "error")
            if latest_version(session, client.id) is None:
                return Notice(f"{client.name} has no published SOP yet, so there is nothing to share.", "error")
            words = match.rest.casefold().split()
            live = session.exec(
                select(ShareLink).where(
                    ShareLink.client_id == client.id, col(ShareLink.revoked_at).is_(None), ShareLink.expires_at > now
                )
            ).all()
            if words == ["revoke"]:
                for link in live:
                    link.revoked_at, link.revoked_by = now, actor.id
                    session.add(link)
                return Notice(f"Revoked {len(live)} share link{'s' * (len(live) != 1)} for {client.name}.", "success")
            if words and not (len(words) == 1 and words[0].isdigit() and 1 <= int(words[0]) <= MAX_DAYS):
                return Notice(f"Give the days the link should work, 1 to {MAX_DAYS}, or `revoke`.", "error")
            days = int(words[0]) if words else DEFAULT_DAYS
            link = ShareLink(client_id=client.id, created_by=actor.id, created_at=now, expires_at=now + timedelta(days))
            session.add(link)
            session.flush()
            url = f"{self.access.base_url}/share/{self.signer.dumps(link.id)}"
            zone = ZoneInfo(Policy(latest_version(session, client.id).answers).timezone)  # type: ignore[union-attr]
            until = link.expires_at.astimezone(zone)
            others = f" {len(live)} earlier link{'s' * (len(live) != 1)} still work." if live else ""
            return Notice(
                f"A read-only link for {client.name}: its current SOP, latest report and a calendar of its patch "
                f"windows. It works until {until:%d %B %Y %H:%M %Z}; `/patchpolicy share {client.name} revoke` "
                f"ends it sooner.{others}",
                "success",
                link=(url, "Open the shared page"),
            )

    def page(self, path: str) -> SharedPage | None:
        """What `/share/<path>` shows, or None (a 404) for a bad, expired or revoked link or an unknown part."""
        token, _, part = path.strip("/").partition("/")
        if part not in PARTS:
            return None
        try:
            link_id = self.signer.loads(token)
        except BadSignature:
            return None
        now = self.clock.now()
        with self.db.read() as session:
            link = session.get(ShareLink, link_id) if isinstance(link_id, int) else None
            if link is None or link.revoked_at is not None or link.expires_at <= now:
                return None
            client = session.get(Client, link.client_id)
            version = latest_version(session, link.client_id)
            if client is None or version is None:
                return None
            policy = Policy(version.answers)
            until = f"{link.expires_at.astimezone(ZoneInfo(policy.timezone)):%d %B %Y}"
            if PARTS[part] == "calendar":
                feed = calendar(policy, client.id, now, past_days=31, feed=True)
                name = f"{slug(client.name)}-patch-windows.ics"
                return SharedPage("text/calendar; charset=utf-8", feed.encode(), name)
            base = f"/share/{token}"
            if PARTS[part] == "report":
                report = self._latest_report(session, client, policy)
                title = report.title if report else f"{client.name}: patch report"
                body = report.body_html(level=2) if report else Markup("<p>No report yet.</p>")
            else:
                title = f"{client.name}: patch management SOP v{version.version}"
                body = Markup(markdown_to_html(version.markdown.replace("# ", "## ", 1)))
        html = (
            html_environment()
            .get_template("share.html.j2")
            .render(client=client.name, title=title, body=body, base=base, part=PARTS[part], until=until)
        )
        return SharedPage("text/html; charset=utf-8", html.encode())

    def _latest_report(self, session, client: Client, policy: Policy):  # type: ignore[no-untyped-def]
        """The last complete month's report, or this month's so far when the policy is newer than that."""
        local = self.clock.now().astimezone(ZoneInfo(policy.timezone))
        this_month = period_of("monthly", local)
        last_month = period_of("monthly", this_month.start - timedelta(days=1))
        return self.reports.build_period(session, client, last_month) or self.reports.build_period(
            session, client, this_month
        )
