"""The audit pack: one print-ready HTML file of the evidence an auditor asks for about one client: a cover page,
compliance per framework with its worst cases, the version history, policy reviews, the exception register,
the monthly reports (months under a policy only, with their charts) and the current SOP."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from markupsafe import Markup
from sqlmodel import Session, col, select

from bot.kernel.clock import Clock
from bot.kernel.lookup import resolve_client
from bot.kernel.questions import slug
from bot.kernel.timezones import last_local_day
from bot.kernel.versions import latest_version
from bot.kernel.views import ExportFile, Notice
from bot.policy.compliance import check
from bot.policy.model import Policy
from bot.policy.worst_case import KINDS, WorstCases, words
from bot.reporting.in_force import first_published
from bot.reporting.periods import months_before, period_of
from bot.reporting.policy_reviews import PolicyReviews
from bot.reporting.report_figures import MonthCache
from bot.reporting.reports import Report, Reports
from bot.sop.render import html_environment, markdown_to_html
from storage.db import Database
from storage.models import Client, PatchException, PolicyVersion

REPORT_MONTHS = 12


class Audit:
    """Builds `audit <client>`."""

    def __init__(self, db: Database, clock: Clock, reports: Reports, reviews: PolicyReviews) -> None:
        self.db = db
        self.clock = clock
        self.reports = reports
        self.reviews = reviews

    def pack(self, text: str) -> ExportFile | Notice:
        now = self.clock.now()
        with self.db.read() as session:
            match = resolve_client(session, text, kind="client")
            client = match.client
            if client is None:
                return Notice(match.problem or "", "error")
            current = latest_version(session, client.id)
            if current is None:
                return Notice(f"{client.name} has no published SOP yet, so there is nothing to audit.", "error")
            context = self._context(session, client, current, now)
        title = f"{client.name}: patch management audit evidence"
        html = html_environment().get_template("audit.html.j2").render(title=title, **context)
        return ExportFile(f"{slug(client.name)}-audit-{now:%Y-%m-%d}.html", title, html)

    def _context(self, session: Session, client: Client, current: PolicyVersion, now: datetime) -> dict:
        policy = Policy(current.answers)
        zone = ZoneInfo(policy.timezone)
        first = first_published(session, client.id)
        assert first is not None
        cache: MonthCache = {}
        months = months_before(period_of("monthly", now.astimezone(zone)), REPORT_MONTHS + 1)[:-1]  # complete ones
        reports = [r for m in reversed(months) if (r := self.reports.build_period(session, client, m, cache))]
        versions = session.exec(
            select(PolicyVersion).where(PolicyVersion.client_id == client.id).order_by(col(PolicyVersion.version))
        ).all()
        exceptions = session.exec(
            select(PatchException).where(PatchException.client_id == client.id).order_by(col(PatchException.created_at))
        ).all()
        verdicts = check(policy, now)
        return {
            "client": client.name,
            "prepared": f"{now.astimezone(zone):%d %B %Y %H:%M %Z}",
            "zone": policy.timezone,
            "since": f"{first.astimezone(zone):%d %B %Y}",
            "current": f"v{current.version}, published {current.published_at.astimezone(zone):%d %B %Y}",
            "covered": _covered(reports),
            "verdicts": [
                (v.label, v.lines()[0].split(":", 1)[0] if not v.passed else "Pass", v.lines()) for v in verdicts
            ],
            "worst": [
                (case.group, KINDS[case.kind], words(case.time), case.explain()) for case in WorstCases(policy, now).all
            ],
            "versions": [
                (f"v{v.version}", f"{v.published_at.astimezone(zone):%d %b %Y %H:%M}", v.published_by_name)
                for v in versions
            ],
            "reviews": self.reviews.history(session, client.id).rows,
            "exceptions": [
                (
                    e.what,
                    e.reason,
                    e.controls,
                    e.approver + (f" + {e.second_approver}" if e.second_approver else ""),
                    last_local_day(e.expires_at, policy.timezone),
                    "open" if e.expires_at > now else "expired",
                )
                for e in exceptions
            ],
            "reports": [(r.title, Markup(r.body_html(level=3))) for r in reports],
            "sop": Markup(markdown_to_html(current.markdown.replace("\n## ", "\n### ").replace("# ", "## ", 1))),
        }


def _covered(reports: list[Report]) -> str:
    """The months the pack reports on, in words."""
    if not reports:
        return "no complete month under the policy yet"
    first, last = reports[-1].title.rsplit(", ", 1)[1], reports[0].title.rsplit(", ", 1)[1]
    return first if first == last else f"{first} to {last}"
