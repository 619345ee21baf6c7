"""`patchpolicy`: the process entry. `serve` runs the Slack bot, `worker` only the work of recorded requests and
the scheduler; every other command is the core's CLI (console, migrate, check, import, render). Plain
`patchpolicy` serves Slack when a bot token is set, else it starts the console.

A failure to start is one line naming the setting and what to do, with status 2, and nothing started. SIGTERM
or SIGINT stops the process gracefully: no new requests, those in flight get their answers, work in hand
finishes or stays in the inbox for the next start, the scheduler stops and its lease is released: status 0.
"""

from __future__ import annotations

import gc
import logging
import os
import signal
import sys
import threading
from typing import Any

from bot.cli import main as core_main
from bot.kernel.config import Settings
from handlers.worker_processes import WorkerProcesses, listen_to_parent
from storage.db import Database

log = logging.getLogger(__name__)
STOP_WORK = 4.0  # seconds work in hand gets to finish at a stop; the rest stays in the inbox


def _say(line: str) -> int:
    print(line, file=sys.stderr)
    return 2


def serve(settings: Settings, db: Database, worker_only: bool = False) -> int:
    """Run the Slack bot until stopped: Socket Mode with SLACK_APP_TOKEN, else HTTP on PORT (or, worker only,
    the inbox's work and the scheduler)."""
    from handlers.app import create_bot
    from handlers.http_server import make_server, serve_until, wsgi_app
    from handlers.scopes import check_granted

    if not settings.has_slack:
        return _say("SLACK_BOT_TOKEN is not set. Set it (see .env.example), or run `patchpolicy console`.")
    http = not worker_only and not settings.slack_app_token
    if http and not settings.slack_signing_secret:
        return _say("SLACK_SIGNING_SECRET is required in HTTP mode (or set SLACK_APP_TOKEN for Socket Mode).")
    processes = 0 if worker_only else settings.worker_process_count
    if processes:  # answer work runs in the worker processes; this one records and acknowledges
        settings = settings.model_copy(update={"inbox_workers": 0})
    bot = _create(create_bot, settings, db)
    if bot is None:
        return 2
    server = None
    if http:
        try:
            server = make_server(
                wsgi_app(bot.app, bot.health, bot.workers, settings.signing_secret(), bot.page),
                settings.host,
                settings.port,
                settings.server_threads,
            )
        except OSError as err:
            return _say(f"Can't listen on {settings.host}:{settings.port} ({err.strerror or err}). Set PORT or HOST.")
    check_granted(bot.app.client)  # one log line naming any scope this install lacks
    stop = _stop_on_signals()
    children = WorkerProcesses(processes)
    if processes:
        bot.send_work_to(children.wake)
        children.start()
    if worker_only:
        listen_to_parent(bot.wake_inbox, stop)
    # What start-up loaded lives as long as the process. Frozen, full collections stop scanning it: over its
    # ~175,000 objects one held the interpreter 70-130 ms here, stalling every ack or answer in flight.
    gc.freeze()
    bot.start()
    try:
        if server is not None:
            log.info("PatchPolicy listening on http://%s:%s/slack/events", settings.host, settings.port)
            serve_until(server, stop)
        elif not worker_only:
            _socket_mode(bot.app, settings, stop)
        else:
            log.info("PatchPolicy worker running")
            stop.wait()
    finally:
        children.stop(STOP_WORK + 1)
        handed_back = bot.stop(STOP_WORK)
        _release(bot)
    log.info("stopped; %s request(s) left in the inbox for the next start", handed_back)
    _exit_now(0)
    return 0  # not reached


def _exit_now(status: int) -> None:
    """End the process now: a thread still waiting on Slack (the scheduler's post) would hold the exit past
    a platform's stop deadline, and everything it did is either stored or handed back already."""
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)


def _create(create_bot: Any, settings: Settings, db: Database) -> Any:
    """The bot, or None after one line: Slack refused the token, or could not be reached."""
    from slack_bolt.error import BoltError

    try:
        return create_bot(settings, db)
    except BoltError as err:
        _say(f"Slack did not accept SLACK_BOT_TOKEN ({err}). Check the token in .env.")
    except OSError as err:
        where = settings.web_api_url() or "https://slack.com/api/"
        _say(f"Can't reach Slack's Web API at {where} ({err}). Check the network, or SLACK_API_URL.")
    return None


def _socket_mode(app: Any, settings: Settings, stop: threading.Event) -> None:
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    assert settings.slack_app_token is not None
    handler = SocketModeHandler(app, settings.slack_app_token.get_secret_value())
    handler.connect()
    log.info("PatchPolicy connected to Slack in Socket Mode")
    try:
        stop.wait()
    finally:
        handler.close()


def _stop_on_signals() -> threading.Event:
    """An event set by SIGTERM or SIGINT (a second one still stops gracefully)."""
    stop = threading.Event()

    def on_signal(signum: int, _frame: object) -> None:
        log.info("%s received; stopping", signal.Signals(signum).name)
        stop.set()

    for name in ("SIGTERM", "SIGINT"):
        signal.signal(getattr(signal, name), on_signal)
    return stop


def _release(bot: Any) -> None:
    try:
        bot.scheduler.release_lease()
    except Exception as err:
        log.warning("could not release the scheduler lease (it runs out in a minute): %s", type(err).__name__)


def _slack_poster(settings: Settings) -> Any:
    from handlers.app import make_client
    from handlers.reminders import SlackPoster

    return SlackPoster(make_client(settings))


def main(argv: list[str] | None = None) -> int:
    return core_main(argv, serve=serve, posting=_slack_poster)
