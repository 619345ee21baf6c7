"""The Slack app, built once: the Bolt app, its clients, the people cache, the modal lane, every listener."""

from __future__ import annotations

import logging
import os
import socket
import uuid
from dataclasses import dataclass
from datetime import timedelta

from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

from bot.core import Core
from bot.kernel.clock import Clock, SystemClock
from bot.kernel.config import Settings
from bot.scheduling.scheduler import SchedulerService
from handlers import register_all
from handlers.ack_first import AckFirstExecutor
from handlers.after_ack import AfterAck
from handlers.directory import SlackDirectory
from handlers.editors import Editors, editor_ids
from handlers.kit import SlackKit
from handlers.modals import ModalLane, modal_client
from handlers.reminders import SlackPoster
from handlers.workspace import Workspace
from storage.db import Database

log = logging.getLogger(__name__)
WORKER_THREADS = 32  # work after the ack: mostly waiting on Slack's Web API


def make_client(settings: Settings) -> WebClient:
    """A WebClient that retries connection errors, 429s (honouring Retry-After) and 5xx answers."""
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
    kwargs = {"base_url": settings.web_api_url()} if settings.web_api_url() else {}
    client = WebClient(token=token, timeout=10, **kwargs)
    client.retry_handlers = [
        ConnectionErrorRetryHandler(max_retry_count=3),
        RateLimitErrorRetryHandler(max_retry_count=5),
        ServerErrorRetryHandler(max_retry_count=3),
    ]
    return client


@dataclass
class Bot:
    """A running bot's parts: the Bolt app, the core, and the scheduler service (started by the caller)."""

    app: App
    core: Core
    scheduler: SchedulerService
    workers: AckFirstExecutor  # runs the work after each ack
    kit: SlackKit  # the people cache (started with the bot) and the modal lane

    def start(self) -> None:
        """Start the background parts: the workspace cache and the scheduler."""
        self.kit.workspace.start()
        self.scheduler.start()

    def stop(self) -> None:
        self.scheduler.stop()
        self.kit.workspace.stop()
        self.kit.modals.shutdown()


def create_bot(
    settings: Settings,
    db: Database,
    clock: Clock | None = None,
    instance: str | None = None,
    use_lease: bool = True,
    workers: AckFirstExecutor | None = None,
) -> Bot:
    """The Bolt app with every listener registered; auth.test runs here and fails fast on a bad token."""
    if not settings.slack_signing_secret and not settings.slack_app_token:
        raise SystemExit("SLACK_SIGNING_SECRET is required in HTTP mode (or set SLACK_APP_TOKEN for Socket Mode).")
    client = make_client(settings)
    workers = workers or AckFirstExecutor(WORKER_THREADS)
    app = App(
        client=client,
        signing_secret=settings.signing_secret(),
        process_before_response=True,  # the listener's return is the ack; its work goes to `workers`
        listener_executor=workers,
    )
    clock = clock or SystemClock()
    instance = instance or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
    ids = editor_ids(settings.patchpolicy_editors)
    workspace = Workspace(client, tuple(i for i in ids if i.startswith("S")))  # the editor user groups
    editors = Editors(workspace, ids)
    core = Core(db, clock, SlackDirectory(client, workspace), instance, editors=editors.ids)
    modals = ModalLane(modal_client(client.token, settings.web_api_url() or None))
    kit = SlackKit(editors=editors, workspace=workspace, later=AfterAck(workers), modals=modals)
    register_all(app, core, kit)
    poll = timedelta(seconds=settings.reminder_poll_seconds)
    scheduler = SchedulerService(db, clock, SlackPoster(client), core.reminders, poll=poll, use_lease=use_lease)
    core.on_plan_changed(scheduler.arm_next)
    return Bot(app, core, scheduler, workers, kit)
