"""App wiring: the one place in bot/ that knows Slack and the handlers, to register them."""

from __future__ import annotations

import logging

from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

from bot.clock import Clock, SystemClock
from bot.config import Settings
from bot.core import Core
from handlers import register_all
from handlers.directory import SlackDirectory
from storage.db import Database

log = logging.getLogger(__name__)


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


def create_app(settings: Settings, db: Database, clock: Clock | None = None, **app_kwargs: object) -> App:
    """The Bolt app with every listener registered; auth.test runs here and fails fast on a bad token."""
    if not settings.slack_signing_secret and not settings.slack_app_token:
        raise SystemExit("SLACK_SIGNING_SECRET is required in HTTP mode (or set SLACK_APP_TOKEN for Socket Mode).")
    client = make_client(settings)
    signing_secret = settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else ""
    app = App(client=client, signing_secret=signing_secret, **app_kwargs)  # type: ignore[arg-type]
    core = Core(db, clock or SystemClock(), SlackDirectory(client))
    register_all(app, core)
    return app
