"""Policy files: a policy's answers as readable YAML (question ids as keys, prompts as comments), and back.

Loading validates every answer exactly as the questionnaire does; each problem names the line and the
question, and a file with any problem loads nothing. Before any of that, the text is bounded (size) and read
as events only: anchors and aliases (the alias bomb) and nesting deeper than a policy needs are refused
before anything is built, so no file costs more than a parse of 256 KB.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import yaml

from bot.kernel.directory import Directory
from bot.kernel.questions import Bank, load_bank
from bot.policy.answers import AnswerContext, AnswerError, parse_answer

FORMAT = 1
MAX_BYTES = 256 * 1024
MAX_ERRORS = 20
MAX_DEPTH = 8  # a policy file is a mapping of answers, each a value, a list, or a list of small mappings
KINDS = ("client", "template")


@dataclass(frozen=True)
class PolicyFile:
    """A loaded, validated policy file."""

    name: str
    kind: str
    answers: dict[str, Any]


class PolicyFileError(Exception):
    """The file cannot be loaded; `errors` says why, one line each ("line 7: client.timezone: ...")."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors


def dump(name: str, kind: str, answers: dict[str, Any], note: str, bank: Bank | None = None) -> str:
    """The YAML text of a policy: a header, then each answer under its question as a comment."""
    bank = bank or load_bank()
    questions = {q.id: q for q in bank.expand(answers)}
    lines = [
        f"# PatchPolicy policy file: {_one_line(note)}",
        "# Keys are question ids and each comment is the question. Load it with `patchpolicy import <file>`",
        "# (or share it with the bot in a DM); print its SOP with `patchpolicy render <file>`.",
        _yaml_line({"patchpolicy": FORMAT}),
        _yaml_line({"kind": kind}),
        _yaml_line({"name": name}),
        "answers:",
    ]
    ordered = sorted(answers, key=lambda qid: questions[qid].order if qid in questions else (99,))
    for qid in ordered:
        question = questions.get(qid)
        if question is not None:
            lines.append(f"  # {_one_line(question.prompt)}")
        body = yaml.safe_dump({qid: answers[qid]}, sort_keys=False, allow_unicode=True, width=100)
        lines.extend(f"  {line}" for line in body.rstrip("\n").split("\n"))
    return "\n".join(lines) + "\n"


def load(text: str, directory: Directory, bank: Bank | None = None) -> PolicyFile:
    """Parse and validate a policy file; raises PolicyFileError naming every problem found."""
    bank = bank or load_bank()
    if len(text.encode("utf-8", "replace")) > MAX_BYTES:
        raise PolicyFileError([f"The file is larger than {MAX_BYTES // 1024} KB; a policy file is much smaller."])
    try:
        _refuse_structure(text)
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except ValueError:  # a value YAML cannot build, such as an integer of thousands of digits
        raise PolicyFileError(["The file holds a value I can't read (a number far too long?)."]) from None
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark is not None else ""
        problem = getattr(err, "problem", None) or "this is not valid YAML"
        raise PolicyFileError([f"{where}{problem} (the file is not valid YAML)."]) from None
    if not isinstance(root, yaml.MappingNode) or not isinstance(data, dict):
        raise PolicyFileError(["The file should be a YAML mapping with `kind`, `name` and `answers`."])
    errors: list[str] = []
    top = _lines(root, errors)
    kind = data.get("kind", "client")
    if kind not in KINDS:
        errors.append(f"line {top.get('kind', 1)}: kind should be `client` or `template`, not '{kind}'.")
        kind = "client"
    if data.get("patchpolicy", FORMAT) != FORMAT:
        errors.append(f"line {top.get('patchpolicy', 1)}: this file is format {data['patchpolicy']}; I read {FORMAT}.")
    raw = data.get("answers")
    answers_node = next((v for k, v in root.value if k.value == "answers"), None)
    if not isinstance(raw, dict) or not isinstance(answers_node, yaml.MappingNode):
        errors.append("The file has no `answers:` mapping of question ids to answers.")
        raise PolicyFileError(errors)
    where = _lines(answers_node, errors)
    answers = _validate({str(k): v for k, v in raw.items()}, where, kind == "template", directory, bank, errors)
    name = answers.get("client.name") or data.get("name")
    if not isinstance(name, str) or not name.strip():
        errors.append("The file names no client: add `name:` or a `client.name` answer.")
    if errors:
        raise PolicyFileError(sorted(errors, key=_line_of)[:MAX_ERRORS])
    return PolicyFile(str(name).strip(), kind, answers)


