"""Device data in tests: a client published through the core (no Slack), and realistic RMM exports written
in the tests' own words, in each vendor's columns."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from bot.core import Core
from bot.kernel.actor import Actor

TECH = Actor(id="UTECH", name="Tess Tech", timezone="America/New_York", editor=True)


def publish_client(core: Core, overrides: dict[str, Any] | None = None, context: dict[str, Any] | None = None) -> int:
    """A client (Acme, #acme-patching) published from recommended answers plus `overrides`; its version."""
    from tests.support.policies import recommended_answers

    answers = recommended_answers(overrides, context)
    core.standards.import_file(
        TECH, yaml.safe_dump({"kind": "client", "name": answers["client.name"], "answers": answers}), {}
    )
    core.questionnaire.text(TECH, "finish")
    outcome = core.publish(TECH, answers["client.name"])
    assert outcome.published is not None, outcome.replies
    core.publisher.mark_posted(outcome.published.version_id, "C0ACME", "1.0", None, whole=True)
    return outcome.published.overview.version


def write_csv(path: Path, header: list[str], rows: list[list[Any]]) -> Path:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    path.write_text(out.getvalue(), encoding="utf-8")
    return path


def write_json(path: Path, data: Any) -> Path:
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def epoch(moment: datetime) -> float:
    return moment.timestamp()


NINJA_OS = ["id", "deviceId", "name", "kbNumber", "severity", "status", "type", "installedAt", "timestamp"]
AUTOMOX_PACKAGES = [
    "id",
    "server_id",
    "package_id",
    "software_id",
    "installed",
    "ignored",
    "deferred_until",
    "name",
    "display_name",
    "version",
    "repo",
    "cves",
    "cve_score",
    "severity",
    "os_name",
    "create_time",
    "requires_reboot",
]
WUFB = [
    "TimeGenerated",
    "AzureADTenantId",
    "AzureADDeviceId",
    "DeviceName",
    "TargetKBNumber",
    "TargetBuild",
    "UpdateClassification",
    "UpdateReleaseTime",
    "UpdateInstalledTime",
    "ClientState",
    "ClientSubstate",
    "ClientSubstateTime",
]
NCENTRAL = [
    "Customer",
    "Device Name",
    "Device ID",
    "Patch Name",
    "KB",
    "Classification",
    "Approval",
    "Installation Status",
    "Release Date",
    "Installed On",
]
