"""Global middleware: a repeated event (Slack retry or duplicate event_id) is answered 200 and not acted on."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import App, BoltResponse

from bot.kernel.clock import Clock
from bot.kernel.deliveries import claim_delivery
from storage.db import Database

log = logging.getLogger(__name__)


def register(app: App, db: Database, clock: Clock) -> None:
    @app.middleware
    def once(body: dict[str, Any], next: Callable[[], BoltResponse]) -> BoltResponse | None:
        event_id = body.get("event_id") if isinstance(body, dict) else None
        if event_id and not claim_delivery(db, clock, f"event:{event_id}"):
            log.info("duplicate delivery of %s ignored", event_id)
            return BoltResponse(status=200, body="")
        return next()
