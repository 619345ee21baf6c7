"""Monthly patch reports: windows held or missed, check-in outcomes, out-of-band reviews against their
deadlines, exceptions, and the share of deadlines met per severity; built from what the bot recorded.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from markupsafe import Markup
from sqlmodel import Session, col, select

from bot.kernel.clock import Clock
from bot.kernel.lookup import resolve_client
from bot.kernel.timezones import last_local_day
from bot.kernel.versions import latest_version
from bot.oob.rules import CLOSING, LABELS
from bot.policy.model import TIERS, Policy
from bot.policy.windows import occurrences
from bot.scheduling.planning import plan_once
from bot.sop.document import local_formatter
from bot.sop.render import environment, html_environment, markdown_to_html
from storage.db import Database
from storage.models import Client, OobReview, PatchException, PolicyVersion, Reminder, WindowOutcome

_MONTHS = {
    m: i for i, m in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1)
}
REPORT_DAY_HOUR = 9  # the scheduled report goes out at 09:00 local on the first day of the next period


@dataclass(frozen=True)
class Report:
    """One client's report for one month, in every format it is said in."""

    client_id: int
    client_name: str
    channel_id: str | None
    period: str  # "2026-12"
    title: str
    mrkdwn: str
    markdown: str

    def html(self) -> str:
        page = html_environment().get_template("sop.html.j2")
        return page.render(title=self.title, body=Markup(markdown_to_html(self.markdown)))

    @property
    def filename(self) -> str:
        slug = re.sub(r"[^a-z0-9]+", "-", self.client_name.casefold()).strip("-")
        return f"{slug}-patch-report-{self.period}.html"


def parse_period(text: str, today: date) -> tuple[int, int] | None:
    """'2026-12', 'dec', 'december 2026' -> (year, month); '' -> the last complete month."""
    text = text.strip().casefold()
    if not text:
        first = today.replace(day=1) - timedelta(days=1)
        return first.year, first.month
    match = re.fullmatch(r"(\d{4})-(\d{1,2})", text)
    if match and 1 <= int(match.group(2)) <= 12:
        return int(match.group(1)), int(match.group(2))
    match = re.fullmatch(r"([a-z]{3})[a-z]*\.?(?:\s+(\d{4}))?", text)
    if match and match.group(1) in _MONTHS:
        month = _MONTHS[match.group(1)]
        year = int(match.group(2)) if match.group(2) else (today.year if month <= today.month else today.year - 1)
        return year, month
    return None


@dataclass(frozen=True)
class Period:
    """A reporting period in the client's zone: [start, end), its key ('2026-12', '2026-Q4', '2026-W49')."""

    key: str
    label: str
    start: datetime
    end: datetime


