"""Where a client stands, measured from its RMM's data: devices fully patched, updates installed by their
deadline per severity against the policy's target, the most overdue, stale devices, failed installs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, func, not_
from sqlmodel import Session, col, select

from bot.kernel.views import Notice
from bot.patchdata.coverage import active_exceptions, covered, group_map
from bot.patchdata.deadlines import stale_days
from bot.patchdata.records import OPEN_STATES, SEVERITIES
from bot.policy.model import Policy, policy_from
from bot.sop.render import environment
from storage.device_data import Device, DeviceUpdate, IngestRun
from storage.models import Client

WINDOW = timedelta(days=30)  # "installed by their deadline" counts the updates due in the last 30 days
TOP = 10
FULLY_PATCHED = "FullyPatched"  # a count-only source's word for a device with nothing outstanding
DEVICE_STATES = ("Fully patched", "Updates to install", "Overdue", "Not seen")  # each device in one, worst wins


@dataclass(frozen=True)
class SeverityLine:
    severity: str
    due: int
    on_time: int
    late: int
    overdue: int

    @property
    def share(self) -> float | None:
        return self.on_time / self.due if self.due else None


@dataclass(frozen=True)
class OverdueLine:
    device: str
    group: str
    update: str
    title: str
    severity: str
    days: int
    stale: bool


@dataclass(frozen=True)
class ClientStatus:
    """One client's figures, ready to say."""

    client_name: str
    channel_id: str | None
    target: int
    stale_after: int
    devices: int
    seen: int
    fully_patched: int
    severities: tuple[SeverityLine, ...]
    overdue: int
    overdue_devices: int
    overdue_on_stale: int
    top: tuple[OverdueLine, ...]
    failed: int
    failed_devices: int
    reboots: int
    stale: tuple[str, ...]
    stale_count: int
    excepted: int
    groups: tuple[tuple[str, int, int], ...]  # maintenance group, devices, fully patched
    unmapped: tuple[str, ...]  # RMM groups no maintenance group takes
    unmapped_devices: int
    refreshed: str  # when and from what, in the client's time
    problem: str = ""  # a pull that failed since
    group_states: tuple[tuple[str, dict[str, int]], ...] = ()  # maintenance group -> devices per DEVICE_STATES

    @property
    def patched_share(self) -> float | None:
        return self.fully_patched / self.seen if self.seen else None

    @property
    def on_time_share(self) -> float | None:
        due = sum(s.due for s in self.severities)
        return sum(s.on_time for s in self.severities) / due if due else None


def _open() -> object:
    """Not installed and not excluded by the RMM: what still needs doing (the index on state finds it)."""
    return col(DeviceUpdate.state).in_(OPEN_STATES)


def due_in_window(session: Session, counted: Any, now: datetime) -> tuple[SeverityLine, ...]:
    """Per severity, the device updates (of those `counted`) due in the last 30 days: on time, late, not yet."""
    installed = DeviceUpdate.state == "installed"
    on_time = and_(installed, DeviceUpdate.installed_at <= DeviceUpdate.deadline_at)
    rows = session.exec(
        select(
            DeviceUpdate.severity,
            func.count(),
            func.sum(case((on_time, 1), else_=0)),
            func.sum(case((installed, 1), else_=0)),
        )
        .where(counted, DeviceUpdate.deadline_at > now - WINDOW, DeviceUpdate.deadline_at <= now)
        .group_by(DeviceUpdate.severity)
    ).all()
    per = {sev: (due, int(ok or 0), int(done or 0)) for sev, due, ok, done in rows}
    return tuple(
        SeverityLine(sev, per[sev][0], per[sev][1], per[sev][2] - per[sev][1], per[sev][0] - per[sev][2])
        for sev in SEVERITIES
        if sev in per
    )


def counted_rows(session: Session, client_id: int, now: datetime) -> tuple[Any, Any, bool]:
    """Conditions on the client's device updates: those that count (not excluded, not under an active
    exception) and those an exception covers; and whether any exception is active."""
    exceptions = active_exceptions(session, client_id, now)
    is_covered = covered(session, client_id, exceptions)
    counted = and_(DeviceUpdate.client_id == client_id, DeviceUpdate.state != "excluded", not_(is_covered))
    return counted, is_covered, bool(exceptions)


