"""Reading an export: CSV streamed row by row, JSON (an API's answer saved to a file) read whole and flattened
to the same header-and-rows shape, so every mapping reads both."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

MAX_JSON_BYTES = 200 * 1024 * 1024
csv.field_size_limit(1024 * 1024)


class FileError(ValueError):
    """The file cannot be read as an export; the message says why."""


@dataclass
class Table:
    """A header and its rows (row numbers as a person counts them in the file: the header is row 1)."""

    header: list[str]
    rows: Iterator[tuple[int, list[str]]]


def is_json(path: Path, stream: IO[str]) -> bool:
    """JSON when the file says so by its name or its first character; otherwise CSV."""
    first = stream.read(1)
    stream.seek(0)
    return path.suffix.casefold() == ".json" or first in "[{"


def load_json(path: Path, stream: IO[str]) -> Any:
    if path.stat().st_size > MAX_JSON_BYTES:
        raise FileError("That JSON file is over 200 MB; export it as CSV, which I read as a stream.")
    try:
        return json.load(stream)
    except json.JSONDecodeError as err:
        raise FileError(f"That is not valid JSON (line {err.lineno}, column {err.colno}: {err.msg}).") from None


def csv_table(stream: IO[str]) -> Table:
    reader = csv.reader(stream)
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        raise FileError("The file is empty.") from None
    except csv.Error as err:
        raise FileError(f"Row 1 is not CSV: {err}.") from None
    if not any(header):
        raise FileError("Row 1 should name the columns; it is empty.")
    return Table(header, _numbered(reader))


def _numbered(reader: Any) -> Iterator[tuple[int, list[str]]]:
    number = 1
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as err:
            raise FileError(f"Row {number + 1} is not CSV: {err}.") from None
        number += 1
        if row:
            yield number, row


def json_table(data: Any, rows_path: str = "", expand: str = "") -> Table:
    """JSON rows (at `rows_path`, or the top-level list) flattened with dotted keys; `expand` makes one row per
    item of that nested list (a single object counts as a list of one)."""
    rows = data
    for part in rows_path.split(".") if rows_path and isinstance(data, dict) else ():
        rows = rows.get(part) if isinstance(rows, dict) else None
    if isinstance(rows, dict):
        rows = [rows]
    if not isinstance(rows, list):
        raise FileError(f"I expected a list of rows{f' at {rows_path}' if rows_path else ''} in that JSON file.")
    flat: list[dict[str, str]] = []
    for item in rows:
        if not isinstance(item, dict):
            raise FileError("Each row of that JSON file should be an object.")
        nested = item.get(expand) if expand else None
        base = _flatten({k: v for k, v in item.items() if k != expand})
        if expand:
            children = nested if isinstance(nested, list) else [nested] if isinstance(nested, dict) else []
            flat += [{**base, **_flatten(child, f"{expand}.")} for child in children if isinstance(child, dict)]
            if not children:
                flat.append(base)
        else:
            flat.append(base)
    header: list[str] = []
    seen: set[str] = set()
    for row in flat:
        for key in row:
            if key not in seen:
                seen.add(key)
                header.append(key)
    if expand and f"{expand}" not in seen and rows:
        header.append(expand)  # the nested list is part of what names the mapping
    numbered = ((n, [row.get(h, "") for h in header]) for n, row in enumerate(flat, start=2))
    return Table(header, numbered)


def _flatten(item: dict[str, Any], prefix: str = "") -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in item.items():
        if isinstance(value, dict):
            out.update(_flatten(value, f"{prefix}{key}."))
        elif isinstance(value, list):
            out[f"{prefix}{key}"] = " ".join(str(v) for v in value if not isinstance(v, dict | list))
        elif isinstance(value, bool):
            out[f"{prefix}{key}"] = "true" if value else "false"
        else:
            out[f"{prefix}{key}"] = "" if value is None else str(value)
    return out
