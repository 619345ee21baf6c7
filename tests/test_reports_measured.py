"""Reports that cover only time under a policy, with figures measured from the device data beside the check-ins,
and charts drawn on the server; a month whose detail was rolled up is counted by install month."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from bot.core import Core
from bot.kernel.clock import ManualClock
from bot.kernel.directory import LocalDirectory
from bot.reporting.reports import Report
from storage.db import Database
from tests.support.device_data import publish_client, write_csv

HEADER = ["Computer", "Site", "Patch", "Severity", "Status", "Released", "Installed", "Last seen"]
COLUMNS = (
    "device=Computer,group=Site,update=Patch,severity=Severity,state=Status,released_at=Released,"
    "installed_at=Installed,last_seen_at=Last seen"
)
PUBLISHED = datetime(2026, 10, 14, 15, 0, tzinfo=UTC)  # 11:00 in New York
NOVEMBER = [  # critical KB5046617 due 9 Nov 18:00 UTC; high KB5046700 due 19 Nov
    ["PC-1", "Acme HQ", "KB5046617", "Critical", "Installed", "2026-11-02T18:00:00Z", "2026-11-03T18:00:00Z", ""],
    ["PC-2", "Acme HQ", "KB5046617", "Critical", "Installed", "2026-11-02T18:00:00Z", "2026-11-12T18:00:00Z", ""],
    ["SRV-1", "Acme DC", "KB5046617", "Critical", "Missing", "2026-11-02T18:00:00Z", "", ""],
    ["PC-1", "Acme HQ", "KB5046700", "High", "Installed", "2026-11-05T18:00:00Z", "2026-11-06T18:00:00Z", ""],
]


@pytest.fixture
def core(db_url):
    db = Database(db_url)
    db.migrate()
    core = Core(db, ManualClock(PUBLISHED), LocalDirectory())
    publish_client(core, {"data.group_map": "Acme HQ - Workstations\nAcme DC - Servers"})
    yield core
    db.dispose()


def report(core: Core, text: str) -> Report:
    found = core.reports.for_command(text)
    assert isinstance(found, Report), found
    return found


def load(core: Core, tmp_path, rows: list[list[str]], name: str) -> None:
    seen = core.clock.now().isoformat()
    rows = [[*row[:7], seen] for row in rows]
    result = core.device_data.import_file("acme", write_csv(tmp_path / name, HEADER, rows), "UTECH", COLUMNS)
    assert result.ok, result.text()


def test_a_policy_published_today_has_no_report_for_last_month_and_no_windows_before_it(core):
    core.clock.set(datetime(2026, 10, 20, 12, 0, tzinfo=UTC))
    refused = core.reports.for_command("acme september")
    assert refused == (
        "Acme's SOP was first published on 14 October 2026, so no policy was in force in September 2026. "
        "Its first report covers October 2026."
    )
    october = report(core, "acme october")
    assert "**Policy in force**: from 14 October 2026, when the SOP was first published" in october.markdown
    assert "**Versions in force**: v1 (published 14 Oct 2026 by Tess Tech)." in october.markdown
    windows = re.findall(r"\| \w{3} (\d\d) Oct 2026", october.markdown)
    assert windows and all(int(day) >= 14 for day in windows)  # nothing before the policy existed
    assert "no device data yet, so no deadline is measured per device" in october.markdown
    assert october.headline[1].startswith("No device data yet")


def test_a_month_of_device_data_gives_measured_figures_per_severity_and_group(core, tmp_path):
    core.clock.set(datetime(2026, 11, 20, 12, 0, tzinfo=UTC))
    load(core, tmp_path, NOVEMBER, "november.csv")
    core.clock.set(datetime(2026, 12, 2, 12, 0, tzinfo=UTC))
    november = report(core, "acme")
    md = november.markdown
    assert "| Critical | 3 | 1 | 33% | 5.5 days | 5.5 days |" in md
    assert "| High | 1 | 1 | 100% | 24.0 hours | 24.0 hours |" in md
    assert "| Workstations | 3 | 2 | 67% |" in md and "| Servers | 1 | 0 | 0% |" in md
    assert "**Overdue** at the end of the period: 1 device update." in md
    assert "| SRV-1 | Servers | KB5046617 | critical | 22 |" in md  # 9 Nov 18:00 UTC to 1 Dec 05:00 UTC
    assert november.headline == (
        "50% of the 4 device updates due in November 2026 were installed by their deadline (target 95%).",
        "1 device update was overdue at the end of November 2026, the longest by 22 days.",
        november.headline[2],
    )
    patched = r"2 of 3 devices seen are fully patched \(device data of 2026-11-20 07:00 .*\)\."
    assert re.fullmatch(patched, november.headline[2])
    html = november.html()
    assert html.count('<figure class="chart"') == 3 and "<script" not in html
    trend = november.figures.trend_alt
    assert trend == "Oct 26: nothing due; Nov 26: critical 33%, high 100%"  # no month before the policy


def test_a_rolled_up_month_is_counted_by_install_month_and_says_so(core, tmp_path):
    core.clock.set(datetime(2026, 11, 20, 12, 0, tzinfo=UTC))
    load(core, tmp_path, NOVEMBER, "november.csv")
    core.clock.set(datetime(2027, 4, 15, 12, 0, tzinfo=UTC))  # 120 days on: the next import compacts November
    april = [["PC-3", "Acme HQ", "KB5050000", "Low", "Missing", "2027-04-10T00:00:00Z", "", ""]]
    load(core, tmp_path, april, "april.csv")
    november = report(core, "acme 2026-11")
    md = november.markdown
    assert "counted by install month: this month's detail has been rolled up" in md
    assert "| Critical | 2 | 1 | 50% | 5.5 days | within 14 days |" in md  # installs only: the median to its bucket
    assert "| High | 1 | 1 | 100% | 24.0 hours | within 1 day |" in md
    assert november.headline[0].startswith("67% of the 3 device updates installed in November 2026")
