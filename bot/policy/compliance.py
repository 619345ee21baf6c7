"""The compliance check: each policy's worst case from release to installed, against its frameworks' deadlines."""

from __future__ import annotations

import bisect
import itertools
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from bot.kernel.durations import describe_duration, parse_duration
from bot.policy.model import Group, Policy
from bot.policy.windows import occurrences, patch_tuesday

RULES_FILE = Path(__file__).resolve().parent / "frameworks.yaml"
RELEASE_HOUR_UTC = 17  # vendors' Patch Tuesday releases land around 10:00 Pacific
MONTHS = 12
UNBOUNDED = timedelta(days=9999)


@dataclass(frozen=True)
class WorstCase:
    """How long an update can take from release to installed on one group, by one path, and why."""

    group: str
    path: str  # os, third_party, oob
    time: timedelta
    cause: str


@dataclass(frozen=True)
class Verdict:
    framework: str
    label: str
    breaches: tuple[str, ...]

    @property
    def passed(self) -> bool:
        return not self.breaches

    def lines(self) -> list[str]:
        if self.passed:
            return [f"{self.label}: pass."]
        return [f"{self.label}: {breach}" for breach in self.breaches]


@lru_cache(maxsize=1)
def rules() -> dict[str, Any]:
    with RULES_FILE.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def words(delta: timedelta) -> str:
    """'41 days', '52 hours': whole days past three days, hours below."""
    if delta >= UNBOUNDED:
        return "no time limit"
    hours = delta.total_seconds() / 3600
    if hours <= 72:
        return f"{round(hours)} hours"
    return f"{round(hours / 24)} days"


class Check:
    """Worst cases for one policy, from a reference time (windows of the next twelve months)."""

    def __init__(self, policy: Policy, now: datetime) -> None:
        self.policy = policy
        self.now = now
        self.start = now - timedelta(days=40)
        self.end = now + timedelta(days=31 * (MONTHS + 2))
        self._starts: dict[str, list[datetime]] = {}

    def worst_cases(self) -> list[WorstCase]:
        found = [self._oob()]
        for group in self.policy.groups:
            found.append(self._os(group))
            if "third_party" in (self.policy.value("approval.types") or []):
                found.append(self._third_party(group))
        return found

    # ----- paths --------------------------------------------------------------------------------

    def _approval(self, patch_type: str) -> tuple[timedelta | None, str]:
        mode = self.policy.value(f"approval.{patch_type}.mode")
        if patch_type not in (self.policy.value("approval.types") or []) or mode == "never":
            return None, f"{patch_type.replace('_', '-')} updates are never deployed"
        if mode == "on_request":
            return None, f"{patch_type.replace('_', '-')} updates wait for a request, with no time limit"
        if mode == "delayed":
            days = int(self.policy.value("approval.delay_days", 0))
            return timedelta(days=days), f"a {days}-day approval delay"
        return timedelta(0), "automatic approval"

    def _os(self, group: Group) -> WorstCase:
        delay, why = self._approval("security")
        if delay is None or group.rule is None:
            return WorstCase(group.name, "os", UNBOUNDED, why if delay is None else f"{group.name} has no window")
        worst, worst_cause = timedelta(0), why
        pilot = self._pilot()
        for month in range(MONTHS):
            year, mon = divmod(self.now.month - 1 + month, 12)
            day = patch_tuesday(self.now.year + year, mon + 1)
            release = datetime(day.year, day.month, day.day, RELEASE_HOUR_UTC, tzinfo=UTC)
            ready = release + delay
            cause = why
            if pilot is not None and pilot.name != group.name:
                pilot_start = self._first_start(pilot, ready)  # the pilot installs when its window opens
                if pilot_start is None:
                    return WorstCase(group.name, "os", UNBOUNDED, "the pilot group has no window")
                ready = max(ready, pilot_start + timedelta(days=int(self.policy.value("testing.promotion_days", 0))))
                cause = f"{why}, then the pilot and its promotion wait"
            installed = self._installed(group, ready)
            if installed is None:
                return WorstCase(group.name, "os", UNBOUNDED, f"{group.name} has no window")
            if installed - release > worst:
                worst = installed - release
                missed = installed - release > timedelta(days=20)
                worst_cause = (
                    f"{cause} misses the {group.rule.describe()} window, so an update waits for the next one"
                    if missed
                    else cause
                )
        return WorstCase(group.name, "os", worst, worst_cause)

    def _third_party(self, group: Group) -> WorstCase:
        delay, why = self._approval("third_party")
        if delay is None:
            return WorstCase(group.name, "third_party", UNBOUNDED, why)
        method = self.policy.value("approval.third_party_deploy", "group_window")
        if method == "daily":
            return WorstCase(group.name, "third_party", delay + timedelta(days=1), "daily deployment")
        if method == "weekly":
            return WorstCase(group.name, "third_party", delay + timedelta(days=7, hours=4), "a weekly window")
        starts = self._window_starts(group)
        if len(starts) < 2 or group.rule is None:
            return WorstCase(group.name, "third_party", UNBOUNDED, f"{group.name} has no regular window")
        gap = max(b - a for a, b in itertools.pairwise(starts))
        length = parse_duration(group.rule.length)
        cause = (
            f"third-party updates released any day wait for the {group.name} window: up to {words(gap)} "
            f"between two windows"
        )
        return WorstCase(group.name, "third_party", delay + gap + length, cause)

    def _oob(self) -> WorstCase:
        triage = parse_duration(self.policy.value("oob.triage_time", "4h"))
        deploy = parse_duration(self.policy.value("oob.deploy_time", "48h"))
        return WorstCase("All groups", "oob", triage + deploy, "out-of-band triage plus deployment time")

    # ----- windows ------------------------------------------------------------------------------

    def _pilot(self) -> Group | None:
        if self.policy.value("testing.environment", "none") == "none":
            return None
        return next((g for g in self.policy.groups if g.key == "pilot"), None)

    def _window_starts(self, group: Group) -> list[datetime]:
        if group.name not in self._starts:
            found = (
                occurrences(group.name, group.rule, self.policy.timezone, self.start, self.end, list(group.blackouts))
                if group.rule
                else []
            )
            self._starts[group.name] = [o.start for o in found]
        return self._starts[group.name]

    def _first_start(self, group: Group, ready: datetime) -> datetime | None:
        """The start of the group's first window that starts at or after `ready`."""
        starts = self._window_starts(group)
        index = bisect.bisect_left(starts, ready)
        return starts[index] if index < len(starts) else None

    def _installed(self, group: Group, ready: datetime) -> datetime | None:
        """The end of the group's first window that starts at or after `ready`."""
        start = self._first_start(group, ready)
        if start is None or group.rule is None:
            return None
        return start + parse_duration(group.rule.length)

    def months_without_window(self, group: Group) -> list[str]:
        """Calendar months of the next year in which the group has no window."""
        have = {(s.year, s.month) for s in self._window_starts(group)}
        missing = []
        for month in range(MONTHS):
            year, mon = divmod(self.now.month - 1 + month, 12)
            if (self.now.year + year, mon + 1) not in have:
                missing.append(f"{self.now.year + year}-{mon + 1:02d}")
        return missing


