"""Importing a 1,000,000-row RMM export, and `status` for a client of 5,000 devices, on SQLite (and PostgreSQL
with PG=1). The import runs in a child process so its peak memory is its own; Python's `csv` reading the same
file in the same run is the yardstick.

Run: .venv/bin/python -m bench.bench_ingest          (ROWS=1000000 DEVICES=5000 by default)
"""

from __future__ import annotations

import csv
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.common import percentiles

NOW = datetime(2026, 11, 26, 9, tzinfo=UTC)
HEADER = ["id", "deviceId", "name", "kbNumber", "severity", "status", "type", "installedAt", "timestamp"]
SEVERITIES = ("CRITICAL", "IMPORTANT", "MODERATE", "OPTIONAL")
STATES = ("INSTALLED",) * 85 + ("APPROVED",) * 10 + ("FAILED",) * 3 + ("MANUAL",) * 2


def write_export(path: Path, rows: int, devices: int) -> None:
    """NinjaOne's OS patch query as a CSV: `rows` device updates over `devices` devices, seeded."""
    rng = random.Random(7)
    per_device = rows // devices
    kbs = [f"KB50{46000 + i}" for i in range(per_device)]
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(HEADER)
        for device in range(devices):
            seen = (NOW - timedelta(hours=rng.randint(1, 24 * 20))).timestamp()
            for index, kb in enumerate(kbs):
                state = rng.choice(STATES)
                installed = seen - rng.randint(3600, 3600 * 24 * 40) if state == "INSTALLED" else ""
                writer.writerow(
                    [
                        f"{device}-{index}",
                        10_000 + device,
                        f"Update {kb}",
                        kb,
                        SEVERITIES[index % 4],
                        state,
                        "PATCH",
                        installed,
                        seen,
                    ]
                )


def csv_baseline(path: Path) -> float:
    started = time.perf_counter()
    with path.open(newline="", encoding="utf-8") as stream:
        for _row in csv.reader(stream):
            pass
    return time.perf_counter() - started


def child(url: str, path: str) -> None:
    """In the child: publish a client, import the file, then time `status` for it."""
    from bot.core import Core
    from bot.kernel.clock import ManualClock
    from bot.kernel.directory import LocalDirectory
    from storage.db import Database
    from tests.support.device_data import publish_client

    db = Database(url)
    db.migrate()
    clock = ManualClock(NOW)
    core = Core(db, clock, LocalDirectory())
    publish_client(core)
    started = time.perf_counter()
    result = core.device_data.import_file("acme", Path(path), "bench")
    seconds = time.perf_counter() - started
    assert result.ok, result.text()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    samples = []
    for _ in range(40):
        began = time.perf_counter()
        core.device_data.status("acme")
        samples.append((time.perf_counter() - began) * 1000)
    print(
        json.dumps(
            {
                "import_s": round(seconds, 1),
                "peak_rss_mb": round(peak_mb),
                "rows": result.rows,
                "devices": result.devices,
                "status_ms": percentiles(samples),
            }
        )
    )


def database_urls(folder: Path) -> dict[str, str]:
    urls = {"sqlite": f"sqlite:///{folder / 'bench.db'}"}
    if os.environ.get("PG"):
        import pgserver

        server = pgserver.get_server(tempfile.mkdtemp(prefix="pp-bench-pg-"), cleanup_mode="stop")
        server.psql("CREATE DATABASE bench;")
        urls["postgresql"] = f"postgresql+psycopg://postgres@/bench?host={server.get_uri().split('host=', 1)[1]}"
    return urls


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "child":
        child(sys.argv[2], sys.argv[3])
        return
    rows, devices = int(os.environ.get("ROWS", 1_000_000)), int(os.environ.get("DEVICES", 5000))
    folder = Path(tempfile.mkdtemp(prefix="pp-bench-ingest-"))
    export = folder / "os-patches.csv"
    write_export(export, rows, devices)
    results: dict[str, object] = {"file_mb": round(export.stat().st_size / 1e6)}
    for name, url in database_urls(folder).items():
        baseline = csv_baseline(export)
        done = subprocess.run(
            [sys.executable, "-m", "bench.bench_ingest", "child", url, str(export)],
            capture_output=True,
            text=True,
            check=True,
        )
        figures = json.loads(done.stdout.strip().splitlines()[-1])
        figures["csv_reader_s"] = round(baseline, 2)
        figures["ratio_to_csv_reader"] = round(figures["import_s"] / baseline, 1)
        results[name] = figures
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
