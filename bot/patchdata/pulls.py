"""Pulls from the RMM APIs (NinjaOne, Automox) for each client whose policy names its RMM and organisation:
once a day per client, run by the scheduler's daily job (so by the process holding its lease), or at once with
`patchpolicy pull`. A pull is an import like a file's: the same checks, the same idempotence. A pull that
fails stores nothing and is recorded with its reason, which `status` shows."""

from __future__ import annotations

import json
import logging
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from sqlmodel import col, select

from bot.kernel.clock import Clock
from bot.kernel.config import Settings
from bot.kernel.http import ApiError, Http
from bot.kernel.versions import latest_version
from bot.patchdata.automox import Automox
from bot.patchdata.ingest import Ingest, IngestResult
from bot.patchdata.ninjaone import NinjaOne
from storage.db import Database
from storage.device_data import IngestRun
from storage.models import Client

log = logging.getLogger(__name__)
# the policy's data.pull; a little short of a day or a week, so a start soon after the daily run does not pull again
EVERY = {"daily": timedelta(hours=20), "weekly": timedelta(days=6, hours=20)}
LABELS = {"ninjaone": "NinjaOne", "automox": "Automox"}


@dataclass(frozen=True)
class RmmAccess:
    """Where the RMM APIs are and the credentials for them (from the environment or .env; never logged)."""

    ninjaone_url: str = ""
    ninjaone_client_id: str = ""
    ninjaone_client_secret: str = field(default="", repr=False)
    automox_url: str = "https://console.automox.com/api"
    automox_api_key: str = field(default="", repr=False)
    sleep: Callable[[float], None] = time.sleep

    def configured(self, rmm: str) -> bool:
        if rmm == "ninjaone":
            return bool(self.ninjaone_url and self.ninjaone_client_id and self.ninjaone_client_secret)
        return rmm == "automox" and bool(self.automox_url and self.automox_api_key)


def rmm_access(settings: Settings) -> RmmAccess:
    """The RMM addresses and credentials the settings hold."""
    secret = settings.ninjaone_client_secret.get_secret_value() if settings.ninjaone_client_secret else ""
    key = settings.automox_api_key.get_secret_value() if settings.automox_api_key else ""
    return RmmAccess(settings.ninjaone_url, settings.ninjaone_client_id, secret, settings.automox_url, key)


class Pulls:
    """Pulls each client's device data from its RMM's API."""

    def __init__(self, db: Database, clock: Clock, ingest: Ingest, access: RmmAccess) -> None:
        self.db = db
        self.clock = clock
        self.ingest = ingest
        self.access = access

    def due(self) -> list[tuple[str, str, str]]:
        """(client name, rmm, organisation) of each client whose daily pull is due."""
        if not any(self.access.configured(rmm) for rmm in LABELS):
            return []  # no RMM credentials here: nothing to pull (and nothing to read)
        found = []
        with self.db.read() as session:
            clients = session.exec(
                select(Client).where(Client.kind == "client", col(Client.archived_at).is_(None))
            ).all()
            for client in clients:
                version = latest_version(session, client.id)
                answers = version.answers if version else {}
                rmm, org = answers.get("data.rmm"), str(answers.get("data.rmm_org") or "").strip()
                every = EVERY.get(answers.get("data.pull") or "daily")
                if rmm not in LABELS or not org or not self.access.configured(rmm) or every is None:
                    continue
                last = session.exec(  # the last pull that worked: a failed one is tried again at the next run
                    select(IngestRun.started_at)
                    .where(
                        IngestRun.client_id == client.id,
                        col(IngestRun.origin).startswith("api:"),
                        col(IngestRun.error).is_(None),
                    )
                    .order_by(col(IngestRun.started_at).desc())
                ).first()
                if last is None or self.clock.now() - last >= every:
                    found.append((client.name, rmm, org))
        return found

    def pull_due(self) -> list[str]:
        """Pull every due client; one line each (a failure is logged and recorded, and the others go on)."""
        return [self.pull(name, rmm, org).text() for name, rmm, org in self.due()]

    def pull(self, client_name: str, rmm: str, org: str) -> IngestResult:
        origin = f"api:{LABELS[rmm]} {org}"[:300]
        started = self.clock.now()
        try:
            data = self._fetch(rmm, org)
        except ApiError as err:
            log.warning("pull from %s for %s failed: %s", LABELS[rmm], client_name, err)
            self._record(client_name, rmm, origin, started, error=str(err))
            return IngestResult(client_name, problem=f"{client_name}: the pull from {LABELS[rmm]} failed: {err}")
        with tempfile.TemporaryDirectory(prefix="patchpolicy-pull-") as folder:
            path = Path(folder) / f"{rmm}.json"
            path.write_text(json.dumps(data), encoding="utf-8")
            result = self.ingest.file(client_name, path, "scheduler", name=origin)
        if result.already:  # nothing new since the last pull: the data is current as of now all the same
            self._record(client_name, rmm, origin, started)
        elif not result.ok:
            self._record(client_name, rmm, origin, started, error=result.text())
        return result

    def _fetch(self, rmm: str, org: str) -> object:
        access = self.access
        if rmm == "ninjaone":
            http = Http(access.ninjaone_url, "NinjaOne", access.sleep)
            return NinjaOne(http, access.ninjaone_client_id, access.ninjaone_client_secret).export(
                org, self.clock.now()
            )
        return Automox(Http(access.automox_url, "Automox", access.sleep), access.automox_api_key).export(org)

    def _record(self, client_name: str, rmm: str, origin: str, started: datetime, error: str | None = None) -> None:
        with self.db.write() as session:
            client = session.exec(select(Client).where(Client.name == client_name)).first()
            if client is None:
                return
            session.add(
                IngestRun(
                    client_id=client.id,
                    source=rmm,
                    mapping=f"{LABELS[rmm]} API",
                    origin=origin,
                    started_at=started,
                    finished_at=self.clock.now(),
                    by="scheduler",
                    error=error[:500] if error else None,
                )
            )
