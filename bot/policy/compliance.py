"""The compliance check: each policy's worst cases (bot/policy/worst_case.py) against the rules of the
frameworks its client chose (frameworks.yaml, each rule quoting its framework), one verdict per framework.

A chosen framework's verdict is pass or breach and sets `patchpolicy check`'s exit status. CISA's 3-day rule
binds US federal agencies only: chosen, it is a framework; otherwise a breach of it is advice. A policy that
cannot keep its own deadline table gets a warning. Every line leads with its verdict, then the numbers.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from bot.kernel.durations import parse_duration
from bot.policy.model import TIERS, Policy
from bot.policy.worst_case import KINDS, UNBOUNDED, WorstCase, WorstCases, words

RULES_FILE = Path(__file__).resolve().parent / "frameworks.yaml"
HEADS = {"framework": "Breach", "advice": "Advice", "warning": "Warning"}
PATCH_TYPE = {
    "patch_tuesday": "security",
    "off_cycle": "security",
    "third_party": "third-party",
    "firmware": "firmware",
}


@dataclass(frozen=True)
class Verdict:
    """One framework's verdict. kind: framework (a chosen framework: sets the exit status), advice, warning."""

    framework: str
    label: str
    breaches: tuple[str, ...]
    kind: str = "framework"

    @property
    def passed(self) -> bool:
        return not self.breaches

    @property
    def binding(self) -> bool:
        return self.kind == "framework"

    def lines(self) -> list[str]:
        if self.passed:
            return [f"Pass: {self.label}."]
        return [f"{HEADS[self.kind]}: {self.label}: {breach}" for breach in self.breaches]

    def summary(self) -> str:
        """The verdict in one cell: 'pass', or its head word and every gap."""
        return "pass" if self.passed else f"{HEADS[self.kind].lower()}: " + "; ".join(self.breaches)


@lru_cache(maxsize=1)
def rules() -> dict[str, Any]:
    with RULES_FILE.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def label_of(policy: Policy, framework: str) -> str:
    label = rules()["labels"].get(framework, framework)
    if framework == "essential_eight":
        return f"{label} {str(policy.value('client.e8_level', 'ml1')).upper()}"
    return label


def check(policy: Policy, now: datetime) -> list[Verdict]:
    """A verdict for each framework the client chose, then CISA's rule as advice and the policy's own
    deadlines as a warning when they are broken."""
    cases = WorstCases(policy, now)
    chosen = [f for f in policy.frameworks if f in rules()["labels"]]
    verdicts = [Verdict(f, label_of(policy, f), tuple(dict.fromkeys(_gaps(policy, cases, f)))) for f in chosen]
    if "cisa_kev" not in chosen and (advice := _gaps(policy, cases, "cisa_kev")):
        verdicts.append(
            Verdict("cisa_kev", "CISA BOD 26-04 (binding on US federal agencies only)", tuple(advice), "advice")
        )
    if own := own_deadlines(policy, cases):
        verdicts.append(Verdict("own_deadlines", rules()["labels"]["own_deadlines"], tuple(own), "warning"))
    return verdicts


def _gaps(policy: Policy, cases: WorstCases, framework: str) -> list[str]:
    label = label_of(policy, framework)
    level = policy.value("client.e8_level", "ml1")
    found: list[str] = []
    for rule in rules()["rules"]:
        if rule["framework"] != framework or (rule.get("levels") and level not in rule["levels"]):
            continue
        if rule.get("requires") == "internet_facing" and not policy.value("scope.internet_facing"):
            continue
        found += _rule_gaps(policy, cases, rule, label)
    for item in rules()["checks"]:
        if framework in item["frameworks"]:
            found += CHECKS[item["check"]](policy, cases, item, label)
    return found


def _missing_triggers(policy: Policy, rule: dict[str, Any]) -> list[str] | None:
    """None when the rule has no out-of-band route; else the triggers still needed for it ([] when all set)."""
    if not rule.get("oob_triggers"):
        return None
    chosen = policy.value("oob.triggers") or []
    return [alternatives[0] for alternatives in rule["oob_triggers"] if not any(t in chosen for t in alternatives)]


