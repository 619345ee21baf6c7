"""The durable inbox, Slack side: a request whose listener asks for work after the ack is recorded before the
ack goes back, and its work runs later by dispatching the recorded body through the same app again.

On the request thread a listener decides its ack (and any refusal or form error) as before; `AfterAck.run`
only notes that work is wanted. InboxApp.dispatch then records the body under the delivery's key (an event id
or a trigger id: a repeat delivery is recorded once) and only then lets the ack go. A worker replays the body
with `replaying` set, so the listener takes the same branch and `AfterAck.run` runs the work at once.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections.abc import Callable
from typing import Any

from slack_bolt import App, BoltRequest, BoltResponse

from bot.kernel.clock import Clock
from storage import inbox
from storage.db import Database
from storage.spool import Spool

log = logging.getLogger(__name__)


class _Request(threading.local):
    def __init__(self) -> None:
        self.front = False  # a live request from Slack is being acked on this thread
        self.wants_work = False
        self.replaying = False  # a worker is running a recorded request on this thread
        self.error: BaseException | None = None


CURRENT = _Request()


def wants_work() -> bool:
    """Called by AfterAck.run on the request thread: True if the work will be recorded and replayed."""
    if CURRENT.front:
        CURRENT.wants_work = True
        return True
    return False


def replaying() -> bool:
    return CURRENT.replaying


def failed(err: BaseException) -> None:
    """Work that failed while replaying: the runner sees it (Bolt would log and swallow it)."""
    CURRENT.error = err


def delivery_key(body: dict[str, Any]) -> str:
    """What makes a delivery unique: Slack repeats an event with its event id, an interaction with its trigger."""
    if body.get("event_id"):
        return f"event:{body['event_id']}"
    if body.get("trigger_id"):
        return f"trigger:{body['trigger_id']}"
    return "body:" + hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def person_of(body: dict[str, Any]) -> str:
    """Whose request it is: one person's requests run in the order they came."""
    user = body.get("user_id") or body.get("user") or (body.get("event") or {}).get("user") or ""
    if isinstance(user, dict):
        user = user.get("id", "")
    return f"{body.get('team_id') or (body.get('team') or {}).get('id') or ''}:{user}"[:64]


class InboxApp(App):
    """The Bolt app whose dispatch records a request wanting work before its ack goes back (Bolt runs the
    listener after the middleware chain, so only dispatch sees both the listener's decision and the ack)."""

    def attach_inbox(self, db: Database, clock: Clock, wake: Callable[[], None], spool: Spool | None = None) -> None:
        """Where requests are recorded: the spool when there is one (SQLite), else the inbox table; `wake` is
        told after each."""
        self._inbox = (db, clock, wake, spool)

    def dispatch(self, req: BoltRequest) -> BoltResponse:
        if CURRENT.replaying or not isinstance(req.body, dict):
            return super().dispatch(req)
        CURRENT.front, CURRENT.wants_work = True, False
        try:
            response = super().dispatch(req)
            if not CURRENT.wants_work:
                return response
        finally:
            CURRENT.front = False
        db, clock, wake, spool = self._inbox
        body = req.body
        try:
            key, person = delivery_key(body), person_of(body)
            if spool is not None:  # a repeat delivery is dropped when the spool is moved into the inbox
                spool.append(key, person, body, clock.now())
                fresh = True
            else:
                fresh = inbox.record(db, key, person, body, clock.now())
        except Exception as err:  # not recorded: no 200, so Slack retries an event and the user sees a failure
            log.error("could not record a request, so it was not acknowledged: %s", type(err).__name__)
            return BoltResponse(status=503, body="")
        if not fresh:
            log.info("repeat delivery %s ignored", delivery_key(body))
            return BoltResponse(status=200, body="")
        wake()
        return response


def replay(app: App, claimed: inbox.Claimed) -> None:
    """Run a recorded request's work: dispatch its body as Socket Mode does (already verified), replaying."""
    CURRENT.replaying, CURRENT.error = True, None
    try:
        response = app.dispatch(BoltRequest(body=claimed.body, mode="socket_mode"))
        error = CURRENT.error
    finally:
        CURRENT.replaying, CURRENT.error = False, None
    if error is not None:
        raise error
    if response.status >= 500:
        raise RuntimeError(f"replaying {claimed.key} failed with status {response.status}")
