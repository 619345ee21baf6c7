"""What each modal carries in its private_metadata, as typed models: the message it was opened from and the
response_url that answers the person who opened it (Slack keeps at most 3,000 characters)."""

from __future__ import annotations

from typing import Self

from pydantic import BaseModel, ConfigDict
from slack_bolt import Respond
from slack_sdk import WebClient

from handlers.replies import Replies


class FormMeta(BaseModel):
    """Where the form came from: the message (channel, ts) and the opening click's response_url."""

    model_config = ConfigDict(frozen=True)

    channel: str = ""
    ts: str = ""
    response_url: str = ""

    def dump(self) -> str:
        return self.model_dump_json(exclude_defaults=True)

    @classmethod
    def load(cls, raw: str) -> Self:
        return cls.model_validate_json(raw or "{}")

    def replies(self, client: WebClient | None = None, user_id: str | None = None) -> Replies:
        """Answers to the form's submission: through the response_url, else (with a client) to the DM."""
        respond = Respond(response_url=self.response_url) if self.response_url else None
        return Replies(respond, client, user_id)


class CheckinFailures(FormMeta):
    reminder_id: int


class Mitigation(FormMeta):
    review_id: int
    step: int


class ExceptionRecord(FormMeta):
    client_id: int | None = None
    review_id: int | None = None
    step: int | None = None
