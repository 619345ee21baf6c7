"""Settings from the environment and an optional .env file."""

from __future__ import annotations

import os

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every variable is documented in .env.example."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_api_url: str | None = None
    database_url: str = "sqlite:///patchpolicy.db"
    port: int = Field(default=3000, ge=1, le=65535)
    host: str = "0.0.0.0"
    log_level: str = "INFO"
    server_threads: int = Field(default=16, ge=1, le=256)
    console_user: str = "console"
    patchpolicy_editors: str = ""  # comma-separated user (U...) and user group (S...) ids; empty: everyone
    reminder_poll_seconds: int = Field(default=60, ge=5, le=86_400)
    inbox_workers: int = Field(default=16, ge=0, le=256)  # threads running recorded requests; 0: record only
    worker_processes: int | None = Field(default=None, ge=0, le=64)  # children of serve; None: one per core
    ninjaone_url: str = ""  # e.g. https://app.ninjarmm.com (or eu., oc., ca.)
    ninjaone_client_id: str = ""
    ninjaone_client_secret: SecretStr | None = None
    automox_url: str = "https://console.automox.com/api"
    automox_api_key: SecretStr | None = None
    public_url: str = ""  # where clients reach the HTTP server (share links), e.g. https://patchpolicy.example.com
    kev_url: str = "https://www.cisa.gov/sites/default/files/feeds/known_exploited_vulnerabilities.json"  # "": off
    msrc_url: str = "https://api.msrc.microsoft.com/cvrf/v3.0"  # Patch Tuesday (CVRF API); "": off
    share_secret: SecretStr | None = None  # signs share links; defaults to SLACK_SIGNING_SECRET

    @property
    def worker_process_count(self) -> int:
        """Worker processes `serve` starts: WORKER_PROCESSES, else one per core; 0 runs the work in-process."""
        return self.worker_processes if self.worker_processes is not None else (os.cpu_count() or 1)

    @property
    def has_slack(self) -> bool:
        """True when a bot token is configured, so the bot should talk to Slack."""
        return self.slack_bot_token is not None and bool(self.slack_bot_token.get_secret_value())

    def signing_secret(self) -> str:
        """SLACK_SIGNING_SECRET, or "" when unset (Socket Mode)."""
        return self.slack_signing_secret.get_secret_value() if self.slack_signing_secret else ""

    def web_api_url(self) -> str | None:
        """SLACK_API_URL with the trailing slash slack_sdk needs to join method names."""
        if not self.slack_api_url:
            return None
        return self.slack_api_url if self.slack_api_url.endswith("/") else self.slack_api_url + "/"
