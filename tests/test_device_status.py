"""Deadlines per device and update, and `status`: the edges of a deadline, a change of clocks in the client's
zone, an exception that covers a device, stale devices, unmapped groups; in the console, Slack and the overview."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from bot.commands import run
from bot.core import Core
from bot.kernel.clock import ManualClock
from bot.kernel.directory import LocalDirectory
from bot.patchdata.status import ClientStatus, status_text
from storage.db import Database
from tests.support.device_data import TECH, publish_client, write_csv
from tests.support.slack_driver import message_text

HEADER = ["Computer", "Site", "Patch", "Severity", "Status", "Released", "Installed", "Last seen"]
COLUMNS = (
    "device=Computer,group=Site,update=Patch,severity=Severity,state=Status,released_at=Released,"
    "installed_at=Installed,last_seen_at=Last seen"
)
RELEASED = datetime(2026, 11, 12, 18, 0, tzinfo=UTC)  # 13:00 in New York
CRITICAL_DUE = datetime(2026, 11, 19, 18, 0, tzinfo=UTC)  # + 7 days, 13:00 in New York


@pytest.fixture
def core(db_url):
    db = Database(db_url)
    db.migrate()
    clock = ManualClock(datetime(2026, 11, 20, 12, 0, tzinfo=UTC))
    core = Core(db, clock, LocalDirectory())
    publish_client(core, {"data.group_map": "Acme HQ - Workstations\nAcme DC - Servers"})
    yield core
    db.dispose()


def at(core: Core, moment: datetime) -> ClientStatus:
    core.clock.set(moment)
    found = core.device_data.status("acme")
    assert isinstance(found, ClientStatus), found
    return found


def load(core: Core, tmp_path, rows: list[list[str]], name: str = "export.csv") -> None:
    result = core.device_data.import_file("acme", write_csv(tmp_path / name, HEADER, rows), "UTECH", COLUMNS)
    assert result.ok, result.text()


def test_one_minute_before_the_deadline_it_is_open_and_one_minute_after_it_is_overdue(core, tmp_path):
    seen = "2026-11-19T12:00:00Z"
    load(core, tmp_path, [["PC-1", "Acme HQ", "KB5046617", "Critical", "Missing", RELEASED.isoformat(), "", seen]])
    before = at(core, CRITICAL_DUE - timedelta(minutes=1))
    assert before.overdue == 0 and "Overdue now: nothing." in status_text(before, "md")
    after = at(core, CRITICAL_DUE + timedelta(minutes=1))
    assert after.overdue == 1 and after.top[0].device == "PC-1" and after.top[0].days == 1
    assert "PC-1 (Workstations): KB5046617 critical, 1 day overdue" in status_text(after, "md")
    assert after.severities[0].severity == "critical" and after.severities[0].due == 1
    assert after.severities[0].share == 0.0


def test_installed_before_or_after_the_deadline_is_on_time_or_late(core, tmp_path):
    seen = "2026-11-25T12:00:00Z"
    rows = [
        [
            "PC-1",
            "Acme HQ",
            "KB5046617",
            "Critical",
            "Installed",
            RELEASED.isoformat(),
            (CRITICAL_DUE - timedelta(minutes=1)).isoformat(),
            seen,
        ],
        [
            "PC-2",
            "Acme HQ",
            "KB5046617",
            "Critical",
            "Installed",
            RELEASED.isoformat(),
            (CRITICAL_DUE + timedelta(minutes=1)).isoformat(),
            seen,
        ],
    ]
    load(core, tmp_path, rows)
    found = at(core, datetime(2026, 11, 25, 12, tzinfo=UTC))
    (critical,) = found.severities
    assert (critical.due, critical.on_time, critical.late, critical.overdue) == (2, 1, 1, 0)
    text = status_text(found, "md")
    assert "❌ Critical: 50% (1 of 2; 1 late)" in text and "target 95%" in text
    assert "Fully patched: 2 of 2 devices seen in the last 14 days (100%)." in text


def test_whole_days_keep_their_local_time_across_the_end_of_daylight_saving(core, tmp_path):
    # released Fri 30 Oct 2026 10:00 in New York (14:00 UTC); clocks go back on 1 Nov; Critical allows 7 days:
    # due Fri 6 Nov 10:00 in New York, which is 15:00 UTC (168 wall-clock hours are 169 real ones)
    released = datetime(2026, 10, 30, 14, 0, tzinfo=UTC)
    load(
        core,
        tmp_path,
        [["PC-1", "Acme HQ", "KB5044284", "Critical", "Missing", released.isoformat(), "", "2026-11-06T12:00:00Z"]],
    )
    assert at(core, datetime(2026, 11, 6, 14, 59, tzinfo=UTC)).overdue == 0
    assert at(core, datetime(2026, 11, 6, 15, 1, tzinfo=UTC)).overdue == 1


def test_an_exception_naming_a_device_covers_its_updates(core, tmp_path):
    seen = "2026-11-25T12:00:00Z"
    rows = [
        ["PC-1", "Acme HQ", "KB5046617", "Critical", "Missing", RELEASED.isoformat(), "", seen],
        ["PC-2", "Acme HQ", "KB5046617", "Critical", "Missing", RELEASED.isoformat(), "", seen],
    ]
    load(core, tmp_path, rows)
    assert at(core, datetime(2026, 11, 25, 12, tzinfo=UTC)).overdue == 2
    fields = {
        "what": "PC-2: KB5046617 breaks the CAD plug-in",
        "reason": "Vendor fix due",
        "controls": "Isolated VLAN",
        "approver": "Jo Client, IT lead",
    }
    recorded = core.exceptions.record(TECH, 1, fields, date(2026, 12, 10), "form-1")
    assert not isinstance(recorded, dict), recorded
    covered = at(core, datetime(2026, 11, 25, 12, 1, tzinfo=UTC))
    assert covered.overdue == 1 and covered.top[0].device == "PC-1" and covered.excepted == 1
    assert "Covered by exceptions: 1 device updates." in status_text(covered, "md")
    expired = at(core, datetime(2026, 12, 12, 12, tzinfo=UTC))  # the exception ended on 10 Dec
    assert expired.overdue == 2 and expired.excepted == 0


def test_stale_devices_and_unmapped_groups_are_listed_never_dropped(core, tmp_path):
    rows = [
        ["PC-1", "Acme HQ", "KB5046617", "Critical", "Missing", RELEASED.isoformat(), "", "2026-11-01T12:00:00Z"],
        ["SRV-1", "Acme DC", "KB5046616", "High", "Failed", RELEASED.isoformat(), "", "2026-11-24T12:00:00Z"],
        [
            "LAB-7",
            "Lab",
            "KB5046616",
            "High",
            "Installed",
            RELEASED.isoformat(),
            "2026-11-14T00:00:00Z",
            "2026-11-24T12:00:00Z",
        ],
    ]
    load(core, tmp_path, rows)
    found = at(core, datetime(2026, 11, 25, 12, tzinfo=UTC))
    text = status_text(found, "md")
    assert found.stale == ("PC-1",) and "Not seen for 14+ days: 1 devices (PC-1)." in text
    assert "1 on devices not seen for 14+ days" in text
    assert "Failed installs: 1 on 1 devices." in text
    assert found.groups == (("Workstations", 1, 0), ("Servers", 1, 0))
    assert "Not in any maintenance group: 1 devices, RMM groups Lab." in text
    assert found.fully_patched == 1 and found.seen == 2  # LAB-7 (all installed); PC-1 not seen, SRV-1 failed


def test_status_in_the_console_and_with_no_data_yet(core, tmp_path):
    before = run(core, TECH, "status acme", fmt="md")
    assert "No device data for Acme yet" in before.replies[0].text
    load(
        core,
        tmp_path,
        [["PC-1", "Acme HQ", "KB5046617", "Critical", "Missing", RELEASED.isoformat(), "", "2026-11-19T12:00:00Z"]],
    )
    overview = run(core, TECH, "status", fmt="md").replies[0]
    assert overview.rows[0][:2] == ("Acme", "1 overdue")


def test_status_in_slack_for_one_client_and_for_all(bot, fake, clock, tmp_path):
    publish_client(bot.core)
    clock.set(datetime(2026, 11, 25, 12, tzinfo=UTC))
    rows = [["PC-<1>", "Pilot", "KB5046617", "Critical", "Missing", RELEASED.isoformat(), "", "2026-11-24T12:00:00Z"]]
    result = bot.core.device_data.import_file("acme", write_csv(tmp_path / "e.csv", HEADER, rows), "UTECH", COLUMNS)
    assert result.ok
    text = message_text(bot.command("status acme").json())
    assert "*Acme: where it stands*" in text
    assert "PC-&lt;1&gt; (Pilot): KB5046617 critical, 6 days overdue" in text  # user text escaped
    overview = message_text(bot.command("status").json())
    assert "Device data: every client, worst first" in overview and "1 overdue" in overview


def test_old_installed_updates_are_rolled_up_by_month_and_open_ones_kept(core, tmp_path):
    from sqlmodel import select

    from storage.device_data import DeviceUpdate, PatchMonth

    core.clock.set(datetime(2026, 11, 25, 12, tzinfo=UTC))
    old = datetime(2026, 6, 9, 17, tzinfo=UTC)  # Patch Tuesday in June: installed within 2 days and within 20
    rows = [
        [
            "PC-1",
            "Acme HQ",
            "KB5039212",
            "Critical",
            "Installed",
            old.isoformat(),
            (old + timedelta(hours=30)).isoformat(),
            "2026-11-24T12:00:00Z",
        ],
        [
            "PC-2",
            "Acme HQ",
            "KB5039212",
            "Critical",
            "Installed",
            old.isoformat(),
            (old + timedelta(days=20)).isoformat(),
            "2026-11-24T12:00:00Z",
        ],
        ["PC-3", "Acme HQ", "KB5039212", "Critical", "Missing", old.isoformat(), "", "2026-11-24T12:00:00Z"],
        [
            "PC-1",
            "Acme HQ",
            "KB5046617",
            "Critical",
            "Installed",
            RELEASED.isoformat(),
            "2026-11-14T00:00:00Z",
            "2026-11-24T12:00:00Z",
        ],
    ]
    result = core.device_data.import_file("acme", write_csv(tmp_path / "e.csv", HEADER, rows), "UTECH", COLUMNS)
    assert result.compacted == 2 and "2 installed updates older than 120 days rolled up by month" in result.text()
    with core.db.read() as session:
        kept = {(u.device_key, u.update_key) for u in session.exec(select(DeviceUpdate)).all()}
        (june,) = session.exec(select(PatchMonth)).all()
    assert kept == {("PC-3", "KB5039212"), ("PC-1", "KB5046617")}  # the open one stays, however old
    assert (june.month, june.rmm_group, june.severity, june.installed, june.on_time) == (
        "2026-06",
        "Acme HQ",
        "critical",
        2,
        1,
    )
    assert june.hours_total == 30 + 20 * 24 and june.hours_histogram == '{"2d": 1, "30d": 1}'
    again = write_csv(
        tmp_path / "e2.csv",
        HEADER,
        [
            *rows,
            ["PC-4", "Acme HQ", "KB5046617", "Critical", "Missing", RELEASED.isoformat(), "", "2026-11-24T12:00:00Z"],
        ],
    )
    assert core.device_data.import_file("acme", again, "UTECH", COLUMNS).compacted == 0  # rolled up once only
    with core.db.read() as session:
        assert [m.installed for m in session.exec(select(PatchMonth)).all()] == [2]


def test_the_home_tab_shows_each_clients_overdue_count(bot, fake, clock, tmp_path):
    import json

    publish_client(bot.core)
    clock.set(datetime(2026, 11, 25, 12, tzinfo=UTC))
    rows = [
        ["PC-1", "Pilot", "KB5046617", "Critical", "Missing", RELEASED.isoformat(), "", "2026-11-24T12:00:00Z"],
        ["PC-2", "Pilot", "KB5046617", "Critical", "Missing", RELEASED.isoformat(), "", "2026-11-24T12:00:00Z"],
    ]
    assert bot.core.device_data.import_file("acme", write_csv(tmp_path / "e.csv", HEADER, rows), "UTECH", COLUMNS).ok
    bot.event({"type": "app_home_opened", "user": "UTECH", "channel": "DUTECH", "tab": "home"})
    (published,) = fake.calls_to("views.publish")
    view = published.args["view"]
    home = message_text(json.loads(view) if isinstance(view, str) else view)
    assert "2 device updates overdue · fully patched 0 of 2 · on time 0% in 30 days (device data today)" in home


def test_a_new_version_moves_the_deadlines_of_open_updates_only(core, tmp_path):
    seen = "2026-11-19T12:00:00Z"
    rows = [
        ["PC-1", "Acme HQ", "KB5046617", "Critical", "Missing", RELEASED.isoformat(), "", seen],
        ["PC-2", "Acme HQ", "KB5046617", "Critical", "Installed", RELEASED.isoformat(), "2026-11-18T00:00:00Z", seen],
    ]
    load(core, tmp_path, rows)
    assert at(core, datetime(2026, 11, 17, 12, tzinfo=UTC)).overdue == 0  # due 19 Nov under 7 days
    assert publish_client(core, {"sla.critical": "3d", "sla.emergency": "48h"}) == 2
    moved = at(core, datetime(2026, 11, 17, 12, tzinfo=UTC))
    assert moved.overdue == 1 and moved.top[0].device == "PC-1"  # now due 15 Nov 13:00 in New York
    from sqlmodel import select

    from storage.device_data import DeviceUpdate

    with core.db.read() as session:
        kept = session.exec(select(DeviceUpdate).where(DeviceUpdate.device_key == "PC-2")).one()
    assert kept.deadline_at == CRITICAL_DUE  # installed: measured against the deadline it had
