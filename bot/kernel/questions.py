"""The question bank: loaded from question_bank.yaml, expanded per item, filtered by conditions."""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

BANK_FILE = Path(__file__).resolve().parent / "question_bank.yaml"
TYPES = {
    "single",
    "multi",
    "text",
    "lines",
    "number",
    "duration",
    "time",
    "timezone",
    "channel",
    "users",
    "window",
    "yesno",
}


@dataclass(frozen=True)
class Choice:
    value: str
    label: str


@dataclass(frozen=True)
class Question:
    """One question as asked: for_each templates are expanded, so `{item}` is filled in."""

    id: str
    section: str
    prompt: str
    hint: str
    type: str
    order: tuple[int, int, int, int]
    choices: tuple[Choice, ...] = ()
    recommended: Any = None
    recommended_from: str | None = None
    minimum: Any = None
    maximum: Any = None
    item: str | None = None
    required: bool = True
    show_if: dict[str, Any] | None = None
    min_if: dict[str, Any] | None = None
    not_less_than: str | None = None
    not_more_than: str | None = None
    client_specific: bool = False  # left out of templates; asked when a client is made from one

    def choice(self, value: str) -> Choice | None:
        return next((c for c in self.choices if c.value == value), None)


@dataclass(frozen=True)
class Section:
    id: str
    title: str
    index: int
    templates: tuple[dict[str, Any], ...] = field(repr=False)


def slug(text: str) -> str:
    """A stable id fragment for a list item: 'Web Servers' -> 'web-servers'."""
    return re.sub(r"[^a-z0-9]+", "-", text.casefold()).strip("-") or "item"


def condition_holds(condition: dict[str, Any] | None, answers: dict[str, Any]) -> bool:
    """Evaluate a show_if / min_if condition against the answers given so far."""
    if not condition:
        return True
    if "answers" in condition:
        pattern = condition["answers"]
        return any(
            fnmatch.fnmatchcase(qid, pattern) and condition["includes"] == value for qid, value in answers.items()
        )
    value = answers.get(condition["question"])
    if value is None:
        return False
    if "includes" in condition:
        return isinstance(value, list) and condition["includes"] in value
    if "includes_any" in condition:
        return isinstance(value, list) and any(item in value for item in condition["includes_any"])
    if "equals" in condition:
        return value == condition["equals"]
    if "not_in" in condition:
        return value not in condition["not_in"]
    if "in" in condition:
        return value in condition["in"]
    if "gt" in condition:
        return isinstance(value, int | float) and value > condition["gt"]
    raise ValueError(f"unknown condition {condition}")


class Bank:
    """All sections and question templates, in order."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.sections = tuple(
            Section(id=s["id"], title=s["title"], index=i, templates=tuple(s["questions"]))
            for i, s in enumerate(data["sections"])
        )
        self._check()

    def _check(self) -> None:
        seen: set[str] = set()
        for section in self.sections:
            for template in section.templates:
                if template["type"] not in TYPES or template["id"] in seen:
                    raise ValueError(f"bad question {template['id']}")
                seen.add(template["id"])

    def section(self, section_id: str) -> Section:
        return next(s for s in self.sections if s.id == section_id)

    def expand(self, answers: dict[str, Any]) -> list[Question]:
        """Every question that exists for these answers (for_each applied), shown or not, in order."""
        questions: list[Question] = []
        for section in self.sections:
            block = 0
            for t_index, template in enumerate(section.templates):
                source = template.get("for_each")
                if t_index == 0 or source is None or source != section.templates[t_index - 1].get("for_each"):
                    block = t_index  # consecutive templates over the same list are asked item by item
                if source is None:
                    questions.append(self._build(section, (block, 0, t_index), template, None, None))
                    continue
                items = answers.get(source) or []
                source_q = self._template(source)
                for i_index, item in enumerate(items):
                    label = item
                    if source_q.get("choices"):
                        label = dict((c[0], c[1]) for c in source_q["choices"]).get(item, item).lower()
                    order = (block, i_index, t_index)
                    questions.append(self._build(section, order, template, slug(item), label))
        return sorted(questions, key=lambda q: q.order)

    def visible(self, answers: dict[str, Any], template: bool = False) -> list[Question]:
        """The questions to ask, given the answers so far (a template's leave out client-specific ones)."""
        return [
            q
            for q in self.expand(answers)
            if condition_holds(q.show_if, answers) and not (template and q.client_specific)
        ]

    def _template(self, template_id: str) -> dict[str, Any]:
        return next(t for s in self.sections for t in s.templates if t["id"] == template_id)

    @staticmethod
    def _build(
        section: Section, order: tuple[int, int, int], t: dict[str, Any], key: str | None, label: str | None
    ) -> Question:
        def fill(text: str) -> str:
            return text.replace("{item_label}", label or "").replace("{item}", label or "")

        recommended = t.get("recommended")
        by_item = t.get("recommended_by_item")
        if by_item is not None:
            recommended = by_item.get(key, by_item.get("*"))
        return Question(
            id=t["id"].replace("{item}", key or ""),
            section=section.id,
            prompt=fill(t["prompt"]),
            hint=fill(t.get("hint", "")),
            type=t["type"],
            order=(section.index, *order),
            choices=tuple(Choice(str(v), str(lbl)) for v, lbl in t.get("choices", [])),
            recommended=recommended,
            recommended_from=t.get("recommended_from"),
            minimum=t.get("min"),
            maximum=t.get("max"),
            item=t.get("item"),
            required=t.get("required", True),
            show_if=t.get("show_if"),
            min_if=t.get("min_if"),
            not_less_than=t.get("not_less_than"),
            not_more_than=t.get("not_more_than"),
            client_specific=t.get("client_specific", False),
        )


@lru_cache(maxsize=1)
def load_bank() -> Bank:
    """The bank shipped with the code (found next to this module, whatever the working folder)."""
    with BANK_FILE.open(encoding="utf-8") as handle:
        return Bank(yaml.safe_load(handle))
