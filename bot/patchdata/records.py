"""One row of an export read as PatchPolicy's record, or the reason it can't be, naming the row and column."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from bot.patchdata.mappings import Mapping

SEVERITIES = ("critical", "high", "medium", "low", "unknown")
OPEN_STATES = ("missing", "pending_approval", "approved_pending", "failed", "reboot_pending")
STATES = (*OPEN_STATES, "installed", "excluded")
_KB = re.compile(r"(?i)^(?:kb)?(\d{6,8})$")
_US = ("%m/%d/%Y %I:%M:%S %p", "%m/%d/%Y %H:%M:%S", "%m/%d/%Y %H:%M", "%m/%d/%Y", "%Y/%m/%d %I:%M:%S.%f %p")
_TRUE = {"true", "1", "yes", "y"}
_FALSE = {"false", "0", "no", "n", ""}


@dataclass(frozen=True)
class RowError:
    row: int
    column: str
    problem: str

    def line(self) -> str:
        where = f"Row {self.row}" + (f", column {self.column}" if self.column else "")
        return f"{where}: {self.problem}"


class BadValue(ValueError):
    """One value that does not read; the message is shown as is, `field` names where it was."""

    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.field = field


@lru_cache(maxsize=65536)
def parse_when(text: str, dates: str) -> datetime | None:
    """A time in an export: ISO 8601 (a zone-less time is UTC), the US forms, or epoch seconds."""
    text = text.strip()
    if not text:
        return None
    if dates == "epoch" or re.fullmatch(r"\d{9,13}(\.\d+)?", text):
        try:
            seconds = float(text)
        except ValueError:
            raise BadValue(f"'{text[:40]}' is not a time in seconds.") from None
        return datetime.fromtimestamp(seconds / 1000 if seconds > 1e11 else seconds, UTC)
    try:
        found = datetime.fromisoformat(text.replace("Z", "+00:00").replace(" UTC", "+00:00"))
    except ValueError:
        found = None
        for form in _US:
            try:
                found = datetime.strptime(text, form)
                break
            except ValueError:
                continue
        if found is None:
            raise BadValue(
                f"'{text[:40]}' is not a date I can read; use e.g. 2026-11-10 or 2026-11-10T18:00Z."
            ) from None
    return found.replace(tzinfo=UTC) if found.tzinfo is None else found.astimezone(UTC)


def _flag(text: str) -> bool:
    low = text.strip().casefold()
    if low in _TRUE:
        return True
    if low in _FALSE:
        return False
    raise BadValue(f"'{text[:20]}' is not true or false.")


def _cvss_severity(text: str) -> str | None:
    try:
        score = float(text)
    except ValueError:
        return None
    if not 0 <= score <= 10:
        return None
    return "critical" if score >= 9 else "high" if score >= 7 else "medium" if score >= 4 else "low"


def update_key(text: str) -> str:
    """A KB number in one form (KB5031234), whatever form the export wrote it in; other names as they are."""
    match = _KB.fullmatch(text.strip())
    return f"KB{match.group(1)}" if match else " ".join(text.split())


class RowReader:
    """Reads rows of one export under one mapping; `now` is the observation time when the row has none."""

    def __init__(self, mapping: Mapping, header: list[str], now: datetime) -> None:
        self.mapping = mapping
        self.columns = mapping.columns(header)
        self.index = {name: header.index(column) for name, column in self.columns.items()}
        self.now = now

    def read(self, number: int, values: list[str]) -> dict[str, Any] | RowError:
        """The record of one row, or its first problem."""
        name = ""
        width = len(values)
        row = {field: values[at].strip() for field, at in self.index.items() if at < width}
        try:
            for need in self.mapping.need:
                if not row.get(need, ""):
                    return RowError(number, self.columns.get(need, need), "is empty; every row needs it.")
            name = "device"
            record = self._device(row)
            if self.mapping.kind == "devices":
                return record
            name = "update"
            record.update(self._update(row))
            return record
        except BadValue as err:
            where = err.field or name
            return RowError(number, self.columns.get(where, where), str(err))

    def _device(self, row: dict[str, str]) -> dict[str, Any]:
        device = row.get("device", "")
        record: dict[str, Any] = {
            "device_key": device[:120],
            "name": (row.get("device_name", "") or device)[:200],
            "rmm_group": row.get("group", "")[:200],
            "os": row.get("os", "")[:120],
            "source": self.mapping.source,
            "last_seen_at": self._when(row, "last_seen_at"),
            "reboot_required": None,
            "status": None,
            "pending": None,
            "failed": None,
            "observed_at": self._when(row, "observed_at") or self.now,
        }
        if "reboot_required" in self.index:
            try:
                record["reboot_required"] = _flag(row.get("reboot_required", ""))
            except BadValue as err:
                raise BadValue(str(err), "reboot_required") from None
        if self.mapping.kind == "devices":
            status = row.get("status", "")
            known = {s.casefold(): s for s in self.mapping.statuses}
            if status.casefold() not in known:
                statuses = ", ".join(self.mapping.statuses)
                raise BadValue(f"'{status[:40]}' is not a patch status I know ({statuses}).", "status")
            record["status"] = known[status.casefold()]
            record["pending"] = self._count(row, "pending") + self._count(row, "not_approved")
            record["failed"] = 1 if record["status"] == "InstallError" else 0
        return record

    def _update(self, row: dict[str, str]) -> dict[str, Any]:
        key = update_key(row.get("update", ""))
        version = row.get("version", "")
        if version:
            key = f"{key} {version}"
        raw = row.get("severity", "")
        severity = self.mapping.severity.get(raw.casefold()) or _cvss_severity(raw)
        if severity is None:
            known = ", ".join(k for k in self.mapping.severity if k) or "a CVSS score"
            raise BadValue(f"'{raw[:40]}' is not a severity I know (I know: {known}).", "severity")
        state = self._state(row)
        installed_at = self._when(row, "installed_at")
        observed = self._when(row, "observed_at") or self.now
        return {
            "update_key": key[:200],
            "title": (row.get("title", "") or key)[:300],
            "severity": severity,
            "severity_raw": raw[:40],
            "cves": " ".join(re.findall(r"CVE-\d{4}-\d{4,}", row.get("cves", "").upper())),
            "state": state,
            "installed": state == "installed",
            "released_at": self._when(row, "released_at"),
            "first_seen_at": self._when(row, "first_seen_at") or observed,
            # an export without install times: installed by the time it was seen installed, at the latest
            "installed_at": (installed_at or observed) if state == "installed" else None,
        }

    def _state(self, row: dict[str, str]) -> str:
        for field, pattern, state in self.mapping.state:
            raw = row.get(field, "")
            if field in {"installed", "ignored", "approval"} and raw.casefold() in _TRUE | _FALSE:
                raw = "true" if _flag(raw) else "false"
            low = raw.casefold()
            hit = (
                (pattern == "*" and bool(low))
                or (pattern == "-" and not low)
                or (pattern.startswith("~") and pattern[1:] in low)
                or low == pattern
            )
            if hit:
                return state
        shown = row.get("state", "") or row.get("installed", "")
        raise BadValue(f"'{shown[:40]}' is not an install state I know.", "state")

    def _when(self, row: dict[str, str], name: str) -> datetime | None:
        text = row.get(name, "")
        if not text:
            return None
        try:
            return parse_when(text, self.mapping.dates)
        except BadValue as err:
            raise BadValue(str(err), name) from None

    def _count(self, row: dict[str, str], name: str) -> int:
        text = row.get(name, "") or "0"
        if not text.isdigit():
            raise BadValue(f"'{text[:20]}' is not a count.", name)
        return int(text)
