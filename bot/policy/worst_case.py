"""The worst case from an update's release to in effect, per maintenance group and per way updates arrive.

Patch Tuesday updates are followed month by month over the next year: the approval delay, the pilot and its
promotion, the wait for the group's first window after that, the window, a device that missed it waiting for
the next one, and the forced reboot. Updates released on any other day (off-cycle OS releases, third-party
apps, firmware) can land just after an opportunity, so they wait the longest gap between two opportunities.
"""

from __future__ import annotations

import bisect
import itertools
import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cached_property

from bot.kernel.durations import parse_duration
from bot.kernel.questions import slug
from bot.policy.model import Group, Policy
from bot.policy.windows import occurrences, patch_tuesday

RELEASE_HOUR_UTC = 17  # vendors' Patch Tuesday releases land around 10:00 Pacific
MONTHS = 12
UNBOUNDED = timedelta(days=9999)
OFF_CYCLE_CLASSES = ("macos", "linux", "hypervisors", "mobile")
WEEKLY = (timedelta(days=7), timedelta(hours=4))  # a weekly window: the gap between two, and its assumed length
KINDS = {
    "patch_tuesday": "Patch Tuesday OS updates",
    "off_cycle": "off-cycle OS updates",
    "third_party": "third-party apps",
    "firmware": "network firmware",
    "oob": "out-of-band updates",
}


def _unbounded(group: Group, kind: str, not_approved: str, not_rebooted: str) -> WorstCase:
    """An update that never takes effect: never approved (or on request), or never rebooted into."""
    if not_approved:
        return WorstCase(group.name, kind, blocker=not_approved, blocker_kind="approval")
    return WorstCase(group.name, kind, blocker=not_rebooted, blocker_kind="reboot")


def words(delta: timedelta) -> str:
    """A duration rounded up to the hour, never down: '73 hours' below four days, '14 days 10 hours' above."""
    if delta >= UNBOUNDED:
        return "no time limit"
    hours = math.ceil(delta.total_seconds() / 3600 - 1e-9)
    if hours < 96:
        return f"{hours} hour{'s' * (hours != 1)}"
    days, rest = divmod(hours, 24)
    return f"{days} days" + (f" {rest} hour{'s' * (rest != 1)}" if rest else "")


@dataclass(frozen=True)
class Part:
    """One stretch of the worst case: what causes it (approval, pilot, wait, window, missed, reboot, triage,
    deploy), how long it is, and in words."""

    what: str
    time: timedelta
    words: str


@dataclass(frozen=True)
class WorstCase:
    """How long one kind of update can take to be in effect on one group, and why."""

    group: str
    kind: str
    parts: tuple[Part, ...] = ()
    blocker: str = ""  # why there is no time limit at all
    blocker_kind: str = ""  # approval, reboot, window

    @property
    def time(self) -> timedelta:
        return UNBOUNDED if self.blocker else sum((p.time for p in self.parts), timedelta(0))

    def part(self, what: str) -> timedelta:
        return sum((p.time for p in self.parts if p.what == what), timedelta(0))

    def explain(self) -> str:
        return self.blocker or " + ".join(p.words for p in self.parts if p.time) or "at once"


