"""The audit pack: one printable file with the evidence an auditor asks for about one client."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from markupsafe import Markup
from sqlmodel import col, select

from bot.kernel.clock import Clock
from bot.kernel.lookup import resolve_client
from bot.kernel.questions import slug
from bot.kernel.timezones import last_local_day
from bot.kernel.versions import latest_version
from bot.kernel.views import ExportFile, Notice
from bot.policy.model import Policy
from bot.reporting.policy_reviews import PolicyReviews
from bot.reporting.reports import Reports
from bot.sop.document import local_formatter
from bot.sop.render import environment, html_environment, markdown_to_html
from storage.db import Database
from storage.models import PatchException, PolicyVersion

REPORT_MONTHS = 12


class Audit:
    """Builds `audit <client>`: the SOP, its versions, its reviews, the last 12 reports, the exceptions."""

    def __init__(self, db: Database, clock: Clock, reports: Reports, reviews: PolicyReviews) -> None:
        self.db = db
        self.clock = clock
        self.reports = reports
        self.reviews = reviews

    def pack(self, text: str) -> ExportFile | Notice:
        now = self.clock.now()
        fmt = environment("md").globals["fmt"]
        with self.db.read() as session:
            match = resolve_client(session, text, kind="client")
            client = match.client
            if client is None:
                return Notice(match.problem or "", "error")
            current = latest_version(session, client.id)
            if current is None:
                return Notice(f"{client.name} has no published SOP yet, so there is nothing to audit.", "error")
            local = local_formatter(Policy(current.answers).timezone)
            versions = session.exec(
                select(PolicyVersion).where(PolicyVersion.client_id == client.id).order_by(col(PolicyVersion.version))
            ).all()
            reviews = self.reviews.history(session, client.id)
            exceptions = session.exec(
                select(PatchException)
                .where(PatchException.client_id == client.id)
                .order_by(col(PatchException.created_at))
            ).all()
            today = now.astimezone(ZoneInfo(Policy(current.answers).timezone))
            year, number, reports = today.year, today.month, []
            for _ in range(REPORT_MONTHS):
                number -= 1
                if number == 0:
                    year, number = year - 1, 12
                report = self.reports.build(session, client, year, number)
                if report is not None:
                    reports.append(report)
        parts = [
            f"# {fmt.escape(client.name)}: audit evidence",
            f"Prepared {local(now, '%d %B %Y %H:%M %Z')}.",
            "## Version history",
            fmt.table(
                ["Version", "Published", "Published by (approved)"],
                [[f"v{v.version}", local(v.published_at, "%d %b %Y %H:%M"), v.published_by_name] for v in versions],
            ),
            "## Policy reviews",
            fmt.table(list(reviews.headers), [list(r) for r in reviews.rows])
            if reviews.rows
            else "No review recorded yet.",
            "## Exception register",
            fmt.table(
                ["Not patched", "Why", "Controls", "Approved by", "Last day", "State"],
                [
                    [
                        e.what,
                        e.reason,
                        e.controls,
                        e.approver + (f" + {e.second_approver}" if e.second_approver else ""),
                        last_local_day(e.expires_at, Policy(current.answers).timezone),
                        "open" if e.expires_at > now else "expired",
                    ]
                    for e in exceptions
                ],
            )
            if exceptions
            else "No exception recorded.",
            f"## Reports (last {REPORT_MONTHS} months)",
        ]
        for report in reports:
            parts.append(report.markdown.replace("# ", "### ", 1))
        parts += ["## Current SOP", current.markdown.replace("\n## ", "\n### ").replace("# ", "### ", 1)]
        markdown = "\n\n".join(parts) + "\n"
        page = html_environment().get_template("sop.html.j2")
        title = f"{client.name}: audit evidence"
        html = page.render(title=title, body=Markup(markdown_to_html(markdown)))
        return ExportFile(f"{slug(client.name)}-audit-{now:%Y-%m-%d}.html", title, html)
