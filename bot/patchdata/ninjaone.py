"""NinjaOne API v2: OAuth2 client credentials (scope `monitoring`), an organisation's devices, and its OS
patches (pending, failed, rejected) and patch install history, read through the queries' cursor paging.
The result is the NinjaOne OS patches export with each device's name and class added, as a file reads."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from bot.kernel.http import ApiError, Http

PAGE = 1000


@dataclass
class NinjaOne:
    http: Http
    client_id: str
    client_secret: str
    _token: str = field(default="", repr=False)

    def _authorize(self) -> str:
        answer = self.http.post_form(
            f"{self.http.base.rstrip('/')}/ws/oauth/token",
            {
                "grant_type": "client_credentials",
                "client_id": self.client_id,
                "client_secret": self.client_secret,
                "scope": "monitoring",
            },
        )
        token = (answer or {}).get("access_token") if isinstance(answer, dict) else None
        if not token:
            raise ApiError("NinjaOne gave no access token; check NINJAONE_CLIENT_ID and NINJAONE_CLIENT_SECRET")
        self._token = str(token)
        return self._token

    def get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        """A GET with the bearer token; an expired token (401) is renewed once."""
        for attempt in (1, 2):
            token = self._token or self._authorize()
            try:
                return self.http.get(path, {"Authorization": f"Bearer {token}"}, params)
            except ApiError as err:
                if err.status != 401 or attempt == 2:
                    raise
                self._token = ""
        raise AssertionError("unreachable")

    def organization(self, wanted: str) -> dict[str, Any]:
        """The organisation whose id or name (any case) is `wanted`."""
        after = None
        while True:
            page = self.get("/v2/organizations", {"pageSize": PAGE, "after": after}) or []
            for org in page:
                if str(org.get("id")) == wanted.strip() or str(org.get("name", "")).casefold() == wanted.casefold():
                    return org
            if len(page) < PAGE:
                raise ApiError(f"NinjaOne has no organization '{wanted}' for these credentials")
            after = page[-1].get("id")

    def devices(self, org_id: int) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        after = None
        while True:
            page = self.get("/v2/devices", {"df": f"org={org_id}", "pageSize": PAGE, "after": after}) or []
            found += page
            if len(page) < PAGE:
                return found
            after = page[-1].get("id")

    def query(self, path: str, params: dict[str, Any]) -> Iterator[dict[str, Any]]:
        """Every row of a query, page by page through its cursor."""
        cursor = None
        while True:
            answer = self.get(path, {**params, "pageSize": PAGE, "cursor": cursor}) or {}
            rows = answer.get("results") or []
            yield from rows
            cursor = (answer.get("cursor") or {}).get("name")
            if not rows or not cursor or len(rows) < PAGE:
                return

    def export(self, wanted: str, now: datetime) -> dict[str, Any]:
        """The organisation's OS patch state as the OS patches query's JSON, one row per device and update:
        what is still to do, and what was installed (or failed) in the last 120 days, the newest row winning."""
        org = self.organization(wanted)
        devices = {d["id"]: d for d in self.devices(int(org["id"]))}
        df = f"org={org['id']}"
        since = (now - timedelta(days=120)).strftime("%Y%m%d")
        latest: dict[tuple[Any, str], dict[str, Any]] = {}
        rows = [*self.query("/v2/queries/os-patches", {"df": df})]
        rows += [*self.query("/v2/queries/os-patch-installs", {"df": df, "installedAfter": since})]
        for row in rows:
            key = (row.get("deviceId"), str(row.get("kbNumber") or row.get("name") or ""))
            if key not in latest or (row.get("timestamp") or 0) >= (latest[key].get("timestamp") or 0):
                latest[key] = row
        results = []
        for (device_id, _), row in latest.items():
            device = devices.get(device_id, {})
            name = device.get("systemName") or device.get("displayName") or str(device_id)
            extra = {
                "deviceName": name,
                "nodeClass": device.get("nodeClass", ""),
                "lastContact": device.get("lastContact"),
            }
            results.append({**row, **extra})
        return {"results": results}
