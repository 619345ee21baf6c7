"""Which device updates a recorded exception covers, and which maintenance group an RMM device group is.

An exception names what it covers in its own words ("PC-042: KB5032190 breaks the CAD plug-in"): the devices
it names (by name or RMM id) and, if it names KB numbers, only those updates on them; KB numbers alone cover
those updates on every device."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from sqlalchemy import and_, false, func, or_
from sqlmodel import Session, col, select

from bot.policy.model import Policy
from storage.device_data import Device, DeviceUpdate
from storage.models import PatchException

_WORD = re.compile(r"[\w.\-]+")
_KB = re.compile(r"(?i)\bkb(\d{6,8})\b")


def active_exceptions(session: Session, client_id: int, now: datetime) -> list[PatchException]:
    return list(
        session.exec(
            select(PatchException).where(
                PatchException.client_id == client_id,
                PatchException.status == "active",
                PatchException.expires_at > now,
                PatchException.created_at <= now,
            )
        ).all()
    )


def covered(session: Session, client_id: int, exceptions: list[PatchException]) -> Any:
    """A condition on DeviceUpdate: an active exception covers the row."""
    clauses = []
    for exception in exceptions:
        words = {w.casefold().strip(".-") for w in _WORD.findall(exception.what)}
        words.discard("")
        kbs = sorted({f"KB{n}" for n in _KB.findall(exception.what)})
        devices = session.exec(
            select(Device.device_key).where(
                Device.client_id == client_id,
                or_(func.lower(Device.name).in_(words), func.lower(Device.device_key).in_(words)),
            )
        ).all()
        if devices:
            on_devices = col(DeviceUpdate.device_key).in_(devices)
            clauses.append(and_(on_devices, col(DeviceUpdate.update_key).in_(kbs)) if kbs else on_devices)
        elif kbs:
            clauses.append(col(DeviceUpdate.update_key).in_(kbs))
    return or_(*clauses) if clauses else false()


def group_map(policy: Policy) -> dict[str, str]:
    """RMM group (casefolded) -> maintenance group: the policy's own map, then groups named alike."""
    groups = {g.name.casefold(): g.name for g in policy.groups}
    mapped = dict(groups)
    for line in policy.value("data.group_map") or []:
        rmm, _, ours = line.rpartition(" - ")
        if ours.strip().casefold() in groups:
            mapped[rmm.strip().casefold()] = groups[ours.strip().casefold()]
    return mapped
