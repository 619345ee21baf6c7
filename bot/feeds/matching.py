"""Which clients a feed entry touches: by CVE or KB in their device data (a fact), else by vendor and product
against the software and device classes their policy declares (a suggestion a person confirms).

KEV's `vendorProject` and `product` are free text, not CPE ids, so a name match is never acted on alone.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import literal, or_
from sqlmodel import Session, col, func, select

from bot.policy.model import Policy
from storage.device_data import DeviceUpdate

_WORD = re.compile(r"[a-z0-9]+")
# words that say nothing about which product it is
_NOISE = {
    "and", "or", "for", "the", "of", "a", "an", "server", "client", "software", "multiple", "products",
    "product", "inc", "corp", "corporation", "ltd", "llc", "co", "systems", "technologies", "app", "apps",
    "msp", "web", "suite", "platform", "management", "enterprise", "edition",
}  # fmt: skip
# a KEV vendor/product word that falls under a declared device class
_CLASSES = {
    "windows_workstations": {"windows"},
    "windows_servers": {"windows", "exchange", "sharepoint", "iis"},
    "macos": {"macos", "safari", "webkit"},
    "linux": {"linux", "kernel", "sudo", "glibc", "openssh"},
    "network_firmware": {
        "fortios", "fortigate", "fortiproxy", "fortinet", "pan", "globalprotect", "sonicwall", "sonicos", "asa",
        "ios", "firepower", "netscaler", "citrix", "ivanti", "pulse", "juniper", "junos", "zyxel", "draytek",
        "ubiquiti", "mikrotik", "routeros", "sophos", "watchguard", "fireware", "checkpoint",
    },
    "hypervisors": {"esxi", "vcenter", "vsphere", "hyper", "proxmox", "xenserver"},
    "mobile": {"ios", "ipados", "android", "pixel"},
}  # fmt: skip
_ALIASES = {"chrome": ("chromium",), "365": ("office",), "acrobat": ("reader",)}
CLASS_NAMES = {
    "windows_workstations": "Windows workstations",
    "windows_servers": "Windows servers",
    "macos": "macOS",
    "linux": "Linux",
    "network_firmware": "network and firewall firmware",
    "hypervisors": "hypervisors",
    "mobile": "mobile devices",
}


@dataclass(frozen=True)
class DataMatch:
    """A client whose device data has the CVE (or KB) on devices that have not installed it."""

    client_id: int
    devices: tuple[str, ...]  # up to a few device names, for the message
    device_count: int


def by_data(session: Session, cves: Iterable[str] = (), kbs: Iterable[str] = ()) -> dict[int, DataMatch]:
    """Clients with an update naming one of `cves` (or one of `kbs`) not yet installed on some device."""
    padded = literal(" ") + DeviceUpdate.cves + literal(" ")
    terms = [padded.like(f"% {cve} %") for cve in cves] + [DeviceUpdate.update_key == kb for kb in kbs]
    if not terms:
        return {}
    rows = session.exec(
        select(DeviceUpdate.client_id, DeviceUpdate.device_key)
        .where(col(DeviceUpdate.installed).is_(False), or_(*terms))
        .distinct()
        .order_by(DeviceUpdate.client_id, DeviceUpdate.device_key)
    ).all()
    devices: dict[int, list[str]] = {}
    for client_id, device in rows:
        devices.setdefault(client_id, []).append(device)
    return {c: DataMatch(c, tuple(names[:5]), len(names)) for c, names in devices.items()}


def has_device_data(session: Session, client_id: int) -> bool:
    found = session.exec(select(func.count()).select_from(DeviceUpdate).where(DeviceUpdate.client_id == client_id))
    return bool(found.one())


def by_name(policy: Policy, vendor: str, product: str) -> str | None:
    """What in the policy a vendor/product pair seems to name ("Google Chrome", "hypervisors"), or None.
    An app matches on a product word when it names the vendor too, else only when it holds every product word."""
    vendor_words, product_words = _words(vendor), _words(product)
    for line in policy.value("scope.apps") or []:
        app = str(line).split(" - ", 1)[0].strip()
        have = _words(app)
        have |= {alias for word in have for alias in _ALIASES.get(word, ())}
        if product_words and (have & product_words if have & vendor_words else product_words <= have):
            return app
    for device_class in policy.value("scope.device_classes") or []:
        if _CLASSES.get(device_class, set()) & (vendor_words | product_words):
            return CLASS_NAMES.get(device_class, device_class)
    return None


def _words(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.casefold()) if w not in _NOISE and len(w) > 1}
