"""`patchpolicy`: serve (Slack), console (terminal), migrate. Plain `patchpolicy` picks by the tokens."""

from __future__ import annotations

import argparse
import logging
import os
import sys

from bot.config import Settings
from storage.db import Database


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="patchpolicy", description="Patch management SOPs, written in Slack.")
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("serve", help="run the Slack bot (Socket Mode with SLACK_APP_TOKEN, else HTTP on PORT)")
    sub.add_parser("console", help="run the bot in this terminal, without Slack")
    sub.add_parser("migrate", help="apply database migrations and exit")
    check = sub.add_parser("check", help="check a client's policy against its frameworks; exit 1 on a breach")
    check.add_argument("client", nargs="+", help="the client's name")
    args = parser.parse_args(argv)
    settings = Settings()
    command = args.command or ("serve" if settings.has_slack else "console")
    level = settings.log_level.upper() if command != "console" else "WARNING"
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if level != "DEBUG":
        logging.getLogger("alembic").setLevel(logging.WARNING)
    db = Database(settings.database_url)
    db.migrate()
    if command == "migrate":
        print(f"Database is up to date: {_safe_url(settings.database_url)}")
        return 0
    if command == "console":
        return _console(settings, db)
    if command == "check":
        return _check(db, " ".join(args.client))
    return _serve(settings, db)


def _console(settings: Settings, db: Database) -> int:
    from bot.clock import SystemClock
    from bot.console import Console
    from bot.core import Core
    from bot.directory import LocalDirectory
    from bot.questionnaire import Actor

    user = settings.console_user or os.environ.get("USER", "console")
    core = Core(db, SystemClock(), LocalDirectory())
    Console(core, Actor(id=user, name=user, timezone=os.environ.get("TZ") or None)).run(sys.stdin)
    return 0


def _check(db: Database, client: str) -> int:
    from bot.clock import SystemClock
    from bot.core import Core
    from bot.directory import LocalDirectory
    from bot.views import Notice

    result = Core(db, SystemClock(), LocalDirectory()).reader.check(client)
    if isinstance(result, Notice):
        print(result.text, file=sys.stderr)
        return 2
    print(result.title)
    for framework, verdict in result.rows:
        print(f"- {framework}: {verdict}")
    print(result.footer or "")
    return 0 if all(verdict == "pass" for _, verdict in result.rows) else 1


def _serve(settings: Settings, db: Database) -> int:
    from slack_bolt.error import BoltError

    from bot.app import create_bot

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
    bot.scheduler.start()
    try:
        if settings.slack_app_token:
            from slack_bolt.adapter.socket_mode import SocketModeHandler

            SocketModeHandler(bot.app, settings.slack_app_token.get_secret_value()).start()
        else:
            from bot.slack_server import serve_http

            serve_http(bot.app, db, settings.host, settings.port, settings.server_threads)
    finally:
        bot.scheduler.stop()
        bot.scheduler.release_lease()
    return 0


def _safe_url(url: str) -> str:
    """The database URL without its password, for messages and logs."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


if __name__ == "__main__":
    raise SystemExit(main())