def measure(session: Session, client: Client, policy: Policy, now: datetime) -> ClientStatus | None:
    """The client's status now, or None when it has no device data."""
    runs = session.exec(
        select(IngestRun).where(IngestRun.client_id == client.id).order_by(col(IngestRun.finished_at).desc()).limit(20)
    ).all()
    last = next((r for r in runs if r.error is None), None)
    if last is None:
        return None
    failed_pull = next((r for r in runs if r.error is not None and r.finished_at > last.finished_at), None)
    zone = ZoneInfo(policy.timezone)
    stale_after = stale_days(policy)
    stale_cut = now - timedelta(days=stale_after)
    counted, is_covered, exceptions = counted_rows(session, client.id, now)
    mine = DeviceUpdate.client_id == client.id
    severities = due_in_window(session, counted, now)
    device_rows = (
        session.connection()
        .execute(  # plain rows: thousands of devices, no ORM objects needed
            select(
                Device.device_key,
                Device.name,
                Device.rmm_group,
                Device.last_seen_at,
                Device.status,
                Device.reboot_required,
                Device.open_updates,
            ).where(Device.client_id == client.id)
        )
        .all()
    )
    stale_keys = {d.device_key for d in device_rows if d.last_seen_at is not None and d.last_seen_at < stale_cut}
    # overdue device updates per device, read from the index on state (a fraction of the open ones)
    overdue_by_device: dict[str, int] = {}
    for key in (
        session.connection()
        .execute(  # no GROUP BY: SQLite would walk the unique index to avoid a sort
            select(DeviceUpdate.device_key).where(counted, _open(), DeviceUpdate.deadline_at < now)
        )
        .scalars()
    ):
        overdue_by_device[key] = overdue_by_device.get(key, 0) + 1
    # devices with work left: counted at import; where an exception covers some of it, counted afresh
    open_devices = {d.device_key for d in device_rows if d.open_updates}
    if exceptions:
        named = set(session.exec(select(DeviceUpdate.device_key).where(mine, is_covered)))
        still = set(
            session.exec(
                select(DeviceUpdate.device_key).where(counted, _open(), col(DeviceUpdate.device_key).in_(named))
            )
        )
        open_devices = (open_devices - named) | still
    failed_rows = (
        session.connection()
        .execute(select(DeviceUpdate.device_key).where(mine, DeviceUpdate.state == "failed", not_(is_covered)))
        .scalars()
        .all()
    )
    reboot_pending = set(
        session.connection()
        .execute(select(DeviceUpdate.device_key).where(mine, DeviceUpdate.state == "reboot_pending"))
        .scalars()
    )
    excepted = session.exec(select(func.count()).where(mine, is_covered, _open())).one() if exceptions else 0
    names = {d.device_key: d.name for d in device_rows}
    groups_of = {d.device_key: d.rmm_group for d in device_rows}
    top = session.exec(
        select(DeviceUpdate)
        .where(counted, _open(), DeviceUpdate.deadline_at < now)
        .order_by(col(DeviceUpdate.deadline_at), col(DeviceUpdate.device_key))
        .limit(TOP)
    ).all()
    mapping = group_map(policy)

    def patched(d: Any) -> bool:
        return d.status == FULLY_PATCHED if d.status else d.device_key not in open_devices

    seen = [d for d in device_rows if d.device_key not in stale_keys]

    def state(d: Any) -> str:
        if d.device_key in stale_keys:
            return DEVICE_STATES[3]
        if d.device_key in overdue_by_device:
            return DEVICE_STATES[2]
        return DEVICE_STATES[0] if patched(d) else DEVICE_STATES[1]

    per_group: dict[str, list[int]] = {}
    states: dict[str, dict[str, int]] = {}
    unmapped: dict[str, int] = {}
    for d in device_rows:
        group = mapping.get(d.rmm_group.casefold())
        if group is None:
            unmapped[d.rmm_group or "(no group)"] = unmapped.get(d.rmm_group or "(no group)", 0) + 1
            continue
        cell = per_group.setdefault(group, [0, 0])
        cell[0] += 1
        cell[1] += patched(d)
        counts = states.setdefault(group, dict.fromkeys(DEVICE_STATES, 0))
        counts[state(d)] += 1
    order = [g.name for g in policy.groups]
    return ClientStatus(
        client_name=client.name,
        channel_id=client.channel_id,
        target=int(policy.value("audit.target") or 95),
        stale_after=stale_after,
        devices=len(device_rows),
        seen=len(seen),
        fully_patched=sum(patched(d) for d in seen),
        severities=severities,
        overdue=sum(overdue_by_device.values()),
        overdue_devices=len(overdue_by_device),
        overdue_on_stale=sum(n for key, n in overdue_by_device.items() if key in stale_keys),
        top=tuple(
            OverdueLine(
                device=names.get(u.device_key, u.device_key),
                group=mapping.get(groups_of.get(u.device_key, "").casefold(), groups_of.get(u.device_key, "")),
                update=u.update_key,
                title=u.title,
                severity=u.severity,
                days=max(1, -(-int((now - u.deadline_at).total_seconds()) // 86400)),
                stale=u.device_key in stale_keys,
            )
            for u in top
        ),
        failed=len(failed_rows),
        failed_devices=len(set(failed_rows)),
        reboots=len(reboot_pending | {d.device_key for d in device_rows if d.reboot_required}),
        stale=tuple(sorted((names[k] for k in stale_keys), key=str.casefold)[:TOP]),
        stale_count=len(stale_keys),
        excepted=int(excepted),
        groups=tuple((g, *per_group[g]) for g in sorted(per_group, key=lambda g: ([*order, g]).index(g))),
        group_states=tuple((g, states[g]) for g in sorted(states, key=lambda g: ([*order, g]).index(g))),
        unmapped=tuple(sorted(unmapped, key=str.casefold)),
        unmapped_devices=sum(unmapped.values()),
        refreshed=f"{last.finished_at.astimezone(zone):%Y-%m-%d %H:%M} ({policy.timezone}), {last.mapping}",
        problem=(
            f"the last pull ({failed_pull.finished_at.astimezone(zone):%Y-%m-%d %H:%M}) failed: {failed_pull.error}"
            if failed_pull
            else ""
        ),
    )


def status_of(session: Session, client: Client, answers: dict, now: datetime) -> ClientStatus | Notice:
    """The status, or a notice saying how to bring data in."""
    found = measure(session, client, policy_from(answers), now)
    if found is None:
        return Notice(
            f"No device data for {client.name} yet. Import an RMM export: share the file with me in a DM "
            f'with the message `{client.name}`, or run `patchpolicy ingest "{client.name}" <file>`.'
        )
    return found


def worst_first(found: list[ClientStatus]) -> list[ClientStatus]:
    """Clients ordered by what needs attention: most overdue, then lowest on-time share."""
    return sorted(found, key=lambda s: (-s.overdue, s.on_time_share if s.on_time_share is not None else 2))


def status_text(view: ClientStatus, format_name: str) -> str:
    """The status in words, for Slack (mrkdwn) or the terminal (md)."""
    return environment(format_name).get_template("messages/status.j2").render(view=view).strip()
