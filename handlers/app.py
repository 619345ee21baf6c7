"""The Slack app, built once: the Bolt app, its clients, the people cache, the modal lane, every listener."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from slack_bolt import App
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

from bot.core import Core
from bot.feeds.status import feeds_health
from bot.feeds.watch import FeedUrls, feed_urls
from bot.kernel.clock import Clock, SystemClock
from bot.kernel.config import Settings
from bot.kernel.inbox_runner import InboxRunner
from bot.kernel.instances import new_instance
from bot.kernel.spool_mover import SpoolMover
from bot.kernel.spool_sealer import SpoolSealer
from bot.patchdata.pulls import rmm_access
from bot.reporting.sharing import SharedPage, share_access
from bot.scheduling.scheduler import SchedulerService
from handlers import inbox, register_all
from handlers.ack_first import AckFirstExecutor
from handlers.after_ack import AfterAck
from handlers.directory import SlackDirectory
from handlers.editors import Editors, editor_ids
from handlers.http_server import database_health
from handlers.kit import SlackKit
from handlers.modals import ModalLane, modal_client
from handlers.reminders import SlackPoster
from handlers.response_urls import ResponseUrls
from handlers.web_client import KeptAlive, PooledWebClient
from handlers.workspace import Workspace
from storage.db import Database
from storage.spool import Spool

log = logging.getLogger(__name__)
WORKER_THREADS = 32  # work after the ack: mostly waiting on Slack's Web API
FOLLOW_UP_THREADS = 4  # a process that only records still tells people of effects stored before the ack


def make_client(settings: Settings) -> PooledWebClient:
    """A WebClient over kept-alive connections that retries connection errors, 429s (honouring Retry-After) and
    5xx answers."""
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
    kwargs = {"base_url": settings.web_api_url()} if settings.web_api_url() else {}
    client = PooledWebClient(token=token, timeout=10, **kwargs)
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
    runner: InboxRunner  # runs recorded requests' work on `workers`
    mover: SpoolMover | None = None  # SQLite: moves what acks spooled into the inbox table
    sealer: SpoolSealer | None = None  # SQLite, worker processes moving: hands them what this process spooled
    integrity: str = "ok"  # the database's quick check at start
    response_urls: ResponseUrls | None = None  # the kept-alive connections answers are posted over
    schedules: bool = True  # False with no INBOX_WORKERS: reminders, feeds, RMM pulls run where the work runs

    def start(self) -> None:
        """Start the background parts: the workspace cache, the inbox (what an earlier process left) and the
        scheduler (its lease, and so its jobs, when this process holds it)."""
        self.kit.workspace.start()
        self.start_inbox()
        if self.schedules:
            self.scheduler.start()

    def start_inbox(self) -> None:
        """Start moving spooled requests and working on recorded ones, beginning with what an earlier process
        left."""
        if self.mover is not None:
            self.mover.start()
        if self.sealer is not None:
            self.sealer.start()
        self.runner.start()

    def send_work_to(self, wake: Callable[[], None]) -> None:
        """Requests are worked on in other processes (`patchpolicy serve` with worker processes): this one only
        records and acknowledges, and tells `wake`; the workers also move what is spooled (this process seals
        it for them), so no database write is left in this process. It runs no work, so it does not schedule
        either (`schedules`)."""
        spool = self.mover.spool if self.mover is not None else None
        self.mover = None
        self.sealer = SpoolSealer(spool, wake) if spool is not None else None
        self.app.attach_inbox(self.core.db, self.core.clock, self.sealer.wake if self.sealer else wake, spool)

    def wake_inbox(self) -> None:
        """Look for requests now: move what is spooled, then claim."""
        (self.mover or self.runner).wake()

    def page(self, path: str) -> SharedPage | None:
        """GET /share/<path>: a client's shared page, or None (404)."""
        return self.core.sharing.page(path)

    def health(self) -> dict[str, str]:
        """GET /healthz: the database, its check at start, and this process's part in scheduling; "error" when
        the database is away or damaged, or this process holds the lease and its scheduler is not running."""
        report = {**database_health(self.core.db, self.integrity), **self.scheduler.status(), **self._feeds()}
        broken = report["database"] != "ok" or report["integrity"] != "ok" or report["scheduler"] == "stopped"
        return {"status": "error" if broken else "ok", **report}

    def _feeds(self) -> dict[str, str]:
        """Each feed's last read (a failing feed never makes the bot unhealthy); nothing when the database is away."""
        try:
            return {f"feed_{feed}": text for feed, text in feeds_health(self.core.feeds).items()}
        except Exception:
            return {}

    def stop(self, timeout: float = 5.0) -> int:
        """Stop the background parts: work in hand gets `timeout` seconds, the rest stays in the inbox for the
        next process. Returns how many requests were handed back."""
        if self.mover is not None:
            self.mover.stop()
        if self.sealer is not None:
            self.sealer.stop()
        handed_back = self.runner.stop(timeout)
        self.scheduler.stop()
        self.kit.workspace.stop()
        self.kit.modals.shutdown()
        if self.response_urls is not None:
            self.response_urls.close()
        if isinstance(self.app.client, PooledWebClient):
            self.app.client.close()
        return handed_back


def create_bot(
    settings: Settings,
    db: Database,
    clock: Clock | None = None,
    instance: str | None = None,
    use_lease: bool = True,
    workers: AckFirstExecutor | None = None,
    feeds: FeedUrls | None = None,
) -> Bot:
    """The Bolt app with every listener registered; auth.test runs here and fails fast on a bad token."""
    client = make_client(settings)
    workers = workers or AckFirstExecutor(settings.inbox_workers or FOLLOW_UP_THREADS)
    app = inbox.InboxApp(
        client=client,
        signing_secret=settings.signing_secret(),
        process_before_response=True,  # the listener's return is the ack; its work goes to `workers`
        listener_executor=workers,
    )
    clock = clock or SystemClock()
    instance = instance or new_instance()
    ids = editor_ids(settings.patchpolicy_editors)
    workspace = Workspace(client, tuple(i for i in ids if i.startswith("S")))  # the editor user groups
    editors = Editors(workspace, ids)
    core = Core(
        db,
        clock,
        SlackDirectory(client, workspace),
        instance,
        editors=editors.ids,
        rmm=rmm_access(settings),
        share=share_access(settings),
        feeds=feeds or feed_urls(settings),
    )
    modals = ModalLane(modal_client(client.token, settings.web_api_url() or None))
    kit = SlackKit(editors=editors, workspace=workspace, later=AfterAck(workers), modals=modals)
    runner = InboxRunner(
        db, clock, lambda claimed: inbox.replay(app, claimed), instance, workers, slots=settings.inbox_workers
    )
    spool = Spool.beside(db.url)
    mover = SpoolMover(spool, db, runner.wake) if spool is not None else None
    app.attach_inbox(db, clock, mover.wake if mover else runner.wake, spool)
    response_urls = ResponseUrls(max(settings.inbox_workers, FOLLOW_UP_THREADS), client.proxy)
    app.use(KeptAlive(client, response_urls))  # listeners' Web API calls and answers over kept-alive connections
    register_all(app, core, kit)
    poll = timedelta(seconds=settings.reminder_poll_seconds)
    scheduler = SchedulerService(db, clock, SlackPoster(client), core.reminders, poll=poll, use_lease=use_lease)
    core.on_plan_changed(scheduler.arm_next)
    return Bot(
        app,
        core,
        scheduler,
        workers,
        kit,
        runner,
        mover,
        integrity=db.integrity(),
        response_urls=response_urls,
        schedules=settings.inbox_workers > 0,
    )
