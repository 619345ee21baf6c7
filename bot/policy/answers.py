"""Validating typed or clicked answers into stored values, and describing stored values in words."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from bot.kernel.clients import ClientNameError, clean_name
from bot.kernel.directory import Directory
from bot.kernel.durations import DurationError, describe_duration, format_duration, parse_duration
from bot.kernel.questions import Question, condition_holds, slug
from bot.kernel.timezones import TimezoneError, resolve_timezone
from bot.policy.answer_shapes import AnswerError, check_shape
from bot.policy.window_rule import WindowRule, WindowRuleError, parse_window_rule

MAX_TEXT = 2000
MAX_LINE = 300
_NONE_WORDS = {"none", "n/a", "na", "-", "no", "nothing"}
_YES = {"yes", "y", "true", "on", "1"}
_NO = {"no", "n", "false", "off", "0"}


@dataclass(frozen=True)
class AnswerContext:
    """What validation may look at besides the answer itself."""

    answers: dict[str, Any]
    directory: Directory


def parse_answer(question: Question, raw: Any, ctx: AnswerContext) -> Any:
    """Turn raw input (typed text, a clicked value, a list of selected values) into a stored value."""
    check_shape(question, raw)
    parser = _PARSERS[question.type]
    value = parser(question, raw, ctx)
    _check_relations(question, value, ctx)
    return value


def describe(question: Question, value: Any) -> str:
    """The stored value in words, as the summary and the SOP show it (plain text, not escaped)."""
    if value is None:
        return "Not answered"
    kind = question.type
    if kind == "single":
        choice = question.choice(value)
        return choice.label if choice else str(value)
    if kind == "multi":
        return ", ".join((question.choice(v).label if question.choice(v) else v) for v in value) or "None"
    if kind == "lines":
        return "; ".join(value) if value else "None"
    if kind == "duration":
        return describe_duration(parse_duration(value))
    if kind == "yesno":
        return "Yes" if value else "No"
    if kind == "window":
        return WindowRule.from_dict(value).describe()
    if kind == "channel":
        return f"#{value['name']}"
    if kind == "users":
        return ", ".join(f"@{u['name']}" for u in value)
    return str(value)


def _text(raw: Any) -> str:
    if isinstance(raw, list):
        return "\n".join(str(r) for r in raw)
    return str(raw).replace("\r\n", "\n").strip()


def _single(q: Question, raw: Any, _ctx: AnswerContext) -> str:
    text = _text(raw)
    folded = text.casefold()
    for index, choice in enumerate(q.choices, start=1):
        if folded in {choice.value.casefold(), choice.label.casefold(), str(index)}:
            return choice.value
    starts = [c for c in q.choices if c.label.casefold().startswith(folded)] if folded else []
    if len(starts) == 1:
        return starts[0].value
    options = ", ".join(c.label for c in q.choices)
    raise AnswerError(f"Pick one of: {options}.")


def _multi(q: Question, raw: Any, ctx: AnswerContext) -> list[str]:
    tokens = raw if isinstance(raw, list) else [t for t in re.split(r"[,;\n]+", _text(raw)) if t.strip()]
    values: list[str] = []
    for token in tokens:
        value = _single(q, token.strip(), ctx)
        if value not in values:
            values.append(value)
    if not values:
        raise AnswerError("Pick at least one option.")
    if "none" in values and len(values) > 1:
        raise AnswerError("'None' can't be combined with other options.")
    order = [c.value for c in q.choices]
    return sorted(values, key=order.index)


def _free_text(q: Question, raw: Any, _ctx: AnswerContext) -> str:
    text = _text(raw)
    limit = int(q.maximum or MAX_TEXT)
    if not text:
        raise AnswerError("Type an answer, or press Skip.")
    if len(text) > limit:
        raise AnswerError(f"That is {len(text)} characters; keep it under {limit}.")
    if q.item == "client_name":
        try:
            return clean_name(text)
        except ClientNameError as err:
            raise AnswerError(str(err)) from None
    return text


def _lines(q: Question, raw: Any, ctx: AnswerContext) -> list[str]:
    text = _text(raw)
    separators = r"[\n;]+" if q.item in {"text", "named"} else r"[\n;,]+"
    lines = [
        line.strip().lstrip("•*-– ").strip() if q.item != "named" else line.strip().lstrip("•* ").strip()
        for line in re.split(separators, text)
    ]
    lines = [line for line in lines if line]
    if len(lines) == 1 and lines[0].casefold() in _NONE_WORDS:
        lines = []
    if not lines and q.required:
        raise AnswerError("This needs at least one line.")
    limit = int(q.maximum or 100)
    if len(lines) > limit:
        raise AnswerError(f"That is {len(lines)} lines; at most {limit} please.")
    parse_item = _ITEMS[q.item or "text"]
    values = [parse_item(line, number) for number, line in enumerate(lines, start=1)]
    if q.item == "group_map":
        _check_group_map(values, ctx.answers.get("scope.groups") or [])
    if q.item == "group":
        slugs = [slug(v) for v in values]
        duplicate = next((v for v, s in zip(values, slugs, strict=True) if slugs.count(s) > 1), None)
        if duplicate:
            raise AnswerError(f"'{duplicate}' is listed twice; each group needs its own name.")
    return values


def _check_group_map(values: list[str], groups: list[str]) -> None:
    """Each 'RMM group - maintenance group' line names one of the policy's maintenance groups."""
    known = {g.casefold() for g in groups}
    for number, value in enumerate(values, start=1):
        ours = value.rpartition(" - ")[2].strip()
        if ours.casefold() not in known:
            raise AnswerError(
                f"Line {number}: '{ours[:40]}' is not a maintenance group; the groups are {', '.join(groups)}."
            )