def _refuse_structure(text: str) -> None:
    """Read the YAML as a stream of events (no values built, no recursion) and refuse anchors, aliases and
    deep nesting, each with its line."""
    depth = 0
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        line = event.start_mark.line + 1
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            raise PolicyFileError([f"line {line}: anchors and aliases (& and *) are not allowed in a policy file."])
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                raise PolicyFileError([f"line {line}: the file is nested too deeply for a policy file."])
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1


def _validate(
    raw: dict[str, Any], where: dict[str, int], template: bool, directory: Directory, bank: Bank, errors: list[str]
) -> dict[str, Any]:
    """Each answer parsed in questionnaire order (later questions depend on earlier answers)."""
    answers: dict[str, Any] = {}
    failed: set[str] = set()
    progress = True
    while progress:  # per-group questions appear once the groups are known
        progress = False
        for question in bank.expand(answers):
            if question.id not in raw or question.id in answers or question.id in failed:
                continue
            progress = True
            try:
                answers[question.id] = parse_answer(question, raw[question.id], AnswerContext(answers, directory))
            except AnswerError as err:
                failed.add(question.id)
                errors.append(f"line {where.get(question.id, 1)}: {question.id}: {err}")
    visible = {q.id for q in bank.visible(answers, template)}
    for qid in raw:
        if qid in failed:
            continue
        line = where.get(qid, 1)
        if qid not in answers and not _looks_like(qid, bank):
            errors.append(f"line {line}: '{qid[:80]}' is not a question I know.")
        elif qid not in visible:
            specific = template and _client_specific(qid, bank)
            what = "a template (it is asked per client)" if specific else "these answers"
            errors.append(f"line {line}: {qid}: this question does not apply to {what}.")
    return {qid: value for qid, value in answers.items() if qid in visible}


def _lines(node: yaml.MappingNode, errors: list[str]) -> dict[str, int]:
    """The line of each key of a mapping; a key given twice is an error."""
    found: dict[str, int] = {}
    for key, _value in node.value:
        name, line = str(key.value), key.start_mark.line + 1
        if name in found:
            errors.append(f"line {line}: {name[:80]} is given twice (first on line {found[name]}).")
        found.setdefault(name, line)
    return found


def _looks_like(qid: str, bank: Bank) -> bool:
    """True when the id has the shape of a bank question (per-item ids included)."""
    return any(_pattern(t["id"]).fullmatch(qid) for s in bank.sections for t in s.templates)


def _client_specific(qid: str, bank: Bank) -> bool:
    return any(
        t.get("client_specific") and _pattern(t["id"]).fullmatch(qid) for s in bank.sections for t in s.templates
    )


def _pattern(template_id: str) -> re.Pattern[str]:
    return re.compile(re.escape(template_id).replace(re.escape("{item}"), "[a-z0-9-]+"))


def _line_of(error: str) -> int:
    match = re.match(r"line (\d+):", error)
    return int(match.group(1)) if match else 0


def _yaml_line(mapping: dict[str, Any]) -> str:
    return yaml.safe_dump(mapping, sort_keys=False, allow_unicode=True, width=1000).rstrip("\n")


def _one_line(text: str) -> str:
    return " ".join(text.split())