def _rule_gaps(policy: Policy, cases: WorstCases, rule: dict[str, Any], label: str) -> list[str]:
    deadline = parse_duration(rule["deadline"])
    missing = _missing_triggers(policy, rule)
    paths = [cases.oob()] if missing == [] else cases.of(rule["kinds"])
    found = [
        f"{case.group}, {KINDS[case.kind]}: {_how_long(case)}; {label} allows "
        f"{words(deadline)} for {rule['scope']}. Why: {case.explain()}. Change: "
        f"{fix(policy, cases, case, deadline, missing)}"
        for case in paths
        if case.time > deadline
    ]
    for tier in rule.get("tiers", []):
        promised = policy.value(f"sla.{tier}")
        if promised and parse_duration(promised) > deadline:
            name = tier.title()
            found.append(
                f"the SOP's own {name} deadline is {words(parse_duration(promised))}; {label} allows "
                f"{words(deadline)} for {rule['scope']}. Change: a {name} deadline of {words(deadline)} or less."
            )
    return found


def _how_long(case: WorstCase) -> str:
    return "no time limit" if case.time >= UNBOUNDED else f"up to {words(case.time)} after release"


def fix(policy: Policy, cases: WorstCases, case: WorstCase, deadline: timedelta, missing: list[str] | None) -> str:
    """The one change that brings this worst case within the deadline."""
    if case.blocker_kind == "approval":
        return f"deploy and approve {PATCH_TYPE[case.kind]} updates automatically."
    if case.blocker_kind == "reboot":
        return f"reboot {case.group} devices when an update needs it, or prompt users until a forced reboot."
    if case.blocker_kind == "window":
        return f"give {case.group} a regular patch window."
    if case.kind == "oob":
        return f"shorten out-of-band triage and deployment to {words(deadline)} together."
    if missing:
        names = " and ".join(f'"{_trigger_label(policy, t)}"' for t in missing)
        route = cases.oob().time
        tail = "" if route <= deadline else f", and shorten its triage and deployment to {words(deadline)}"
        return f"add the out-of-band trigger {names}, so these updates take the emergency route{tail}."
    excess = case.time - deadline
    if case.part("missed") >= excess:
        return f"install on {case.group} devices that missed their window as soon as they are online."
    if case.kind == "patch_tuesday" and case.part("pilot_wait") >= excess:
        return _move_window("pilot", case.part("approval"))
    if case.kind == "patch_tuesday" and case.part("wait") >= excess:
        return _move_window(case.group, case.part("approval") + case.part("pilot_wait") + case.part("promotion"))
    if case.kind != "patch_tuesday" and case.part("wait") + case.part("window") - timedelta(days=1) >= excess:
        what = "third-party updates" if case.kind == "third_party" else "off-cycle releases"
        return f"deploy {what} daily."
    for part, change in (
        ("approval", "shorten the approval delay"),
        ("promotion", "shorten the pilot's promotion time"),
        ("reboot", "shorten the forced-reboot time"),
    ):
        if case.part(part) >= excess:
            return f"{change}."
    if deadline <= timedelta(hours=72):
        return "send these updates out of band: a window cannot be this fast once the pilot and approval run."
    return "shorten the approval delay and the pilot, and move the window closer to the release."


def _move_window(group: str, ready: timedelta) -> str:
    """Move a window to the first day an update released on Patch Tuesday is ready for it."""
    days = math.ceil(ready / timedelta(days=1))
    when = f"to Patch Tuesday + {days} days, when the update is ready for it" if days else "closer to Patch Tuesday"
    return f"move the {group} window {when}."


def _trigger_label(policy: Policy, trigger: str) -> str:
    question = policy.questions.get("oob.triggers")
    choice = question.choice(trigger) if question else None
    return choice.label if choice else trigger