def _item_text(line: str, number: int) -> str:
    if len(line) > MAX_LINE:
        raise AnswerError(f"Line {number} is {len(line)} characters; keep each line under {MAX_LINE}.")
    return line


def _item_named(line: str, number: int) -> str:
    parts = re.split(r"\s+[-–—:]\s+|:\s*", line, maxsplit=1)
    if len(parts) != 2 or not parts[0].strip() or not parts[1].strip():
        raise AnswerError(f"Line {number} needs a name and who or why, e.g. 'Sage 50 - Finance team'.")
    return _item_text(f"{parts[0].strip()} - {parts[1].strip()}", number)


def _item_group(line: str, number: int) -> str:
    if not re.fullmatch(r"[\w][\w .&()\-]{0,39}", line):
        raise AnswerError(f"Group {number} ('{line[:40]}') should be a short name: letters, digits, spaces.")
    return line


def _item_duration(line: str, number: int) -> str:
    try:
        value = parse_duration(line)
    except DurationError:
        raise AnswerError(f"'{line[:40]}' is not a duration; use e.g. 24h or 1h.") from None
    if value.total_seconds() <= 0 or value.days > 14:
        raise AnswerError("Lead times run from 5 minutes to 14 days.")
    return format_duration(value)


def _item_date_range(line: str, number: int) -> str:
    parts = [p.strip() for p in re.split(r"\.\.|\s+to\s+", line)]
    try:
        dates = [date.fromisoformat(p) for p in parts]
    except ValueError:
        raise AnswerError(f"'{line[:40]}' is not a date; use YYYY-MM-DD or YYYY-MM-DD..YYYY-MM-DD.") from None
    if len(dates) > 2 or (len(dates) == 2 and dates[1] < dates[0]):
        raise AnswerError(f"'{line[:40]}': a range runs from an earlier date to a later one.")
    return "..".join(d.isoformat() for d in dates)


def _number(q: Question, raw: Any, ctx: AnswerContext) -> int:
    text = _text(raw).rstrip("%").strip()
    if not re.fullmatch(r"-?\d{1,9}", text):
        raise AnswerError("Type a whole number.")
    value = int(text)
    low = int(q.minimum) if q.minimum is not None else None
    if q.min_if and condition_holds(q.min_if, ctx.answers):
        low = max(low or 0, int(q.min_if["min"]))
    if (low is not None and value < low) or (q.maximum is not None and value > int(q.maximum)):
        raise AnswerError(f"Type a number from {low} to {q.maximum}.")
    return value


def _duration(q: Question, raw: Any, _ctx: AnswerContext) -> str:
    text = _text(raw)
    try:
        value = parse_duration(text)
    except DurationError:
        raise AnswerError("Type a duration such as 48h, 14d or 2w.") from None
    low = parse_duration(q.minimum) if q.minimum else None
    high = parse_duration(q.maximum) if q.maximum else None
    if (low is not None and value < low) or (high is not None and value > high):
        raise AnswerError(f"Type a duration from {q.minimum} to {q.maximum}.")
    return format_duration(value)


