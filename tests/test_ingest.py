"""Importing RMM exports: each vendor's mapping on a realistic file, a bad file stores nothing, the same export
twice changes nothing, the command line and a file shared in the bot's DM."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlmodel import func, select

from bot.core import Core
from bot.kernel.directory import LocalDirectory
from storage.db import Database
from storage.device_data import Device, DeviceUpdate, IngestRun
from tests.support.device_data import (
    AUTOMOX_PACKAGES,
    NCENTRAL,
    NINJA_OS,
    WUFB,
    epoch,
    publish_client,
    write_csv,
    write_json,
)
from tests.test_compliance import run_cli

COLLECTED = datetime(2026, 11, 20, 6, 0, tzinfo=UTC)


@pytest.fixture
def core(db_url, clock):
    db = Database(db_url)
    db.migrate()
    core = Core(db, clock, LocalDirectory())
    publish_client(core)
    yield core
    db.dispose()


def stored(core: Core) -> dict[tuple[str, str], DeviceUpdate]:
    with core.db.read() as session:
        return {(u.device_key, u.update_key): u for u in session.exec(select(DeviceUpdate)).all()}


def devices(core: Core) -> dict[str, Device]:
    with core.db.read() as session:
        return {d.device_key: d for d in session.exec(select(Device)).all()}


def test_ninjaone_os_patches_csv(core, tmp_path):
    seen = epoch(COLLECTED)
    path = write_csv(
        tmp_path / "os-patches.csv",
        NINJA_OS,
        [
            [
                "8c1f",
                1041,
                "2026-11 Cumulative Update for Windows 11 24H2",
                "KB5046617",
                "CRITICAL",
                "APPROVED",
                "PATCH",
                "",
                seen,
            ],
            [
                "8c20",
                1041,
                "Security Intelligence Update for Defender",
                "KB2267602",
                "OPTIONAL",
                "INSTALLED",
                "PATCH",
                epoch(datetime(2026, 11, 19, 22, tzinfo=UTC)),
                seen,
            ],
            [
                "8c21",
                1042,
                "2026-11 Cumulative Update for Windows 11 24H2",
                "5046617",
                "CRITICAL",
                "FAILED",
                "PATCH",
                seen - 3600,
                seen,
            ],
            [
                "8c22",
                1043,
                "2026-11 Cumulative Update for Windows Server 2022",
                "KB5046616",
                "IMPORTANT",
                "MANUAL",
                "PATCH",
                "",
                seen,
            ],
            ["8c23", 1043, "Preview of Monthly Quality Rollup", "KB5046540", "MODERATE", "REJECTED", "PATCH", "", seen],
        ],
    )
    result = core.device_data.import_file("acme", path, "UTECH")
    assert result.ok, result.text()
    assert "imported 5 rows (NinjaOne OS patches): 3 devices, 5 device updates" in result.text()
    rows = stored(core)
    assert (
        rows[("1041", "KB5046617")].state == "approved_pending" and rows[("1041", "KB5046617")].severity == "critical"
    )
    assert rows[("1041", "KB2267602")].installed and rows[("1041", "KB2267602")].installed_at == datetime(
        2026, 11, 19, 22, tzinfo=UTC
    )
    assert rows[("1042", "KB5046617")].state == "failed"  # "5046617" is the same KB
    assert rows[("1043", "KB5046616")].state == "pending_approval" and rows[("1043", "KB5046616")].severity == "high"
    assert rows[("1043", "KB5046540")].state == "excluded" and rows[("1043", "KB5046540")].severity == "medium"
    # no release date in NinjaOne: the clock starts when it was first seen, and Critical allows 7 days
    assert rows[("1041", "KB5046617")].first_seen_at == COLLECTED
    assert rows[("1041", "KB5046617")].deadline_at == datetime(2026, 11, 27, 6, 0, tzinfo=UTC)
    assert devices(core)["1041"].last_seen_at == COLLECTED


def test_ninjaone_software_patches_json_as_the_api_answers(core, tmp_path):
    answer = {
        "cursor": {"name": "c-1", "offset": 0, "count": 2, "expires": 1764000000.0},
        "results": [
            {
                "id": "a1",
                "productIdentifier": "p-chrome",
                "title": "Google Chrome 131.0.6778.86",
                "impact": "CRITICAL",
                "status": "APPROVED",
                "type": "PATCH",
                "deviceId": 2001,
                "timestamp": epoch(COLLECTED),
            },
            {
                "id": "a2",
                "productIdentifier": "p-zoom",
                "title": "Zoom Workplace 6.2.11",
                "impact": "",
                "status": "INSTALLED",
                "type": "PATCH",
                "deviceId": 2001,
                "installedAt": epoch(COLLECTED),
                "timestamp": epoch(COLLECTED),
            },
        ],
    }
    result = core.device_data.import_file("Acme", write_json(tmp_path / "software.json", answer), "UTECH")
    assert result.ok and result.mapping == "NinjaOne software patches", result.text()
    rows = stored(core)
    assert rows[("2001", "Google Chrome 131.0.6778.86")].severity == "critical"
    assert (
        rows[("2001", "Zoom Workplace 6.2.11")].severity == "unknown"
        and rows[("2001", "Zoom Workplace 6.2.11")].installed
    )


def test_automox_device_packages(core, tmp_path):
    path = write_csv(
        tmp_path / "packages.csv",
        AUTOMOX_PACKAGES,
        [
            [
                1,
                501,
                9,
                3,
                "false",
                "false",
                "",
                "Google Chrome",
                "Google Chrome",
                "131.0.6778.86",
                "chrome",
                "CVE-2024-11395 CVE-2024-11110",
                "8.8",
                "high",
                "Microsoft Windows 11 Pro",
                "2026-11-13T17:02:11+0000",
                "false",
            ],
            [
                2,
                501,
                10,
                4,
                "true",
                "false",
                "",
                "7-Zip",
                "7-Zip",
                "24.08",
                "7zip",
                "",
                "",
                "no_known_cves",
                "Microsoft Windows 11 Pro",
                "2026-10-01T09:00:00+0000",
                "false",
            ],
            [
                3,
                502,
                11,
                5,
                "false",
                "true",
                "",
                "Adobe Acrobat Reader",
                "Adobe Acrobat Reader",
                "24.005.20307",
                "adobe",
                "CVE-2024-49530",
                "9.8",
                "critical",
                "Microsoft Windows 11 Pro",
                "2026-11-12T00:00:00+0000",
                "false",
            ],
        ],
    )
    result = core.device_data.import_file("acme", path, "UTECH")
    assert result.ok and result.mapping == "Automox device packages", result.text()
    rows = stored(core)
    chrome = rows[("501", "Google Chrome 131.0.6778.86")]
    assert chrome.state == "missing" and chrome.severity == "high" and chrome.cves == "CVE-2024-11395 CVE-2024-11110"
    assert chrome.first_seen_at == datetime(2026, 11, 13, 17, 2, 11, tzinfo=UTC)
    assert rows[("501", "7-Zip 24.08")].installed and rows[("501", "7-Zip 24.08")].severity == "low"
    assert rows[("502", "Adobe Acrobat Reader 24.005.20307")].state == "excluded"  # ignored in Automox


@pytest.mark.parametrize("as_list", [False, True])
def test_automox_prepatch_report_with_patches_as_one_object_or_a_list(core, tmp_path, as_list):
    patch = {
        "id": 77,
        "packageVersionId": 12,
        "name": "2026-11 Cumulative Update (KB5046617)",
        "severity": "critical",
        "cve": "CVE-2026-21001",
        "createTime": "2026-11-12T18:00:00Z",
        "patchTime": "2026-11-14T22:00:00Z",
        "needsApproval": True,
    }
    other = {**patch, "id": 78, "name": "Mozilla Firefox 133.0", "severity": "medium", "needsApproval": False}
    report = {
        "prepatch": {
            "total": 2,
            "needsAttention": 1,
            "critical": 1,
            "devices": [
                {
                    "id": 601,
                    "name": "ACME-WS-014",
                    "createTime": "2024-01-01T00:00:00Z",
                    "group": "Workstations",
                    "connected": True,
                    "needsReboot": False,
                    "os_family": "Windows",
                    "compliant": False,
                    "patches": [patch, other] if as_list else patch,
                },
            ],
        }
    }
    result = core.device_data.import_file("acme", write_json(tmp_path / "prepatch.json", report), "UTECH")
    assert result.ok and result.mapping == "Automox pre-patch report", result.text()
    rows = stored(core)
    assert rows[("601", "2026-11 Cumulative Update (KB5046617)")].state == "pending_approval"
    assert devices(core)["601"].name == "ACME-WS-014" and devices(core)["601"].rmm_group == "Workstations"
    assert len(rows) == (2 if as_list else 1)
    if as_list:
        assert rows[("601", "Mozilla Firefox 133.0")].state == "approved_pending"


def test_datto_counts_fill_device_snapshots(core, tmp_path):
    answer = {
        "pageDetails": {"count": 2, "totalCount": 2},
        "devices": [
            {
                "uid": "d-1",
                "hostname": "ACME-SRV-01",
                "siteName": "Servers",
                "lastSeen": 1763618400000,
                "rebootRequired": True,
                "patchManagement": {
                    "patchStatus": "RebootRequired",
                    "patchesApprovedPending": 0,
                    "patchesNotApproved": 0,
                    "patchesInstalled": 41,
                },
            },
            {
                "uid": "d-2",
                "hostname": "ACME-WS-002",
                "siteName": "Workstations",
                "lastSeen": 1763618400000,
                "rebootRequired": False,
                "patchManagement": {
                    "patchStatus": "FullyPatched",
                    "patchesApprovedPending": 0,
                    "patchesNotApproved": 0,
                    "patchesInstalled": 37,
                },
            },
        ],
    }
    result = core.device_data.import_file("acme", write_json(tmp_path / "datto.json", answer), "UTECH")
    assert result.ok and result.mapping == "Datto RMM device patch status (counts only)", result.text()
    found = devices(core)
    assert found["d-1"].status == "RebootRequired" and found["d-1"].reboot_required is True
    assert found["d-2"].status == "FullyPatched"
    assert found["d-1"].last_seen_at == datetime(2025, 11, 20, 6, 0, tzinfo=UTC)
    assert stored(core) == {}


def test_ncentral_patch_status(core, tmp_path):
    path = write_csv(
        tmp_path / "ncentral.csv",
        NCENTRAL,
        [
            [
                "Acme",
                "ACME-WS-020",
                "88120",
                "2026-11 Cumulative Update for Windows 11",
                "KB5046617",
                "Security Updates",
                "Approved for Install",
                "Not Installed",
                "2026-11-11",
                "",
            ],
            [
                "Acme",
                "ACME-WS-020",
                "88120",
                "Update for Microsoft Edge",
                "KB5046999",
                "Critical Updates",
                "Approved for Install",
                "Installed With Errors",
                "2026-11-05",
                "",
            ],
            [
                "Acme",
                "ACME-WS-021",
                "88121",
                "2026-11 Cumulative Update for Windows 11",
                "KB5046617",
                "Security Updates",
                "Approved for Install",
                "Installed",
                "2026-11-11",
                "2026-11-14 02:10",
            ],
        ],
    )
    result = core.device_data.import_file("acme", path, "UTECH")
    assert result.ok and result.mapping == "N-central patch status", result.text()
    rows = stored(core)
    missing = rows[("88120", "KB5046617")]
    assert missing.state == "missing" and missing.severity == "high"
    # released 2026-11-11 00:00 UTC = Nov 10 19:00 in New York; High allows 14 days: Nov 24 19:00 New York
    assert missing.deadline_at == datetime(2026, 11, 25, 0, 0, tzinfo=UTC)
    assert rows[("88120", "KB5046999")].state == "failed" and rows[("88120", "KB5046999")].severity == "critical"
    assert rows[("88121", "KB5046617")].installed_at == datetime(2026, 11, 14, 2, 10, tzinfo=UTC)


def test_windows_update_for_business_reports(core, tmp_path):
    path = write_csv(
        tmp_path / "UCClientUpdateStatus.csv",
        WUFB,
        [
            [
                "2026-11-20T06:00:00Z",
                "t-1",
                "aad-1",
                "ACME-LT-07",
                "KB5046617",
                "26100.2454",
                "Security",
                "2026/11/12 06:00:00.000 PM",
                "",
                "Installing",
                "DownloadComplete",
                "2026/11/19 09:26:03.478 AM",
            ],
            [
                "2026-11-20T06:00:00Z",
                "t-1",
                "aad-2",
                "ACME-LT-08",
                "KB5046617",
                "26100.2454",
                "Security",
                "2026/11/12 06:00:00.000 PM",
                "2026/11/15 01:00:00.000 AM",
                "Installed",
                "UpdateInstalled",
                "",
            ],
            [
                "2026-11-20T06:00:00Z",
                "t-1",
                "aad-3",
                "ACME-LT-09",
                "KB5046617",
                "26100.2454",
                "Security",
                "2026/11/12 06:00:00.000 PM",
                "",
                "Installing",
                "RestartRequired",
                "",
            ],
        ],
    )
    result = core.device_data.import_file("acme", path, "UTECH")
    assert result.ok and "Windows Update for Business" in result.mapping, result.text()
    rows = stored(core)
    assert rows[("aad-1", "KB5046617")].state == "missing" and rows[("aad-1", "KB5046617")].severity == "unknown"
    assert rows[("aad-1", "KB5046617")].released_at == datetime(2026, 11, 12, 18, 0, tzinfo=UTC)
    assert rows[("aad-2", "KB5046617")].installed_at == datetime(2026, 11, 15, 1, 0, tzinfo=UTC)
    assert rows[("aad-3", "KB5046617")].state == "reboot_pending"
    assert devices(core)["aad-1"].name == "ACME-LT-07"


def test_a_clients_own_mapping_is_written_once_on_the_command_line(core, tmp_path, db_url):
    header = ["Computer", "Site", "Patch", "Sev", "Status", "Released"]
    first = write_csv(
        tmp_path / "first.csv", header, [["PC-1", "Workstations", "KB5046617", "Important", "Missing", "2026-11-11"]]
    )
    columns = "device=Computer,group=Site,update=Patch,severity=Sev,state=Status,released_at=Released"
    done = run_cli("ingest", "acme", str(first), "--columns", columns, cwd=tmp_path, env={"DATABASE_URL": db_url})
    assert done.returncode == 0, done.stderr
    assert "imported 1 rows (your mapping): 1 devices" in done.stdout
    later = write_csv(tmp_path / "later.csv", header, [["PC-2", "Servers", "KB5046616", "9.8", "Failed", "2026-11-11"]])
    done = run_cli("ingest", "acme", str(later), cwd=tmp_path, env={"DATABASE_URL": db_url})
    assert done.returncode == 0, done.stderr
    rows = stored(core)
    assert rows[("PC-1", "KB5046617")].severity == "high" and rows[("PC-2", "KB5046616")].severity == "critical"
    assert rows[("PC-2", "KB5046616")].state == "failed"


def test_a_bad_file_names_each_row_and_column_and_stores_nothing(core, tmp_path):
    rows = [
        ["1", 1041, "CU", "KB5046617", "CRITICAL", "APPROVED", "PATCH", "", epoch(COLLECTED)],
        ["2", 1041, "CU", "KB5046618", "CRITICAL", "APPROVED", "PATCH", "", "last tuesday"],
        ["3", 1042, "CU", "KB5046617", "SEVERE", "APPROVED", "PATCH", "", epoch(COLLECTED)],
        ["4", 1041, "CU", "KB5046617", "CRITICAL", "APPROVED", "PATCH", "", epoch(COLLECTED)],
        ["5", 1043, "CU", "KB5046617", "CRITICAL", "PAUSED", "PATCH", "", epoch(COLLECTED)],
    ]
    result = core.device_data.import_file("acme", write_csv(tmp_path / "bad.csv", NINJA_OS, rows), "UTECH")
    assert not result.ok
    assert result.errors == (
        "Row 3, column timestamp: 'last tuesday' is not a time in seconds.",
        "Row 4, column severity: 'SEVERE' is not a severity I know (I know: critical, important, moderate, optional).",
        "Row 5: repeats an earlier row (device 1041, update KB5046617).",
        "Row 6, column status: 'PAUSED' is not an install state I know.",
    )
    assert "nothing was stored" in result.text()
    without = write_csv(
        tmp_path / "no-status.csv", [h for h in NINJA_OS if h != "severity"], [r[:4] + r[5:] for r in rows[:1]]
    )
    result = core.device_data.import_file("acme", without, "UTECH")
    assert result.errors == ("Row 1: no column severity.",)
    assert stored(core) == {} and devices(core) == {}
    with core.db.read() as session:
        assert session.exec(select(func.count()).select_from(IngestRun)).one() == 0


def test_an_unknown_export_says_what_it_reads_and_how_to_map_it(core, tmp_path):
    path = write_csv(tmp_path / "odd.csv", ["Host", "Thing"], [["a", "b"]])
    result = core.device_data.import_file("acme", path, "UTECH")
    assert "I don't recognise these columns (Host, Thing)" in result.text()
    assert "--columns device=Computer,update=KB" in result.text()


def test_the_same_export_twice_changes_nothing(core, tmp_path):
    rows = [
        ["1", 1041, "CU", "KB5046617", "CRITICAL", "APPROVED", "PATCH", "", epoch(COLLECTED)],
        ["2", 1042, "CU", "KB5046617", "CRITICAL", "INSTALLED", "PATCH", epoch(COLLECTED), epoch(COLLECTED)],
    ]
    path = write_csv(tmp_path / "os.csv", NINJA_OS, rows)
    assert core.device_data.import_file("acme", path, "UTECH").ok
    before = {k: v.model_dump() for k, v in stored(core).items()}
    again = core.device_data.import_file("acme", path, "UTECH")
    assert again.ok and "already imported" in again.text() and "nothing changed" in again.text()
    reordered = write_csv(tmp_path / "os-copy.csv", NINJA_OS, list(reversed(rows)))  # the same rows, another file
    assert core.device_data.import_file("acme", reordered, "UTECH").ok
    assert {k: v.model_dump() for k, v in stored(core).items()} == before
    older = write_csv(
        tmp_path / "older.csv",
        NINJA_OS,
        [["1", 1041, "CU", "KB5046617", "CRITICAL", "FAILED", "PATCH", "", epoch(COLLECTED) - 86400]],
    )
    assert core.device_data.import_file("acme", older, "UTECH").ok
    assert stored(core)[("1041", "KB5046617")].state == "approved_pending"  # an older export never wins


def test_an_export_shared_in_the_dm_with_the_clients_name(bot, fake, tmp_path):
    publish_client(bot.core)
    content = "\n".join([",".join(NINJA_OS), f"1,1041,CU,KB5046617,CRITICAL,APPROVED,PATCH,,{epoch(COLLECTED)}"])
    files = [fake.user_file("acme-os-patches.csv", content)]
    event = {
        "type": "message",
        "subtype": "file_share",
        "channel_type": "im",
        "channel": "DUTECH",
        "user": "UTECH",
        "text": "Acme",
        "files": files,
        "ts": "1.5",
    }
    bot.event(event)
    reply = fake.last_post("DUTECH")
    assert "Acme: imported 1 rows (NinjaOne OS patches): 1 devices, 1 device updates" in reply["text"]
    with bot.db.read() as session:
        assert session.exec(select(IngestRun.origin)).all() == ["acme-os-patches.csv"]
    files = [fake.user_file("again.csv", content)]
    bot.event({**event, "text": "", "files": files, "ts": "1.6"})
    assert "Which client is this export for?" in fake.last_post("DUTECH")["text"]


def test_only_editors_import_device_data_in_the_dm(fake, make_bot):
    guarded = make_bot(editors="UTECH")
    publish_client(guarded.core)
    content = "\n".join([",".join(NINJA_OS), f"1,1041,CU,KB5046617,CRITICAL,APPROVED,PATCH,,{epoch(COLLECTED)}"])
    files = [fake.user_file("acme.csv", content)]
    event = {
        "type": "message",
        "subtype": "file_share",
        "channel_type": "im",
        "channel": "DUOTHER",
        "user": "UOTHER",
        "text": "Acme",
        "files": files,
        "ts": "2.5",
    }
    guarded.event(event)
    assert "Only PatchPolicy editors can import device data for policies" in fake.last_post("DUOTHER")["text"]
    with guarded.db.read() as session:
        assert session.exec(select(func.count()).select_from(IngestRun)).one() == 0
