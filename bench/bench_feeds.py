"""The threat feeds at an MSP's size: 20 published clients, one of them with 5,000 devices and 200,000 device
updates naming CVEs; a KEV catalogue of 1,500 entries served by the tests' fake feed server. Timed: the first
read (the whole catalogue kept as history), a read with 20 new entries (each matched against the device data,
5 of them found there), an unchanged read (304), and Patch Tuesday: a month of 100 CVEs read and the 20
clients' digests built as the dispatcher builds them.

Run: .venv/bin/python -m bench.bench_feeds          (DEVICES=5000 by default)
"""

from __future__ import annotations

import csv
import json
import os
import random
import resource
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlmodel import select

from bot.core import Core
from bot.feeds.watch import FeedUrls
from bot.kernel.clock import ManualClock
from bot.kernel.directory import LocalDirectory
from storage.db import Database
from storage.models import Reminder
from tests.support.device_data import publish_client
from tests.support.fake_feeds import FakeFeeds, catalogue, cvrf_document, kev_entry, msrc_vulnerability

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
COLUMNS = "device=Computer,group=Site,update=Patch,severity=Severity,state=Status,released_at=Released,cves=CVEs"


def write_export(path: Path, devices: int, per_device: int) -> None:
    rng = random.Random(3)
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["Computer", "Site", "Patch", "Severity", "Status", "Released", "CVEs"])
        for device in range(devices):
            for n in range(per_device):
                cves = " ".join(f"CVE-2026-{rng.randint(10000, 99999)}" for _ in range(3))
                state = "Installed" if rng.random() < 0.9 else "Missing"
                if device % 50 == 0 and n < 5:  # the five KEV entries the device data shows, not yet installed
                    cves, state = f"{cves} CVE-2026-5{n:04d}", "Missing"
                writer.writerow([f"WS-{device:05d}", "Workstations", f"KB50{n:05d}", "High", state, "2026-11-10", cves])


def main() -> None:
    devices = int(os.environ.get("DEVICES", "5000"))
    feeds = FakeFeeds().start()
    folder = Path(tempfile.mkdtemp(prefix="pp-bench-feeds-"))
    db = Database(f"sqlite:///{folder / 'bench.db'}")
    db.migrate()
    clock = ManualClock(NOW)
    core = Core(
        db, clock, LocalDirectory(), feeds=FeedUrls(f"{feeds.url}/kev.json", f"{feeds.url}/msrc", lambda _s: None)
    )
    for i in range(20):
        name = "Acme" if i == 0 else f"Client {i:02d}"
        publish_client(core, context={"client_name": name, "channel": {"id": f"C0{i:04d}", "name": f"c{i}"}})
    export = folder / "acme.csv"
    write_export(export, devices, 40)
    assert core.device_data.import_file("acme", export, "bench", COLUMNS).ok
    old = [
        kev_entry(f"CVE-2020-{i:05d}", "Vendor", f"Product {i}", f"Old {i}", date(2022, 1, 1), date(2022, 1, 22))
        for i in range(1500)
    ]
    figures: dict[str, object] = {"devices": devices, "device_updates": devices * 40}

    def timed(label: str) -> None:
        started = time.perf_counter()
        runs = core.feeds.refresh(force=True)
        figures[label] = {"seconds": round(time.perf_counter() - started, 3), "found": [r.text for r in runs]}

    feeds.serve_kev(catalogue(old, "2026.11.30", NOW), NOW)
    timed("first_read_1500_entries")
    new = [
        kev_entry(
            f"CVE-2026-5{n:04d}" if n < 5 else f"CVE-2026-6{n:04d}",
            "Vendor",
            f"Widget {n}",
            f"New {n}",
            NOW.date(),
            NOW.date() + timedelta(days=21),
        )
        for n in range(20)
    ]
    feeds.serve_kev(catalogue(old + new, "2026.12.01", NOW), NOW)
    clock.set(NOW + timedelta(hours=3))
    timed("read_with_20_new_entries")
    timed("unchanged_read_304")
    products = {"1": "Windows 11 Version 24H2 for x64-based Systems", "2": "Windows Server 2025"}
    vulns = [
        msrc_vulnerability(
            f"CVE-2026-7{n:04d}",
            f"Windows component {n} vulnerability",
            ("Critical", "Important", "Moderate")[n % 3],
            f"KB50{n % 40:05d}",
            ["1", "2"],
            exploited=n < 3,
        )
        for n in range(100)
    ]
    feeds.publish_month(
        cvrf_document("2026-Dec", "December 2026 Security Updates", products, vulns), "2026-12-08T08:00:00Z"
    )
    clock.set(datetime(2026, 12, 8, 17, 30, tzinfo=UTC))
    timed("patch_tuesday_read_100_cves")
    with db.read() as session:
        rows = session.exec(select(Reminder).where(Reminder.subject == "feed", Reminder.kind == "digest")).all()
    subject = core.reminders.subjects["feed"]
    started = time.perf_counter()
    built = [subject.reminder(row) for row in rows]
    figures["digests_built"] = {"count": len(built), "seconds": round(time.perf_counter() - started, 3)}
    figures["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    feeds.stop()
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
