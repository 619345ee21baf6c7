"""A policy: the answers of a finished questionnaire, read as the SOP and the schedule need them."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from bot.kernel.durations import describe_duration, parse_duration
from bot.kernel.questions import Bank, Question, load_bank, slug
from bot.policy.answers import describe
from bot.policy.window_rule import WindowRule
from bot.policy.windows import Occurrence, next_occurrences

TIERS = (
    ("emergency", "Emergency", "Known exploited (CISA KEV) or on an internet-facing system"),
    ("critical", "Critical", "CVSS 9.0 and above"),
    ("high", "High", "CVSS 7.0 to 8.9; unrated updates by default"),
    ("medium", "Medium", "CVSS 4.0 to 6.9"),
    ("low", "Low", "CVSS below 4.0"),
)


@dataclass(frozen=True)
class Group:
    """A maintenance group with its window."""

    name: str
    key: str
    rule: WindowRule | None
    blackouts: tuple[str, ...]
    missed: str
    reboot: str


class Policy:
    """Typed, labelled access to a policy's answers."""

    def __init__(self, answers: dict[str, Any], bank: Bank | None = None) -> None:
        self.answers = answers
        self.bank = bank or load_bank()
        self.questions: dict[str, Question] = {q.id: q for q in self.bank.visible(answers)}

    def value(self, question_id: str, default: Any = None) -> Any:
        return self.answers.get(question_id, default)

    def label(self, question_id: str) -> str:
        """The answer in words, or 'Not specified'."""
        question = self.questions.get(question_id)
        if question is None or question_id not in self.answers:
            return "Not specified"
        return describe(question, self.answers[question_id])

    def labels(self, question_id: str) -> list[str]:
        """A multi-choice or list answer as a list of labels."""
        question = self.questions.get(question_id)
        values = self.answers.get(question_id) or []
        if question is None:
            return []
        if question.type == "multi":
            return [(question.choice(v).label if question.choice(v) else v) for v in values]
        return list(values)

    @property
    def name(self) -> str:
        return self.value("client.name", "Unnamed client")

    @property
    def timezone(self) -> str:
        return self.value("client.timezone", "UTC")

    @property
    def owner(self) -> str:
        owners = self.value("client.owner") or []
        return ", ".join(f"@{o['name']}" for o in owners) or "Not specified"

    @property
    def owner_ids(self) -> list[str]:
        return [o["id"] for o in self.value("client.owner") or []]

    @property
    def frameworks(self) -> list[str]:
        return [v for v in self.value("client.compliance") or [] if v != "none"]

    @property
    def groups(self) -> list[Group]:
        found = []
        for name in self.value("scope.groups") or []:
            key = slug(name)
            rule = self.value(f"windows.{key}.rule")
            found.append(
                Group(
                    name=name,
                    key=key,
                    rule=WindowRule.from_dict(rule) if rule else None,
                    blackouts=tuple(self.value(f"windows.{key}.blackouts") or ()),
                    missed=self.label(f"windows.{key}.missed"),
                    reboot=self.label(f"deployment.{key}.reboot"),
                )
            )
        return found

    def tiers(self) -> list[tuple[str, str, str]]:
        """(tier, definition, deadline in words) for each severity tier."""
        rows = []
        for key, name, definition in TIERS:
            deadline = self.value(f"sla.{key}")
            rows.append((name, definition, describe_duration(parse_duration(deadline)) if deadline else "Not set"))
        return rows

    def next_windows(self, now: datetime, per_group: int = 3) -> list[Occurrence]:
        """The next windows of every group, soonest first."""
        found: list[Occurrence] = []
        for group in self.groups:
            if group.rule is not None:
                found += next_occurrences(group.name, group.rule, self.timezone, now, per_group, list(group.blackouts))
        return sorted(found, key=lambda o: o.start)

    def group_rows(self) -> list[list[str]]:
        """Group, window rule, reboot behaviour: one row per maintenance group."""
        return [[g.name, g.rule.describe() if g.rule else "No window", g.reboot] for g in self.groups]

    def window_rows(self) -> list[list[str]]:
        """Group, window rule, time zone, blackout dates, missed-window rule."""
        return [
            [
                g.name,
                g.rule.describe() if g.rule else "No window",
                (g.rule.tz if g.rule and g.rule.tz else self.timezone),
                ", ".join(g.blackouts) or "None",
                g.missed,
            ]
            for g in self.groups
        ]

    def approval_rows(self) -> list[list[str]]:
        """Patch type and how it is approved."""
        rows = []
        question = self.questions.get("approval.types")
        for value in self.value("approval.types") or []:
            mode = self.label(f"approval.{slug(value)}.mode")
            if self.value(f"approval.{slug(value)}.mode") == "delayed":
                mode = f"Automatic after {self.value('approval.delay_days', 0)} days"
            label = question.choice(value).label if question and question.choice(value) else value
            rows.append([label, mode])
        return rows


@lru_cache(maxsize=1024)
def _policy_of_json(answers: str) -> Policy:
    return Policy(json.loads(answers))


def policy_from(answers: dict[str, Any]) -> Policy:
    """The Policy of stored answers: the one cache of policies (bounded, thread-safe), keyed by their content."""
    return _policy_of_json(json.dumps(answers, sort_keys=True, default=str))
