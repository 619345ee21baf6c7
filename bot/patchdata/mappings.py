"""The mappings from an RMM export's columns to PatchPolicy's record: loaded from sources.yaml, found by the
header, or written once per client (the generic mapping)."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

SOURCES_FILE = Path(__file__).resolve().parent / "sources.yaml"
GENERIC_FIELDS = {
    "device": "the device's id or name",
    "device_name": "the device's name",
    "group": "the RMM's device group or site",
    "update": "the KB number or the update's name",
    "title": "the update's title",
    "severity": "its severity",
    "state": "its install state",
    "released_at": "its release date",
    "first_seen_at": "when it was first seen",
    "installed_at": "when it was installed",
    "last_seen_at": "when the device last checked in",
    "observed_at": "when the row was collected",
    "cves": "its CVE ids",
}
GENERIC_NEED = ("device", "update", "state")


class MappingError(ValueError):
    """A generic mapping that cannot be used; the message says why."""


@dataclass(frozen=True)
class Mapping:
    """How one export's columns read as PatchPolicy's record."""

    name: str
    label: str
    source: str
    fields: dict[str, tuple[str, ...]]
    need: tuple[str, ...]
    kind: str = "updates"  # updates: one row per device and update; devices: counts per device
    detect: tuple[str, ...] = ()
    rows: str = ""
    expand: str = ""
    dates: str = "iso"
    severity: dict[str, str] = field(default_factory=dict)
    state: tuple[tuple[str, str, str], ...] = ()
    statuses: tuple[str, ...] = ()

    def columns(self, header: list[str]) -> dict[str, str]:
        """Our field -> the header's column that holds it (the first alternative present)."""
        present = {h.casefold(): h for h in header}
        found = {}
        for name, choices in self.fields.items():
            column = next((present[c.casefold()] for c in choices if c.casefold() in present), None)
            if column is not None:
                found[name] = column
        return found

    def missing(self, header: list[str]) -> list[str]:
        """The needed fields the header has no column for, as the export would name them."""
        have = self.columns(header)
        return [" or ".join(self.fields[n]) for n in self.need if n not in have]

    def fits(self, header: list[str]) -> bool:
        names = {h.casefold() for h in header}
        return bool(self.detect) and all(d.casefold() in names for d in self.detect)


def _mapping(name: str, raw: dict[str, Any]) -> Mapping:
    fields = {k: tuple(v) if isinstance(v, list) else (str(v),) for k, v in raw["fields"].items()}
    return Mapping(
        name=name,
        label=raw["label"],
        source=raw["source"],
        fields=fields,
        need=tuple(raw.get("need", ())),
        kind=raw.get("kind", "updates"),
        detect=tuple(raw.get("detect", ())),
        rows=raw.get("rows", ""),
        expand=raw.get("expand", ""),
        dates=raw.get("dates", "iso"),
        severity={str(k).casefold(): v for k, v in (raw.get("severity") or {}).items()},
        state=tuple((a, str(b).casefold(), c) for a, b, c in raw.get("state", ())),
        statuses=tuple(raw.get("statuses", ())),
    )


@lru_cache(maxsize=1)
def _loaded() -> dict[str, Any]:
    return yaml.safe_load(SOURCES_FILE.read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def known() -> tuple[Mapping, ...]:
    """Every vendor mapping, in the file's order."""
    return tuple(_mapping(name, raw) for name, raw in _loaded()["mappings"].items())


def detect(header: list[str]) -> Mapping | None:
    """The vendor mapping whose columns this header has (the one with the most telling columns first)."""
    fitting = [m for m in known() if m.fits(header)]
    return max(fitting, key=lambda m: len(m.detect)) if fitting else None


def generic(spec: dict[str, str]) -> Mapping:
    """A client's own mapping: our field -> their column, e.g. {"device": "Computer", "update": "KB"}."""
    unknown = sorted(set(spec) - set(GENERIC_FIELDS))
    if unknown:
        names = ", ".join(GENERIC_FIELDS)
        raise MappingError(f"I don't know the field {', '.join(unknown)}; the fields are: {names}.")
    absent = [n for n in GENERIC_NEED if not spec.get(n)]
    if absent:
        raise MappingError(f"A mapping needs a column for {', '.join(absent)} (e.g. device=Computer).")
    words = _loaded()["generic"]
    raw = {
        "label": "your mapping",
        "source": "file",
        "fields": {k: v for k, v in spec.items() if v},
        "need": list(GENERIC_NEED),
        "severity": words["severity"],
        "state": words["state"],
    }
    return _mapping("generic", raw)


def parse_spec(text: str) -> dict[str, str]:
    """'device=Computer, update=KB' -> {"device": "Computer", "update": "KB"} (column names keep their case)."""
    spec = {}
    for part in text.split(","):
        if not part.strip():
            continue
        name, sep, column = part.partition("=")
        if not sep or not name.strip() or not column.strip():
            raise MappingError(f"'{part.strip()[:60]}' should read field=column, e.g. device=Computer.")
        spec[name.strip().casefold()] = column.strip()
    return spec
