"""Importing an RMM export for a client: the mapping found from the header (or the client's own), every row
checked before anything is stored, then written in batches. The same file twice changes nothing."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlmodel import func, select

from bot.kernel.clock import Clock
from bot.kernel.lookup import resolve_client
from bot.kernel.versions import latest_version
from bot.patchdata.compaction import KEEP_DAYS, compact
from bot.patchdata.deadlines import Deadlines
from bot.patchdata.files import FileError, Table, csv_table, is_json, json_table, load_json
from bot.patchdata.mappings import Mapping, MappingError, detect, generic, known, parse_spec
from bot.patchdata.records import OPEN_STATES, RowError, RowReader
from bot.policy.model import policy_from
from storage.db import Database
from storage.device_data import IngestMapping, IngestRun, count_open_updates, upsert_devices, upsert_updates

BATCH = 5000
MAX_ERRORS = 20


@dataclass(frozen=True)
class IngestResult:
    """What an import did, or why it stored nothing."""

    client_name: str
    mapping: str = ""
    rows: int = 0
    devices: int = 0
    updates: int = 0
    errors: tuple[str, ...] = ()
    more_errors: int = 0
    problem: str = ""
    already: str = ""  # when the same file was imported before
    compacted: int = 0  # installed updates old enough to be rolled up into monthly figures

    @property
    def ok(self) -> bool:
        return not self.errors and not self.problem

    def text(self) -> str:
        if self.problem:
            return self.problem
        if self.already:
            return f"{self.client_name}: this file was already imported ({self.already}); nothing changed."
        if self.errors:
            more = f"\n…and {self.more_errors} more." if self.more_errors else ""
            lines = "\n".join(f"• {e}" for e in self.errors)
            return f"{self.client_name}: nothing was stored; the file ({self.mapping}) has problems:\n{lines}{more}"
        rolled = (
            f" {self.compacted:,} installed updates older than 120 days rolled up by month." if self.compacted else ""
        )
        return (
            f"{self.client_name}: imported {self.rows:,} rows ({self.mapping}): "
            f"{self.devices:,} devices, {self.updates:,} device updates.{rolled} `/patchpolicy status "
            f"{self.client_name}` shows where it stands."
        )


class Ingest:
    """Imports exports into the device data."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    def file(self, client_text: str, path: Path, by: str, columns: str = "", name: str = "") -> IngestResult:
        """Import `path` for the client `client_text` names; `columns` writes the client's own mapping first."""
        name = name or path.name
        with self.db.read() as session:
            match = resolve_client(session, client_text, kind="client")
            client = match.client
            version = latest_version(session, client.id) if client else None
            saved = (
                session.exec(select(IngestMapping).where(IngestMapping.client_id == client.id)).first()
                if client
                else None
            )
        if client is None:
            return IngestResult(client_text, problem=match.problem or "Which client? `ingest <client> <file>`.")
        if version is None:
            return IngestResult(
                client.name,
                problem=f"{client.name} has no published policy yet; its deadlines come from it. Publish it first.",
            )
        try:
            spec = parse_spec(columns) if columns else (saved.columns if saved else None)
            own = generic(spec) if spec else None
        except MappingError as err:
            return IngestResult(client.name, problem=str(err))
        digest = _sha256(path)
        with self.db.read() as session:
            before = session.exec(
                select(IngestRun).where(IngestRun.client_id == client.id, IngestRun.digest == digest)
            ).first()
        if before is not None:
            when = before.finished_at.astimezone(Deadlines.of(policy_from(version.answers)).zone)
            return IngestResult(client.name, before.mapping, already=f"{when:%Y-%m-%d %H:%M} as {before.origin}")
        try:
            with path.open(encoding="utf-8-sig", newline="") as stream:
                data = load_json(path, stream) if is_json(path, stream) else None  # parsed once, for every pass
                mapping, header = self._mapping(stream, data, own if columns else None, own)
                if isinstance(mapping, str):
                    return IngestResult(client.name, problem=mapping)
                absent = mapping.missing(header)
                if absent:
                    return IngestResult(
                        client.name, mapping.label, errors=tuple(f"Row 1: no column {a}." for a in absent)
                    )
            checked = self._check(path, mapping, data)
            if checked.errors:
                return IngestResult(
                    client.name, mapping.label, rows=checked.rows, errors=checked.errors, more_errors=checked.more
                )
            started = self.clock.now()
            deadlines = Deadlines.of(policy_from(version.answers))
            floor = self._rolled_up_before(client.id)
            devices, updates = self._write(client.id, path, data, mapping, deadlines, floor)
        except (FileError, UnicodeDecodeError) as err:
            problem = str(err) if isinstance(err, FileError) else "That file is not UTF-8 text; export it as UTF-8 CSV."
            return IngestResult(client.name, problem=problem)
        with self.db.write() as session:
            count_open_updates(session, client.id, OPEN_STATES)
        rolled = compact(self.db, client.id, policy_from(version.answers), started)
        with self.db.write() as session:
            if columns and own is not None:
                row = saved or IngestMapping(client_id=client.id, columns={}, written_by=by, written_at=started)
                row.columns, row.written_by, row.written_at = dict(spec or {}), by, started
                session.add(row)
            session.add(
                IngestRun(
                    client_id=client.id,
                    source=mapping.source,
                    mapping=mapping.label,
                    origin=name[:300],
                    digest=digest,
                    rows=checked.rows,
                    devices=devices,
                    updates=updates,
                    started_at=started,
                    finished_at=self.clock.now(),
                    by=by,
                    compacted_before=started - timedelta(days=KEEP_DAYS),
                )
            )
        return IngestResult(
            client.name, mapping.label, rows=checked.rows, devices=devices, updates=updates, compacted=rolled
        )

    def _mapping(
        self, stream: Any, data: Any, chosen: Mapping | None, own: Mapping | None
    ) -> tuple[Mapping | str, list[str]]:
        """The mapping to read the file with (the one given, a vendor's found by the header, or the client's);
        `data` is the parsed JSON, or None for a CSV file read from `stream`."""
        if data is not None:
            for mapping in [chosen] if chosen else [*known(), *([own] if own else [])]:
                try:
                    header = json_table(data, mapping.rows, mapping.expand).header
                except FileError:
                    continue  # its rows are not where this mapping keeps them
                if chosen or mapping.fits(header) or mapping is own:
                    return mapping, header
            try:
                return _unknown(json_table(data).header), []
            except FileError as err:
                return str(err), []
        header = csv_table(stream).header
        found = chosen or detect(header) or (own if own and not own.missing(header) else None)
        return (found, header) if found else (_unknown(header), header)

    @staticmethod
    @contextmanager
    def _table(path: Path, data: Any, mapping: Mapping) -> Iterator[Table]:
        """The export's table under `mapping`: the parsed JSON's rows, or the CSV file streamed afresh."""
        if data is not None:
            yield json_table(data, mapping.rows, mapping.expand)
            return
        with path.open(encoding="utf-8-sig", newline="") as stream:
            yield csv_table(stream)

    def _check(self, path: Path, mapping: Mapping, data: Any) -> _Checked:
        """Every row read, nothing stored: the problems, and a repeat of a device and update named as one."""
        checked = _Checked()
        seen: set[int] = set()
        with self._table(path, data, mapping) as table:
            reader = RowReader(mapping, table.header, self.clock.now())
            for number, values in table.rows:
                checked.rows += 1
                record = reader.read(number, values)
                if isinstance(record, RowError):
                    checked.add(record.line())
                    continue
                key = hash((record["device_key"], record.get("update_key", "")))
                if key in seen:
                    what = f"device {record['device_key']}" + (
                        f", update {record['update_key']}" if "update_key" in record else ""
                    )
                    checked.add(f"Row {number}: repeats an earlier row ({what}).")
                seen.add(key)
        if checked.rows == 0:
            checked.add("The file has a header but no rows.")
        return checked

    def _rolled_up_before(self, client_id: int) -> datetime | None:
        """Installs before this are in the monthly roll-ups already: an export that has them again skips them."""
        with self.db.read() as session:
            return session.exec(
                select(func.max(IngestRun.compacted_before)).where(IngestRun.client_id == client_id)
            ).one()

    def _write(
        self, client_id: int, path: Path, data: Any, mapping: Mapping, deadlines: Deadlines, floor: datetime | None
    ) -> tuple[int, int]:
        """Store the checked file in batches (each its own transaction, so other writers are not held up)."""
        devices: dict[str, dict[str, Any]] = {}
        updates: list[dict[str, Any]] = []
        every_device: set[str] = set()
        update_count = 0
        with self._table(path, data, mapping) as table:
            reader = RowReader(mapping, table.header, self.clock.now())
            for number, values in table.rows:
                record = reader.read(number, values)
                assert not isinstance(record, RowError)  # checked before
                record["client_id"] = client_id
                device = {k: record[k] for k in _DEVICE_FIELDS}
                if "observed_at" in reader.index or record["last_seen_at"] is not None:
                    device["last_seen_at"] = record["last_seen_at"] or record["observed_at"]
                devices[record["device_key"]] = device
                every_device.add(record["device_key"])
                rolled_up = (
                    floor is not None and record.get("installed_at") is not None and record["installed_at"] < floor
                )
                if mapping.kind == "updates" and not rolled_up:
                    update = {k: record[k] for k in _UPDATE_FIELDS}
                    update["deadline_at"] = deadlines.due(
                        record["severity"], record["released_at"], record["first_seen_at"]
                    )
                    updates.append(update)
                if len(updates) >= BATCH or len(devices) >= BATCH:
                    update_count += len(updates)
                    self._flush(devices, updates)
        update_count += len(updates)
        self._flush(devices, updates)
        return len(every_device), update_count

    def _flush(self, devices: dict[str, dict[str, Any]], updates: list[dict[str, Any]]) -> None:
        with self.db.write() as session:
            upsert_devices(session, list(devices.values()))
            upsert_updates(session, updates)
        devices.clear()
        updates.clear()


_DEVICE_FIELDS = (
    "client_id",
    "device_key",
    "name",
    "rmm_group",
    "os",
    "source",
    "last_seen_at",
    "reboot_required",
    "status",
    "pending",
    "failed",
    "observed_at",
)
_UPDATE_FIELDS = (
    "client_id",
    "device_key",
    "update_key",
    "title",
    "severity",
    "severity_raw",
    "cves",
    "state",
    "installed",
    "released_at",
    "first_seen_at",
    "installed_at",
    "observed_at",
)


@dataclass
class _Checked:
    rows: int = 0
    errors: tuple[str, ...] = ()
    more: int = 0

    def add(self, line: str) -> None:
        if len(self.errors) < MAX_ERRORS:
            self.errors += (line,)
        else:
            self.more += 1


def _unknown(header: list[str]) -> str:
    shown = ", ".join(header[:8]) + (", …" if len(header) > 8 else "")
    names = "; ".join(m.label for m in known())
    return (
        f"I don't recognise these columns ({shown}). I read exports of: {names}. For another export, tell me "
        "once which column is which: `--columns device=Computer,update=KB,severity=Severity,state=Status` "
        "(also: device_name, group, title, released_at, first_seen_at, installed_at, last_seen_at)."
    )


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
