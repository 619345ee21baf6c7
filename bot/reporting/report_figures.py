"""What a report's pictures are drawn from: the on-time share per severity over twelve months (months under a
policy only), time to patch per severity in the period, and devices by state per maintenance group."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from bot.patchdata.records import SEVERITIES
from bot.patchdata.status import DEVICE_STATES, ClientStatus
from bot.policy.model import Policy
from bot.reporting import charts
from bot.reporting.in_force import spans
from bot.reporting.measured import BUCKET_NAMES, Measured, month_shares
from bot.reporting.periods import Period, months_before

TREND_MONTHS = 12
MonthCache = dict[tuple[int, str], dict[str, float | None] | None]  # (client, month) -> shares, for an audit pack


@dataclass(frozen=True)
class Figures:
    """Plain numbers for the charts; drawing happens only when a chart is asked for."""

    period_label: str
    target: int
    trend: tuple[tuple[str, dict[str, float | None]], ...]
    histograms: dict[str, dict[str, int]]
    device_states: tuple[tuple[str, dict[str, int]], ...]
    states_as_of: str

    def charts(self) -> tuple[charts.Chart, ...]:
        found = []
        with charts.styled():
            if len(self.trend) > 0:
                found.append(charts.svg(charts.trend(self.trend, self.target), self.trend_title, self.trend_alt))
            if self.histograms:
                found.append(
                    charts.svg(
                        charts.distribution(self.histograms, BUCKET_NAMES),
                        f"Time to patch per severity, {self.period_label}",
                        "Bars: how many updates of each severity were installed within 1, 2, 7, 14, 30 and 90 days.",
                    )
                )
            if self.device_states:
                found.append(
                    charts.svg(
                        charts.device_states(self.device_states),
                        f"Devices by state per group ({self.states_as_of})",
                        "; ".join(
                            f"{group}: " + ", ".join(f"{counts[s]} {s.lower()}" for s in DEVICE_STATES)
                            for group, counts in self.device_states
                        ),
                    )
                )
        return tuple(found)

    def headline_png(self) -> bytes | None:
        """The headline chart (the trend) as a PNG for Slack; None when there is nothing to draw."""
        if not self.trend:
            return None
        with charts.styled():
            return charts.png(charts.trend(self.trend, self.target))

    @property
    def trend_title(self) -> str:
        return f"Installed by the deadline, per severity and month, against the {self.target}% target"

    @property
    def trend_alt(self) -> str:
        parts = []
        for label, shares in self.trend:
            said = ", ".join(f"{s} {round(100 * v)}%" for s, v in shares.items() if v is not None)
            parts.append(f"{label}: {said or 'nothing due'}")
        return "; ".join(parts)


def figures(
    session: Session,
    client_id: int,
    policy: Policy,
    period: Period,
    measured: Measured | None,
    status: ClientStatus | None,
    now: datetime,
    cache: MonthCache | None = None,
) -> Figures | None:
    """The figures of a report; None when the client has no device data."""
    if measured is None:
        return None
    cache = cache if cache is not None else {}
    trend = []
    for month in months_before(period, TREND_MONTHS):
        if month.start > now:
            break
        key = (client_id, month.key)
        if key not in cache:
            under = spans(session, client_id, month.start, month.end)
            cache[key] = month_shares(session, client_id, under[0].start, month.end, now) if under else None
        found = cache[key]
        if found is not None:
            shares = {s: found[s] for s in SEVERITIES if s in found and s != "unknown"}
            trend.append((month.start.strftime("%b %y"), shares))
    histograms = {s: dict(t.histogram) for s, t in measured.severities if t.installed}
    return Figures(
        period_label=period.label,
        target=int(policy.value("audit.target") or 95),
        trend=tuple(trend),
        histograms=histograms,
        device_states=status.group_states if status is not None else (),
        states_as_of=f"device data of {status.refreshed}" if status is not None else "",
    )
