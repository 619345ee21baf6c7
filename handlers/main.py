"""`patchpolicy`: the process entry. `serve` runs the Slack bot; every other command is the core's CLI
(console, migrate, check, import, render). Plain `patchpolicy` serves Slack when a bot token is set, else it
starts the console."""

from __future__ import annotations

import sys

from bot.cli import main as core_main
from bot.kernel.config import Settings
from storage.db import Database


def serve(settings: Settings, db: Database) -> int:
    """Run the Slack bot until stopped: Socket Mode with SLACK_APP_TOKEN, else HTTP on PORT."""
    from slack_bolt.error import BoltError

    from handlers.app import create_bot
    from handlers.scopes import check_granted

    if not settings.has_slack:
        print(
            "SLACK_BOT_TOKEN is not set. Set it (see .env.example), or run `patchpolicy console`.",
            file=sys.stderr,
        )
        return 2
    try:
        bot = create_bot(settings, db)
    except BoltError as err:
        print(f"Slack did not accept SLACK_BOT_TOKEN ({err}). Check the token in .env.", file=sys.stderr)
        return 2
    check_granted(bot.app.client)  # one log line naming any scope this install lacks
    bot.start()
    try:
        if settings.slack_app_token:
            from slack_bolt.adapter.socket_mode import SocketModeHandler

            SocketModeHandler(bot.app, settings.slack_app_token.get_secret_value()).start()
        else:
            from handlers.http_server import serve_http

            serve_http(
                bot.app,
                db,
                bot.workers,
                settings.signing_secret(),
                settings.host,
                settings.port,
                settings.server_threads,
            )
    finally:
        bot.stop()
        bot.scheduler.release_lease()
    return 0


def main(argv: list[str] | None = None) -> int:
    return core_main(argv, serve=serve)