def check(policy: Policy, now: datetime) -> list[Verdict]:
    """A verdict for each framework the client chose (CISA's 3-day rule whenever out-of-band applies)."""
    data = rules()
    chosen = list(policy.frameworks)
    if chosen and "cisa_kev" not in chosen:
        chosen.append("cisa_kev")
    checker = Check(policy, now)
    worst = checker.worst_cases()
    verdicts = []
    for framework in chosen:
        breaches: list[str] = []
        for rule in data["rules"]:
            if rule["framework"] != framework:
                continue
            if rule.get("levels") and policy.value("client.e8_level", "ml1") not in rule["levels"]:
                continue
            breaches += _breaches(policy, rule, worst, data["labels"][framework])
        for cadence in data["cadence"]:
            if framework in cadence["frameworks"]:
                breaches += _cadence_breaches(policy, checker, cadence)
        if framework == "cyber_essentials" and policy.value("sla.unrated", "high") != "high":
            breaches.append(
                "updates with no severity rating are not treated as High; Cyber Essentials treats "
                "them as critical or high (14 days). Change: treat unrated updates as High."
            )
        if framework == "hipaa" and int(policy.value("audit.retention_months", 12)) < 72:
            breaches.append("evidence is kept for less than 6 years. Change: keep it for 72 months.")
        if framework in data["labels"]:
            verdicts.append(Verdict(framework, data["labels"][framework], tuple(dict.fromkeys(breaches))))
    return verdicts


def _breaches(policy: Policy, rule: dict[str, Any], worst: list[WorstCase], label: str) -> list[str]:
    deadline = parse_duration(rule["deadline"])
    found = []
    for case in worst:
        if case.path not in rule["paths"] or case.time <= deadline:
            continue
        tiers = " and ".join(t.title() for t in rule["tiers"])
        how = {"os": "", "third_party": " (third-party apps)", "oob": " (out-of-band)"}[case.path]
        found.append(
            f"{case.group}, {tiers} severity{how}: up to {words(case.time)} after release "
            f"({case.cause}). {label} allows {describe_duration(deadline)}. Change: {_fix(case)}"
        )
    return found


def _cadence_breaches(policy: Policy, checker: Check, cadence: dict[str, Any]) -> list[str]:
    found = []
    for group in policy.groups:
        missing = checker.months_without_window(group)
        if missing:
            found.append(
                f"{group.name}: no window in {', '.join(missing[:4])}{' and more' if len(missing) > 4 else ''}; "
                "CIS Controls v8 7.3 asks for monthly patching. Change: a monthly or more frequent window."
            )
    if policy.value("audit.review_cadence", "annually") not in {"annually", "semiannually", "quarterly"}:
        found.append("the policy is not reviewed annually (CIS 7.1). Change: review it at least annually.")
    return found


def _fix(case: WorstCase) -> str:
    if case.path == "oob":
        return "shorten the out-of-band triage and deployment times."
    if "no time limit" in case.cause or "never" in case.cause:
        return "approve security updates automatically."
    if case.path == "third_party":
        return "deploy third-party updates daily, or in a weekly window."
    if "approval delay" in case.cause:
        return "shorten the approval delay, or move the window later after Patch Tuesday."
    return "move the window closer to Patch Tuesday."


def summary_lines(policy: Policy, now: datetime) -> tuple[str, ...] | None:
    """The verdicts as lines for the SOP and the overview; None when the client chose no framework."""
    verdicts = check(policy, now)
    if not verdicts:
        return None
    return tuple(line for verdict in verdicts for line in verdict.lines())
