"""The monthly report and the 12-month audit pack for a client of 5,000 devices, on SQLite (or the server that
DATABASE_URL names, with PG=1): a year of device data (five updates a month on every device, 300,000 device
updates; the months older than 120 days rolled up by compaction, as in use), then the report of the last month
(figures, the three charts and the HTML) and the audit pack, each timed over several runs.

Run: .venv/bin/python -m bench.bench_report          (DEVICES=5000 MONTHS=12 by default)
"""

from __future__ import annotations

import csv
import json
import os
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.core import Core
from bot.kernel.clock import ManualClock
from bot.kernel.directory import LocalDirectory
from bot.kernel.views import ExportFile
from bot.reporting.reports import Report
from storage.db import Database
from tests.support.device_data import publish_client

HEADER = ["Computer", "Site", "Patch", "Severity", "Status", "Released", "Installed", "Last seen"]
COLUMNS = (
    "device=Computer,group=Site,update=Patch,severity=Severity,state=Status,released_at=Released,"
    "installed_at=Installed,last_seen_at=Last seen"
)
SEVERITIES = ("Critical", "High", "High", "Medium", "Low")
START = datetime(2025, 11, 20, 15, 0, tzinfo=UTC)  # the policy's first publish
NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


def write_export(path: Path, devices: int, months: int) -> int:
    """Every device gets five updates released on the 5th of each month; most install within days."""
    rng = random.Random(11)
    rows = 0
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(HEADER)
        for device in range(devices):
            group = ("Acme HQ", "Acme DC", "Acme Pilot")[device % 3]
            seen = (NOW - timedelta(hours=rng.randint(1, 24 * 20))).isoformat()
            for back in range(months):
                month = (NOW.month - 1 - back - 1) % 12 + 1
                year = NOW.year - (1 if NOW.month - 1 - back <= 0 else 0)
                released = datetime(year, month, 5, 17, 0, tzinfo=UTC)
                for n, severity in enumerate(SEVERITIES):
                    late = rng.random() < 0.08
                    hours = rng.randint(2, 24 * (40 if late else 6))
                    installed = released + timedelta(hours=hours)
                    done = installed < NOW and rng.random() > 0.01
                    writer.writerow(
                        [
                            f"WS-{device:05d}",
                            group,
                            f"KB5{year % 100:02d}{month:02d}{n}",
                            severity,
                            "Installed" if done else "Missing",
                            released.isoformat(),
                            installed.isoformat() if done else "",
                            seen,
                        ]
                    )
                    rows += 1
    return rows


def timed(runs: int, fn) -> list[float]:  # type: ignore[no-untyped-def]
    found = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        found.append(time.perf_counter() - started)
    return found


def main() -> None:
    devices = int(os.environ.get("DEVICES", "5000"))
    months = int(os.environ.get("MONTHS", "12"))
    results = {"devices": devices, "months": months}
    with tempfile.TemporaryDirectory() as folder:
        url = os.environ.get("DATABASE_URL") if os.environ.get("PG") else None
        db = Database(url or f"sqlite:///{folder}/bench.db")
        db.migrate()
        core = Core(db, ManualClock(START), LocalDirectory())
        publish_client(core, {"data.group_map": "Acme HQ - Workstations\nAcme DC - Servers\nAcme Pilot - Pilot"})
        export = Path(folder) / "export.csv"
        results["device_updates"] = write_export(export, devices, months)
        core.clock.set(NOW)
        started = time.perf_counter()
        assert core.device_data.import_file("acme", export, "bench", COLUMNS).ok
        results["import_s"] = round(time.perf_counter() - started, 1)

        def report() -> None:
            found = core.reports.for_command("acme")
            assert isinstance(found, Report), found
            assert found.html().count('<figure class="chart"') == 3

        def pack() -> None:
            found = core.audit.pack("acme")
            assert isinstance(found, ExportFile) and found.content.count('<section class="report">') == 12

        report_runs, pack_runs = timed(5, report), timed(3, pack)
        results["report_s"] = [round(t, 2) for t in report_runs]
        results["audit_pack_s"] = [round(t, 2) for t in pack_runs]
        db.dispose()
    json.dump(results, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