def _time(_q: Question, raw: Any, _ctx: AnswerContext) -> str:
    match = re.fullmatch(r"(\d{1,2})[:.h](\d{2})", _text(raw))
    if not match or int(match.group(1)) > 23 or int(match.group(2)) > 59:
        raise AnswerError("Type a time as HH:MM, e.g. 20:00.")
    return f"{int(match.group(1)):02d}:{match.group(2)}"


def _timezone(_q: Question, raw: Any, _ctx: AnswerContext) -> str:
    text = _text(raw)
    try:
        return resolve_timezone(text)
    except TimezoneError as err:
        hint = f" Did you mean {err.suggestion}?" if err.suggestion else " Use a name like Europe/London."
        raise AnswerError(f"'{text[:60]}' is not an IANA time zone.{hint}") from None


def _channel(_q: Question, raw: Any, ctx: AnswerContext) -> dict[str, Any]:
    if isinstance(raw, dict):
        if not all(isinstance(raw.get(k), str) and raw.get(k) for k in ("id", "name")):
            raise AnswerError("A channel needs an `id` and a `name`, or type it as #channel-name.")
        return {"id": raw["id"], "name": raw["name"]}
    text = _text(raw)
    found = ctx.directory.channel(text) if text else None
    if found is None:
        raise AnswerError(
            f"I can't find the channel '{text[:80]}'. Pick it from the list or type #channel-name; "
            "if it's private, invite me there first (`/invite @PatchPolicy`)."
        )
    return found


def _users(q: Question, raw: Any, ctx: AnswerContext) -> list[dict[str, Any]]:
    if isinstance(raw, list) and raw and all(isinstance(u, dict) for u in raw):
        if not all(isinstance(u.get(k), str) and u.get(k) for u in raw for k in ("id", "name")):
            raise AnswerError("Each person needs an `id` and a `name`, or @mention them.")
        found: list[dict[str, Any]] | None = [{"id": u["id"], "name": u["name"]} for u in raw]
    else:
        text = _text(raw)
        found = ctx.directory.users(text) if text else None
    if not found:
        raise AnswerError("I can't find that person. Pick them from the list or @mention them.")
    if q.maximum is not None and len(found) > int(q.maximum):
        raise AnswerError("Name just one person." if int(q.maximum) == 1 else f"Name at most {q.maximum}.")
    return found


def _window(_q: Question, raw: Any, _ctx: AnswerContext) -> dict[str, Any]:
    if isinstance(raw, dict):  # from a policy file: checked by reading its canonical text back
        try:
            raw = WindowRule.from_dict(raw).describe()
        except (KeyError, TypeError, ValueError, IndexError, AttributeError):
            raise AnswerError(
                "A window needs an anchor, a start and a length, e.g. `Patch Tuesday + 1 day, 20:00 for 4h`."
            ) from None
    try:
        return parse_window_rule(_text(raw)).to_dict()
    except WindowRuleError as err:
        raise AnswerError(str(err)) from None


def _yesno(_q: Question, raw: Any, _ctx: AnswerContext) -> bool:
    if isinstance(raw, bool):
        return raw
    text = _text(raw).casefold()
    if text in _YES:
        return True
    if text in _NO:
        return False
    raise AnswerError("Answer yes or no.")


def _check_relations(q: Question, value: Any, ctx: AnswerContext) -> None:
    """Cross-answer rules, such as a Critical deadline no shorter than the Emergency one."""
    for other_id, must_be_longer in ((q.not_less_than, True), (q.not_more_than, False)):
        other = ctx.answers.get(other_id) if other_id else None
        if other is None:
            continue
        mine, theirs = parse_duration(value), parse_duration(other)
        if must_be_longer and mine < theirs:
            raise AnswerError(f"This can't be shorter than the {_label(other_id)} deadline ({other}).")
        if not must_be_longer and mine > theirs:
            raise AnswerError(f"This can't be longer than the {_label(other_id)} deadline ({other}).")


def _label(question_id: str) -> str:
    return question_id.rsplit(".", 1)[-1].replace("_", " ").title()


_PARSERS = {
    "single": _single,
    "multi": _multi,
    "text": _free_text,
    "lines": _lines,
    "number": _number,
    "duration": _duration,
    "time": _time,
    "timezone": _timezone,
    "channel": _channel,
    "users": _users,
    "window": _window,
    "yesno": _yesno,
}
_ITEMS = {
    "text": _item_text,
    "named": _item_named,
    "group_map": _item_named,
    "group": _item_group,
    "duration": _item_duration,
    "date_range": _item_date_range,
}
