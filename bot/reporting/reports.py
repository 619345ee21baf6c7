"""Patch reports: for the part of a period under a published policy, the windows held or missed, the figures
measured from the RMM's device data, out-of-band reviews against their deadlines, and exceptions; with charts
in the printable file and three numbers in words for Slack."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from markupsafe import Markup
from sqlmodel import Session, col, select

from bot.kernel.clock import Clock
from bot.kernel.lookup import resolve_client
from bot.kernel.questions import slug
from bot.kernel.timezones import last_local_day
from bot.kernel.versions import latest_version
from bot.oob.rules import CLOSING, LABELS
from bot.patchdata.status import ClientStatus, measure
from bot.policy.model import TIERS, Policy
from bot.policy.windows import occurrences
from bot.reporting.in_force import Span, first_published, spans
from bot.reporting.measured import Measured, measure_period
from bot.reporting.periods import Period, parse_period, period_of
from bot.reporting.report_figures import Figures, MonthCache, figures
from bot.scheduling.planning import plan_once
from bot.sop.document import local_formatter
from bot.sop.render import environment, html_environment, markdown_to_html
from storage.db import Database
from storage.models import Client, OobReview, PatchException, PolicyVersion, Reminder, WindowOutcome

REPORT_DAY_HOUR = 9  # the scheduled report goes out at 09:00 local on the first day of the next period


@dataclass(frozen=True)
class Report:
    """One client's report for one period, in every format it is said in."""

    client_id: int
    client_name: str
    channel_id: str | None
    period: str  # "2026-12"
    title: str
    mrkdwn: str
    markdown: str
    headline: tuple[str, ...] = ()  # three numbers in words, for the post in Slack
    figures: Figures | None = field(default=None, compare=False)

    def body_html(self, level: int = 1) -> Markup:
        """The report as HTML: the headline, the charts, then the detail (headings from `level`)."""
        detail = markdown_to_html("#" * level + self.markdown[1:])  # the markdown opens with "# title"
        lead = "".join(f'<p class="headline">{Markup.escape(line)}</p>' for line in self.headline)
        pictures = "".join(chart.figure_html() for chart in self.figures.charts()) if self.figures else ""
        first_break = detail.index("</h", 0) + 5 if "</h" in detail else 0
        return Markup(detail[:first_break] + lead + pictures + detail[first_break:])

    def html(self) -> str:
        page = html_environment().get_template("sop.html.j2")
        return page.render(title=self.title, body=self.body_html())

    @property
    def filename(self) -> str:
        return f"{slug(self.client_name)}-patch-report-{self.period}.html"


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
            version = latest_version(session, match.client.id)
            if version is None:
                return f"{match.client.name} has no published SOP yet."
            report = self.build(session, match.client, *period)
            if report is None:
                first = first_published(session, match.client.id)
                assert first is not None
                local = first.astimezone(ZoneInfo(Policy(version.answers).timezone))
                return (
                    f"{match.client.name}'s SOP was first published on {local:%d %B %Y}, so no policy was in force "
                    f"in {datetime(period[0], period[1], 1):%B %Y}. Its first report covers {local:%B %Y}."
                )
            return report

    def build(
        self, session: Session, client: Client, year: int, month: int, cache: MonthCache | None = None
    ) -> Report | None:
        """The report of one calendar month; None when no policy was in force in it."""
        version = latest_version(session, client.id)
        if version is None:
            return None
        zone = ZoneInfo(Policy(version.answers).timezone)
        return self.build_period(session, client, period_of("monthly", datetime(year, month, 1, tzinfo=zone)), cache)

    def build_period(
        self, session: Session, client: Client, period: Period, cache: MonthCache | None = None
    ) -> Report | None:
        """The report of one period (a week, a month or a quarter), from the first publish on; None before it."""
        version = latest_version(session, client.id)
        now = self.clock.now()
        in_force = spans(session, client.id, period.start, period.end)
        if version is None or not in_force:
            return None
        policy = Policy(version.answers)
        start, end = in_force[0].start, period.end
        local = local_formatter(policy.timezone)
        measured = measure_period(session, client.id, policy, start, end, now)
        status = measure(session, client, policy, now) if measured is not None else None
        context = {
            "client": client.name,
            "period": period.label,
            "cut_short": local(start, "%d %B %Y") if start > period.start else "",
            "versions": [
                (f"v{s.version.version}", local(s.version.published_at, "%d %b %Y"), s.version.published_by_name)
                for s in in_force
            ],
            "windows": _windows(session, client.id, in_force, now, local),
            "measured": measured,
            "status": status,
            "target": policy.value("audit.target", 95),
            **_reviews(session, client.id, start, end, now, local),
            **_exceptions(session, client.id, policy.timezone, period, now),
        }
        context["held"] = sum(w[3] in {"all good", "failures"} for w in context["windows"])
        context["missed"] = sum(w[3] == "no check-in" for w in context["windows"])
        title = f"{client.name}: patch report, {period.label}"
        return Report(
            client_id=client.id,
            client_name=client.name,
            channel_id=client.channel_id,
            period=period.key,
            title=title,
            mrkdwn=environment("mrkdwn").get_template("report.j2").render(context).strip(),
            markdown=f"# {title}\n\n" + environment("md").get_template("report.j2").render(context).strip() + "\n",
            headline=_headline(context, period, now, local),
            figures=figures(session, client.id, policy, period, measured, status, now, cache),
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


def _windows(session: Session, client_id: int, in_force: list[Span], now: datetime, local) -> list[tuple]:  # type: ignore[no-untyped-def]
    """Each window of each version while it was in force: (start, group, local start, state, outcome)."""
    outcomes = {
        o.occurrence: o for o in session.exec(select(WindowOutcome).where(WindowOutcome.client_id == client_id)).all()
    }
    windows = []
    for span in in_force:
        policy = Policy(span.version.answers)
        for group in policy.groups:
            if group.rule is None:
                continue
            blackouts = list(group.blackouts)
            for occ in occurrences(group.name, group.rule, policy.timezone, span.start, span.end, blackouts):
                outcome = outcomes.get(occ.key)
                if outcome is not None:
                    state = "all good" if outcome.status == "all_good" else "failures"
                elif occ.end > now:
                    state = "upcoming"
                else:
                    state = "no check-in"
                windows.append((occ.start, group.name, local(occ.start), state, outcome))
    windows.sort(key=lambda w: w[0])
    return windows


def _reviews(session: Session, client_id: int, start: datetime, end: datetime, now: datetime, local) -> dict:  # type: ignore[no-untyped-def]
    """Out-of-band reviews opened in the period, with their times, and the share of their deadlines met."""
    reviews = session.exec(
        select(OobReview)
        .where(OobReview.client_id == client_id, OobReview.opened_at >= start, OobReview.opened_at < end)
        .order_by(col(OobReview.opened_at))
    ).all()
    share: dict[str, tuple[int, int]] = {}
    rows = []
    for r in reviews:
        triage = _took(r.opened_at, r.triaged_at, r.triage_due, now)
        deploy = _took(r.opened_at, r.closed_at, r.deploy_due, now)
        met = r.closed_at is not None and r.status in CLOSING and r.closed_at <= r.deploy_due
        if r.closed_at is not None or r.deploy_due <= now:
            done, total = share.get(r.severity, (0, 0))
            share[r.severity] = (done + met, total + 1)
        rows.append((r.title, r.severity.title(), local(r.opened_at, "%d %b"), triage, deploy, LABELS[r.status]))
    names = {key: name for key, name, _ in TIERS}
    ordered = sorted(share.items(), key=lambda kv: list(names).index(kv[0]))
    return {
        "reviews": rows,
        "share": [(names[k], met, total, f"{100 * met // total}%") for k, (met, total) in ordered],
    }


def _exceptions(session: Session, client_id: int, zone: str, period: Period, now: datetime) -> dict:
    exceptions = session.exec(select(PatchException).where(PatchException.client_id == client_id)).all()
    return {
        "open_exceptions": [(e.what, last_local_day(e.expires_at, zone)) for e in exceptions if e.expires_at > now],
        "expired_exceptions": [
            (e.what, last_local_day(e.expires_at, zone))
            for e in exceptions
            if period.start <= e.expires_at <= min(period.end, now)
        ],
    }


def _headline(context: dict, period: Period, now: datetime, local) -> tuple[str, ...]:  # type: ignore[no-untyped-def]
    """Three numbers in words: deadlines met, overdue at the end, devices fully patched (or the windows held)."""
    measured: Measured | None = context["measured"]
    status: ClientStatus | None = context["status"]
    windows = f"{context['held']} of {len(context['windows'])} patch windows had their check-in."
    if measured is None:
        return (windows, "No device data yet, so nothing is measured: import an RMM export to measure deadlines.")
    total, target = measured.total, context["target"]
    if total.due:
        share = f"{round(100 * total.on_time / total.due)}% of the {total.due} device updates "
        share += "installed" if measured.basis == "install" else "due"
        share += f" in {period.label} were installed by their deadline (target {target}%)."
    else:
        share = f"No device update fell due in {period.label}."
    stop = min(period.end, now)
    when = "now" if stop == now else f"at the end of {period.label}"
    count = measured.overdue_count
    longest = f", the longest by {measured.overdue[0].days} days" if measured.overdue else ""
    overdue = (
        f"{count} device update{'s were' if count != 1 else ' was'} overdue {when}{longest}."
        if count
        else f"Nothing was overdue {when}."
    )
    assert status is not None
    patched = (
        f"{status.fully_patched} of {status.seen} devices seen are fully patched (device data of {status.refreshed})."
    )
    return (share, overdue, patched)


def _took(opened: datetime, done: datetime | None, due: datetime, now: datetime) -> str:
    if done is None:
        return "overdue" if now > due else "open"
    hours = (done - opened).total_seconds() / 3600
    spent = f"{hours:.1f} h" if hours < 72 else f"{hours / 24:.1f} d"
    return f"{spent} ({'met' if done <= due else 'missed'})"