class WorstCases:
    """The worst cases of one policy, from a reference time (windows of the next twelve months)."""

    def __init__(self, policy: Policy, now: datetime) -> None:
        self.policy, self.now = policy, now
        self.start, self.end = now - timedelta(days=40), now + timedelta(days=31 * (MONTHS + 3))
        self._starts: dict[str, list[datetime]] = {}

    @cached_property
    def all(self) -> list[WorstCase]:
        classes = self.policy.value("scope.device_classes") or []
        found = [self.oob()]
        for group in self.policy.groups:
            found.append(self._patch_tuesday(group))
            if any(c in classes for c in OFF_CYCLE_CLASSES):
                found.append(self._any_day(group, "off_cycle", "security", "approval.off_cycle_deploy"))
            found.append(self._any_day(group, "third_party", "third_party", "approval.third_party_deploy"))
            if "network_firmware" in classes:
                found.append(self._any_day(group, "firmware", "firmware", "approval.off_cycle_deploy"))
        return found

    def of(self, kinds: list[str]) -> list[WorstCase]:
        return [case for case in self.all if case.kind in kinds]

    def oob(self) -> WorstCase:
        triage = parse_duration(self.policy.value("oob.triage_time", "4h"))
        deploy = parse_duration(self.policy.value("oob.deploy_time", "48h"))
        return WorstCase(
            "All groups",
            "oob",
            (
                Part("triage", triage, f"{words(triage)} to triage"),
                Part("deploy", deploy, f"{words(deploy)} to deploy"),
            ),
        )

    # ----- the answers each path is made of ---------------------------------------------------------------

    def _approval(self, patch_type: str) -> tuple[Part | None, str]:
        label = {"security": "security", "third_party": "third-party", "firmware": "firmware"}[patch_type]
        mode = self.policy.value(f"approval.{slug(patch_type)}.mode")  # per-type questions are keyed by slug
        if patch_type not in (self.policy.value("approval.types") or []) or mode == "never":
            return None, f"{label} updates are not deployed"
        if mode == "on_request":
            return None, f"{label} updates wait for a request, with no time limit"
        days = int(self.policy.value("approval.delay_days", 0)) if mode == "delayed" else 0
        return Part("approval", timedelta(days=days), f"a {days}-day approval delay"), ""

    def _reboot(self, group: Group) -> tuple[Part | None, str]:
        mode = self.policy.value(f"deployment.{group.key}.reboot", "if_required")
        if mode == "never":
            return None, f"{group.name} devices never reboot, so an update that needs a reboot never takes effect"
        if mode == "prompt_deadline":
            forced = parse_duration(self.policy.value("deployment.forced_reboot", "72h"))
            return Part("reboot", forced, f"up to {words(forced)} until the forced reboot"), ""
        return None, ""

    def _missed(self, group: Group, release: datetime, ready: datetime) -> bool:
        """Whether a window of the group starts after the release but before the update is ready for it."""
        return any(release <= start < ready for start in self._window_starts(group))

    def _missed_next(self, group: Group, gap: timedelta) -> list[Part]:
        if self.policy.value(f"windows.{group.key}.missed", "asap") != "next_window":
            return []
        return [Part("missed", gap, f"{words(gap)} more for a device that misses its window and waits for the next")]

    # ----- the paths -------------------------------------------------------------------------------------------

    def _patch_tuesday(self, group: Group) -> WorstCase:
        approval, blocker = self._approval("security")
        reboot, no_reboot = self._reboot(group)
        if approval is None or no_reboot:
            return _unbounded(group, "patch_tuesday", blocker, no_reboot)
        if group.rule is None or not self._window_starts(group):
            return WorstCase(group.name, "patch_tuesday", blocker=f"{group.name} has no window", blocker_kind="window")
        worst: WorstCase | None = None
        for month in range(MONTHS):
            year, mon = divmod(self.now.month - 1 + month, 12)
            day = patch_tuesday(self.now.year + year, mon + 1)
            case = self._one_release(
                group, datetime(day.year, day.month, day.day, RELEASE_HOUR_UTC, tzinfo=UTC), approval, reboot
            )
            if case.blocker:
                return case
            if worst is None or case.time > worst.time:
                worst = case
        assert worst is not None
        return worst

    def _one_release(self, group: Group, release: datetime, approval: Part, reboot: Part | None) -> WorstCase:
        assert group.rule is not None
        parts = [approval] if approval.time else []
        ready = release + approval.time
        pilot = self._pilot()
        if pilot is not None and pilot.name != group.name:
            pilot_start = self._first_start(pilot, ready)
            if pilot_start is None:
                return WorstCase(
                    group.name, "patch_tuesday", blocker="the pilot group has no window", blocker_kind="window"
                )
            late = " (the delay misses that month's pilot window)" if self._missed(pilot, release, ready) else ""
            parts.append(
                Part("pilot_wait", pilot_start - ready, f"{words(pilot_start - ready)} until the pilot window{late}")
            )
            days = int(self.policy.value("testing.promotion_days", 0))
            parts.append(Part("promotion", timedelta(days=days), f"{days} days of promotion"))
            ready = pilot_start + timedelta(days=days)
        start = self._first_start(group, ready)
        if start is None:
            return WorstCase(group.name, "patch_tuesday", blocker=f"{group.name} has no window", blocker_kind="window")
        late = " (the delay misses that month's window)" if self._missed(group, release, ready) else ""
        parts.append(
            Part("wait", start - ready, f"{words(start - ready)} until the {group.rule.describe()} window{late}")
        )
        length = parse_duration(group.rule.length)
        parts.append(Part("window", length, f"a window of {words(length)}"))
        following = self._first_start(group, start + timedelta(minutes=1))
        parts += self._missed_next(group, (following - start) if following else UNBOUNDED)
        parts += [reboot] if reboot else []
        return WorstCase(group.name, "patch_tuesday", tuple(parts))

    def _any_day(self, group: Group, kind: str, patch_type: str, method_question: str) -> WorstCase:
        approval, blocker = self._approval(patch_type)
        reboot, no_reboot = self._reboot(group) if kind == "off_cycle" else (None, "")
        if approval is None or no_reboot:
            return _unbounded(group, kind, blocker, no_reboot)
        parts = [approval] if approval.time else []
        method = self.policy.value(method_question, "group_window")
        if method == "daily":
            parts.append(Part("wait", timedelta(days=1), "up to a day until the daily run"))
        elif method == "weekly":
            parts.append(Part("wait", WEEKLY[0], f"up to {words(WEEKLY[0])} until the weekly window"))
            parts.append(Part("window", WEEKLY[1], f"a weekly window of {words(WEEKLY[1])}"))
        else:
            starts = self._window_starts(group)
            if group.rule is None or len(starts) < 2:
                return WorstCase(group.name, kind, blocker=f"{group.name} has no regular window", blocker_kind="window")
            gap = self.longest_gap(group)
            length = parse_duration(group.rule.length)
            parts.append(
                Part(
                    "wait",
                    gap,
                    f"up to {words(gap)} waiting for the {group.rule.describe()} window "
                    "(released just after one starts)",
                )
            )
            parts.append(Part("window", length, f"a window of {words(length)}"))
            parts += self._missed_next(group, gap)
        parts += [reboot] if reboot else []
        return WorstCase(group.name, kind, tuple(parts))

    # ----- windows -------------------------------------------------------------------------------------------

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

    def longest_gap(self, group: Group) -> timedelta:
        """The longest time between two window starts of the group over the next year (unbounded with none)."""
        starts = [s for s in self._window_starts(group) if s <= self.now + timedelta(days=31 * (MONTHS + 1))]
        if len(starts) < 2:
            return UNBOUNDED
        return max(b - a for a, b in itertools.pairwise(starts))
