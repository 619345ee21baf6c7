"""What a published version always gives: its Policy and its compliance lines, computed once and kept."""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from datetime import datetime

from bot.policy.compliance import summary_lines
from bot.policy.model import Policy, policy_from
from storage.models import Client, PolicyVersion

Facts = tuple[Policy, tuple[str, ...] | None]


class VersionFacts:
    """A bounded, thread-safe cache keyed by a version's content, so a reused row id can never mislead it."""

    def __init__(self, size: int = 1024) -> None:
        self._size = size
        self._kept: OrderedDict[tuple[str, str, datetime, str], Facts] = OrderedDict()
        self._lock = threading.Lock()

    def of(self, client: Client, row: PolicyVersion) -> Facts:
        key = (client.kind, client.name, row.published_at, json.dumps(row.answers, sort_keys=True, default=str))
        with self._lock:
            if key in self._kept:
                self._kept.move_to_end(key)
                return self._kept[key]
        policy = policy_of_version(client, row)
        facts = (policy, summary_lines(policy, row.published_at))
        with self._lock:
            self._kept[key] = facts
            if len(self._kept) > self._size:
                self._kept.popitem(last=False)
        return facts


def policy_of_version(client: Client, row: PolicyVersion) -> Policy:
    """The policy of a version; a template, having no client name, is titled with its own."""
    answers = dict(row.answers)
    if client.kind == "template":
        answers["client.name"] = f"{client.name} (MSP template)"
    return policy_from(answers)