def period_of(frequency: str, moment: datetime) -> Period:
    """The weekly, monthly or quarterly period holding `moment` (an aware local datetime)."""
    tz = moment.tzinfo
    if frequency == "weekly":
        monday = moment.date() - timedelta(days=moment.weekday())
        start = datetime(monday.year, monday.month, monday.day, tzinfo=tz)
        year, week, _ = monday.isocalendar()
        return Period(f"{year}-W{week:02d}", f"the week of {start:%d %B %Y}", start, _months_later(start, 0, 7))
    first = moment.month if frequency != "quarterly" else 3 * ((moment.month - 1) // 3) + 1
    start = datetime(moment.year, first, 1, tzinfo=tz)
    if frequency == "quarterly":
        quarter = (first - 1) // 3 + 1
        return Period(f"{moment.year}-Q{quarter}", f"Q{quarter} {moment.year}", start, _months_later(start, 3))
    return Period(f"{moment.year:04d}-{first:02d}", start.strftime("%B %Y"), start, _months_later(start, 1))


def _months_later(start: datetime, months: int, days: int = 0) -> datetime:
    """Local midnight `months` (and `days`) after start: wall-clock arithmetic, right across DST changes."""
    if days:
        day = start.date() + timedelta(days=days)
        return datetime(day.year, day.month, day.day, tzinfo=start.tzinfo)
    month = start.month - 1 + months
    return datetime(start.year + month // 12, month % 12 + 1, 1, tzinfo=start.tzinfo)


class Reports:
    """Builds reports from the tables, and plans the scheduled one."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    def for_command(self, text: str) -> Report | str:
        """`report <client> [month]`: the report, or what is wrong with the request."""
        with self.db.read() as session:
            match = resolve_client(session, text, kind="client")
            if match.client is None:
                return match.problem or ""
            period = parse_period(match.rest, self.clock.now().date())
            if period is None:
                return f"'{match.rest}' is not a month I understand: try `2026-12` or `december`."
            return self.build(session, match.client, *period) or f"{match.client.name} has no published SOP yet."

    def build(self, session: Session, client: Client, year: int, month: int) -> Report | None:
        """The report of one calendar month."""
        version = latest_version(session, client.id)
        if version is None:
            return None
        zone = Policy(version.answers).timezone
        return self.build_period(session, client, period_of("monthly", datetime(year, month, 1, tzinfo=ZoneInfo(zone))))

    def build_period(self, session: Session, client: Client, period: Period) -> Report | None:
        """The report of one period (a week, a month or a quarter)."""
        version = latest_version(session, client.id)
        if version is None:
            return None
        policy = Policy(version.answers)
        now = self.clock.now()
        start, end = period.start, period.end
        local = local_formatter(policy.timezone)
        outcomes = {
            o.occurrence: o
            for o in session.exec(select(WindowOutcome).where(WindowOutcome.client_id == client.id)).all()
        }
        windows = []
        for group in policy.groups:
            if group.rule is None:
                continue
            for occ in occurrences(group.name, group.rule, policy.timezone, start, end, list(group.blackouts)):
                outcome = outcomes.get(occ.key)
                if outcome is not None:
                    state = "all good" if outcome.status == "all_good" else "failures"
                elif occ.end > now:
                    state = "upcoming"
                else:
                    state = "no check-in"
                windows.append((occ.start, group.name, local(occ.start), state, outcome))
        windows.sort(key=lambda w: w[0])
        reviews = session.exec(
            select(OobReview)
            .where(OobReview.client_id == client.id, OobReview.opened_at >= start, OobReview.opened_at < end)
            .order_by(col(OobReview.opened_at))
        ).all()
        share: dict[str, tuple[int, int]] = {}
        review_rows = []
        for r in reviews:
            triage = _took(r.opened_at, r.triaged_at, r.triage_due, now)
            deploy = _took(r.opened_at, r.closed_at, r.deploy_due, now)
            met = r.closed_at is not None and r.status in CLOSING and r.closed_at <= r.deploy_due
            if r.closed_at is not None or r.deploy_due <= now:
                done, total = share.get(r.severity, (0, 0))
                share[r.severity] = (done + met, total + 1)
            review_rows.append(
                (r.title, r.severity.title(), local(r.opened_at, "%d %b"), triage, deploy, LABELS[r.status])
            )
        exceptions = session.exec(select(PatchException).where(PatchException.client_id == client.id)).all()
        open_exc = [(e.what, last_local_day(e.expires_at, policy.timezone)) for e in exceptions if e.expires_at > now]
        expired = [
            (e.what, last_local_day(e.expires_at, policy.timezone))
            for e in exceptions
            if start <= e.expires_at <= min(end, now)
        ]
        names = {key: name for key, name, _ in TIERS}
        context = {
            "client": client.name,
            "period": period.label,
            "windows": windows,
            "held": sum(w[3] in {"all good", "failures"} for w in windows),
            "missed": sum(w[3] == "no check-in" for w in windows),
            "reviews": review_rows,
            "share": [
                (names[k], met, total, f"{100 * met // total}%")
                for k, (met, total) in sorted(share.items(), key=lambda kv: list(names).index(kv[0]))
            ],
            "target": policy.value("audit.target", 95),
            "open_exceptions": open_exc,
            "expired_exceptions": expired,
        }
        title = f"{client.name}: patch report, {context['period']}"
        return Report(
            client_id=client.id,
            client_name=client.name,
            channel_id=client.channel_id,
            period=period.key,
            title=title,
            mrkdwn=environment("mrkdwn").get_template("report.j2").render(context).strip(),
            markdown=f"# {title}\n\n" + environment("md").get_template("report.j2").render(context).strip() + "\n",
        )

    # ----- the scheduled report (ledger subject "report") --------------------------------------------

    def plan(self, session: Session, client: Client, version: PolicyVersion, now: datetime) -> int:
        """Plan the report of the period under way (the policy's cadence), due at 09:00 local when it ends."""
        policy = Policy(version.answers)
        frequency = policy.value("audit.report_frequency", "monthly")
        period = period_of(frequency, now.astimezone(ZoneInfo(policy.timezone)))
        _start, end = period.start, period.end
        due = end.replace(hour=REPORT_DAY_HOUR)
        occurrence = f"report:{period.key}"
        return plan_once(session, client, version, "report", occurrence, "report", due, (_start, end), "report")

    def skip_reason(self, row: Reminder, now: datetime) -> str | None:
        return None

    def reminder(self, row: Reminder) -> ReportPost | None:
        key = row.occurrence.split(":", 1)[1]
        frequency = "quarterly" if "-Q" in key else "weekly" if "-W" in key else "monthly"
        with self.db.read() as session:
            client = session.get(Client, row.client_id)
            version = latest_version(session, row.client_id) if client else None
            if version is None:
                return None
            period = period_of(frequency, row.window_start.astimezone(ZoneInfo(Policy(version.answers).timezone)))
            report = self.build_period(session, client, period)
        if report is None or not report.channel_id:
            return None
        return ReportPost(row.id, report.channel_id, report)


@dataclass(frozen=True)
class ReportPost:
    """A scheduled report, as the reminder poster sees it."""

    reminder_id: int
    channel_id: str
    report: Report


def _took(opened: datetime, done: datetime | None, due: datetime, now: datetime) -> str:
    if done is None:
        return "overdue" if now > due else "open"
    hours = (done - opened).total_seconds() / 3600
    spent = f"{hours:.1f} h" if hours < 72 else f"{hours / 24:.1f} d"
    return f"{spent} ({'met' if done <= due else 'missed'})"
