"""Pulls from the RMM APIs against fakes built from the vendors' OpenAPI excerpts: NinjaOne's OAuth2 and
cursor paging, Automox's page paging and 429, an expired token, a 500 retried and a 500 that persists, and
the daily pull run by the scheduler of the process holding the lease."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import func, select

from bot.core import Core
from bot.kernel.directory import LocalDirectory
from bot.patchdata.pulls import RmmAccess
from storage.db import Database
from storage.device_data import Device, DeviceUpdate, IngestRun
from tests.support.device_data import publish_client
from tests.support.fake_rmm import API_KEY, CLIENT_ID, CLIENT_SECRET, FakeRmm

SEEN = datetime(2026, 11, 25, 6, 0, tzinfo=UTC).timestamp()


@pytest.fixture
def rmm():
    fake = FakeRmm().start()
    yield fake
    fake.stop()


def ninja_org(fake: FakeRmm, devices: int, per_device: int) -> None:
    fake.orgs = [{"id": 7, "name": "Globex"}, {"id": 12, "name": "Acme Corp", "nodeApprovalMode": "AUTOMATIC"}]
    fake.devices = [
        {
            "id": 5000 + i,
            "organizationId": 12,
            "nodeClass": "WINDOWS_SERVER" if i % 10 == 0 else "WINDOWS_WORKSTATION",
            "systemName": f"ACME-{i:04d}",
            "offline": False,
            "lastContact": SEEN,
        }
        for i in range(devices)
    ] + [{"id": 9000, "organizationId": 7, "nodeClass": "MAC", "systemName": "GLOBEX-1", "lastContact": SEEN}]
    for i in range(devices):
        for k in range(per_device):
            fake.patches.append(
                {
                    "id": f"p-{i}-{k}",
                    "deviceId": 5000 + i,
                    "name": f"Update {k}",
                    "kbNumber": f"KB50466{k:02d}",
                    "severity": "CRITICAL" if k == 0 else "IMPORTANT",
                    "status": "APPROVED",
                    "type": "PATCH",
                    "timestamp": SEEN,
                }
            )
    fake.installs = [
        {
            "id": "i-1",
            "deviceId": 5000,
            "name": "Update 0",
            "kbNumber": "KB5046600",
            "severity": "CRITICAL",
            "status": "INSTALLED",
            "type": "PATCH",
            "installedAt": SEEN + 60,
            "timestamp": SEEN + 60,
        },
        {
            "id": "i-2",
            "deviceId": 9000,
            "name": "macOS 15.1.1",
            "status": "INSTALLED",
            "type": "PATCH",
            "installedAt": SEEN,
            "timestamp": SEEN,
        },
    ]


def core_for(db_url: str, clock, rmm: FakeRmm, waited: list[float]) -> Core:
    db = Database(db_url)
    db.migrate()
    access = RmmAccess(rmm.url, CLIENT_ID, CLIENT_SECRET, rmm.url, API_KEY, sleep=waited.append)
    return Core(db, clock, LocalDirectory(), rmm=access)


def counts(core: Core) -> tuple[int, int]:
    with core.db.read() as session:
        return (
            session.exec(select(func.count()).select_from(Device)).one(),
            session.exec(select(func.count()).select_from(DeviceUpdate)).one(),
        )


def test_ninjaone_pages_through_cursors_and_keeps_the_newest_row(db_url, clock, rmm):
    ninja_org(rmm, devices=1250, per_device=2)  # 2,500 pending rows: three pages of 1,000; devices: two pages
    core = core_for(db_url, clock, rmm, [])
    publish_client(core, {"data.rmm": "ninjaone", "data.rmm_org": "acme corp"})
    (result,) = core.device_data.pull()
    assert result.ok, result.text()
    assert counts(core) == (1250, 2500)  # Globex's device and its install are not Acme's
    cursors = [q.get("cursor") for m, p, q in rmm.requests if p == "/v2/queries/os-patches"]
    assert len(cursors) == 3 and cursors[0] is None and cursors[1] == cursors[2]
    with core.db.read() as session:
        first = session.exec(
            select(DeviceUpdate).where(DeviceUpdate.device_key == "5000", DeviceUpdate.update_key == "KB5046600")
        ).one()
        device = session.exec(select(Device).where(Device.device_key == "5000")).one()
    assert first.state == "installed"  # the install history's newer row wins over the pending one
    assert (device.name, device.rmm_group) == ("ACME-0000", "WINDOWS_SERVER")


def test_an_expired_token_is_renewed_and_a_500_retried(db_url, clock, rmm):
    ninja_org(rmm, devices=3, per_device=1)
    waited: list[float] = []
    core = core_for(db_url, clock, rmm, waited)
    publish_client(core, {"data.rmm": "ninjaone", "data.rmm_org": "12"})
    rmm.fail("/v2/devices", 401)  # the token expired between two calls
    rmm.fail("/v2/queries/os-patches", 500)
    (result,) = core.device_data.pull()
    assert result.ok, result.text()
    assert rmm.paths("/ws/oauth/token") == ["/ws/oauth/token"] * 2
    assert waited == [2.0] and counts(core) == (3, 3)


def test_a_500_that_persists_stores_nothing_and_status_says_so(db_url, clock, rmm, caplog):
    ninja_org(rmm, devices=3, per_device=1)
    waited: list[float] = []
    core = core_for(db_url, clock, rmm, waited)
    publish_client(core, {"data.rmm": "ninjaone", "data.rmm_org": "Acme Corp"})
    assert core.device_data.pull()[0].ok
    clock.set(clock.now() + timedelta(days=1))
    rmm.fail("/v2/queries/os-patches", 500, times=4)
    with caplog.at_level(logging.DEBUG):
        (result,) = core.device_data.pull()
    assert not result.ok and "NinjaOne answered 500" in result.text()
    assert waited == [2.0, 4.0, 8.0] and counts(core) == (3, 3)
    assert CLIENT_SECRET not in caplog.text and "token-" not in caplog.text
    status = core.device_data.status("acme")
    assert "failed: NinjaOne answered 500" in status.problem
    assert [name for name, _, _ in core.device_data.pulls.due()] == ["Acme"]  # tried again at the next run


def test_automox_pages_servers_and_waits_out_a_429(db_url, clock, rmm):
    rmm.ax_orgs = [{"id": 31, "name": "Acme Corp"}]
    rmm.ax_groups = [{"id": 4, "organization_id": 31, "name": "Workstations"}]
    rmm.ax_servers = [
        {
            "id": 100 + i,
            "organization_id": 31,
            "server_group_id": 4,
            "name": f"ax-{i:03d}",
            "last_refresh_time": "2026-11-25T06:00:00+0000",
            "needs_reboot": False,
        }
        for i in range(520)
    ]
    rmm.ax_packages = {
        100 + i: [
            {
                "id": i,
                "server_id": 100 + i,
                "name": "Google Chrome",
                "version": "131.0.6778.86",
                "installed": i % 2 == 0,
                "ignored": False,
                "severity": "high",
                "cves": ["CVE-2024-11395"],
                "create_time": "2026-11-13T17:02:11+0000",
            }
        ]
        for i in range(520)
    }
    waited: list[float] = []
    core = core_for(db_url, clock, rmm, waited)
    publish_client(core, {"data.rmm": "automox", "data.rmm_org": "Acme Corp"})
    rmm.fail("/servers", 429, retry_after="7")
    (result,) = core.device_data.pull()
    assert result.ok, result.text()
    assert waited == [7.0]
    assert [q["page"] for m, p, q in rmm.requests if p == "/servers"] == [["0"], ["0"], ["1"]]
    assert counts(core) == (520, 520)
    with core.db.read() as session:
        device = session.exec(select(Device).where(Device.device_key == "101")).one()
    assert (device.name, device.rmm_group) == ("ax-001", "Workstations")


def test_the_lease_holder_pulls_once_a_day_and_health_shows_no_secret(fake, make_bot, rmm, monkeypatch):
    ninja_org(rmm, devices=2, per_device=1)
    monkeypatch.setenv("NINJAONE_URL", rmm.url)
    monkeypatch.setenv("NINJAONE_CLIENT_ID", CLIENT_ID)
    monkeypatch.setenv("NINJAONE_CLIENT_SECRET", CLIENT_SECRET)
    one, two = make_bot(instance="one"), make_bot(instance="two")
    publish_client(one.core, {"data.rmm": "ninjaone", "data.rmm_org": "Acme Corp"})
    start = datetime(2026, 11, 26, 9, tzinfo=UTC)
    for hour in range(1, 50):
        one.scheduler.advance(start + timedelta(hours=hour))
        two.scheduler.advance(start + timedelta(hours=hour))
    with one.db.read() as session:
        pulls = session.exec(select(IngestRun.origin, IngestRun.by)).all()
    # the planning run after publishing (9:00), then 28 Nov 00:05 (27 Nov 00:05 was within 20 hours of it)
    assert pulls == [("api:NinjaOne Acme Corp", "scheduler")] * 2
    assert len(rmm.paths("/ws/oauth/token")) == 2  # one process pulls: the one holding the lease
    health = one.get("/healthz").body
    assert "database" in health and CLIENT_SECRET not in health and CLIENT_ID not in health


def test_the_policy_says_how_often_to_pull(db_url, clock, rmm):
    ninja_org(rmm, devices=1, per_device=1)
    core = core_for(db_url, clock, rmm, [])
    publish_client(core, {"data.rmm": "ninjaone", "data.rmm_org": "Acme Corp", "data.pull": "weekly"})
    assert [n for n, _, _ in core.device_data.pulls.due()] == ["Acme"]
    assert core.device_data.pull()[0].ok
    clock.set(clock.now() + timedelta(days=3))
    assert core.device_data.pulls.due() == []  # weekly: not again after three days
    clock.set(clock.now() + timedelta(days=4))
    assert [n for n, _, _ in core.device_data.pulls.due()] == ["Acme"]
    publish_client(core, {"data.rmm": "ninjaone", "data.rmm_org": "Acme Corp", "data.pull": "off"})
    assert core.device_data.pulls.due() == []
    (asked,) = core.device_data.pull("acme")  # by hand, whatever the schedule
    assert asked.ok
