"""Automox Console API: an API key as the bearer, the organisation chosen with `o`, page paging (`page`, `limit`
up to 500), and a 429 waited out (Automox blocks for a minute). Each device's packages, with the device's name
and group added, read as the device packages export."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from bot.kernel.http import ApiError, Http

LIMIT = 500


@dataclass
class Automox:
    http: Http
    api_key: str

    def get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        return self.http.get(path, {"Authorization": f"Bearer {self.api_key}"}, params)

    def pages(self, path: str, params: dict[str, Any]) -> Iterator[dict[str, Any]]:
        page = 0
        while True:
            rows = self.get(path, {**params, "limit": LIMIT, "page": page}) or []
            yield from rows
            if len(rows) < LIMIT:
                return
            page += 1

    def organization(self, wanted: str) -> int:
        """The id of the organisation whose id or name (any case) is `wanted`."""
        for org in self.pages("/orgs", {}):
            if str(org.get("id")) == wanted.strip() or str(org.get("name", "")).casefold() == wanted.casefold():
                return int(org["id"])
        raise ApiError(f"Automox has no organization '{wanted}' for this API key")

    def export(self, wanted: str) -> list[dict[str, Any]]:
        """Every device's packages in the organisation, each with `server_name` and `server_group`."""
        org = self.organization(wanted)
        groups = {g["id"]: g.get("name") or "" for g in self.pages("/servergroups", {"o": org})}
        rows: list[dict[str, Any]] = []
        for server in self.pages("/servers", {"o": org}):
            name = server.get("custom_name") or server.get("name") or str(server["id"])
            extra = {
                "server_name": name,
                "server_group": groups.get(server.get("server_group_id"), ""),
                "last_refresh_time": server.get("last_refresh_time"),
            }
            rows += [{**package, **extra} for package in self.pages(f"/servers/{server['id']}/packages", {"o": org})]
        return rows