def own_deadlines(policy: Policy, cases: WorstCases) -> list[str]:
    """Tiers whose promised deadline the policy's own worst case cannot keep."""
    regular = [c for c in cases.all if c.kind != "oob"]
    worst = max(regular, key=lambda c: c.time, default=None)
    found = []
    oob = cases.oob()
    promised = policy.value("sla.emergency")
    if promised and oob.time > parse_duration(promised):
        found.append(
            f"out-of-band updates take up to {words(oob.time)} ({oob.explain()}); the SOP's Emergency deadline is "
            f"{words(parse_duration(promised))}. Change: shorten out-of-band triage and deployment."
        )
    if worst is None:
        return found
    late = [
        (name, parse_duration(policy.value(f"sla.{key}")))
        for key, name, _ in TIERS[1:]
        if policy.value(f"sla.{key}") and worst.time > parse_duration(policy.value(f"sla.{key}"))
    ]
    if late:
        promises = ", ".join(f"{name} {words(limit)}" for name, limit in late)
        found.append(
            f"{worst.group}, {KINDS[worst.kind]}: {_how_long(worst)}, beyond the SOP's own "
            f"deadlines ({promises}). Why: {worst.explain()}. Change: {fix(policy, cases, worst, late[-1][1], None)}"
        )
    return found


# ----- checks that are not a deadline ------------------------------------------------------------------------


def _clock_at_release(policy: Policy, cases: WorstCases, item: dict[str, Any], label: str) -> list[str]:
    if policy.value("sla.clock_start", "release") != "detection":
        return []
    return [
        f"the SOP's deadlines start when an update is detected; {label} counts from its release, so every "
        "deadline runs late by the time detection takes. Change: start the clock at the vendor's release."
    ]


def _no_excluded_devices(policy: Policy, cases: WorstCases, item: dict[str, Any], label: str) -> list[str]:
    excluded = [str(line) for line in policy.value("scope.exclusions") or []]
    if not excluded:
        return []
    shown = "; ".join(excluded[:3]) + (f" and {len(excluded) - 3} more" if len(excluded) > 3 else "")
    return [
        f"{len(excluded)} in-scope device(s) excluded from patching ({shown}); {label} has no exclusion for "
        "in-scope devices. Change: patch them, or take them out of the assessed scope (segregated)."
    ]


def _unrated_as_high(policy: Policy, cases: WorstCases, item: dict[str, Any], label: str) -> list[str]:
    if policy.value("sla.unrated", "high") == "high":
        return []
    return [
        f"updates with no severity rating are not treated as High; {label} gives them 14 days. Change: treat "
        "unrated updates as High."
    ]


def _cis_monthly(policy: Policy, cases: WorstCases, item: dict[str, Any], label: str) -> list[str]:
    limit = parse_duration(item["max_gap"])
    found = []
    for group in policy.groups:
        gap = cases.longest_gap(group)
        if gap > limit:
            said = "no regular window" if gap >= UNBOUNDED else f"up to {words(gap)} between two windows"
            found.append(
                f"{group.name}: {said}; {label} 7.3 asks for monthly or more frequent patching (at most "
                f"{words(limit)} apart, the longest gap between two Patch Tuesdays). Change: a window every month, "
                "with no blackout that skips a whole month."
            )
    return found


def _cis_automated(policy: Policy, cases: WorstCases, item: dict[str, Any], label: str) -> list[str]:
    found = []
    if policy.value("deployment.who") == "technician":
        found.append(
            f"a technician deploys patches; {label} 7.3 and 7.4 ask for automated patch management. "
            "Change: deploy through RMM automation."
        )
    types = policy.value("approval.types") or []
    manual = ("on_request", "never")
    if "security" not in types or policy.value("approval.security.mode") in manual:
        found.append(
            f"operating system security updates are not approved automatically; {label} 7.3 asks for "
            "automated updates. Change: approve security updates automatically."
        )
    if policy.value("scope.apps") and (
        "third_party" not in types or policy.value("approval.third-party.mode") in manual
    ):
        found.append(
            f"third-party applications are not updated automatically; {label} 7.4 asks for automated "
            "application updates. Change: approve third-party updates automatically."
        )
    return found


CHECKS: dict[str, Callable[[Policy, WorstCases, dict[str, Any], str], list[str]]] = {
    "clock_at_release": _clock_at_release,
    "no_excluded_devices": _no_excluded_devices,
    "unrated_as_high": _unrated_as_high,
    "cis_monthly": _cis_monthly,
    "cis_automated": _cis_automated,
}


def summary_lines(policy: Policy, now: datetime) -> tuple[str, ...]:
    """The verdicts as lines for the SOP and the overview; empty when there is nothing to say (no framework
    chosen, no advice, no warning)."""
    return tuple(line for verdict in check(policy, now) for line in verdict.lines())
