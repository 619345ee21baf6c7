"""Opening modals in a lane of their own: a trigger_id is good for 3 seconds after the click, once.

views.open never waits behind other work (the worker pool holds its queue while requests are in flight), and
it uses a client that does not sleep on a 429 or retry past the trigger's life. When Slack answers that the
trigger expired anyway, the person is told to press again instead of seeing nothing.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from slack_bolt import Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.models.views import View

from bot.kernel.views import Notice
from handlers.replies import Replies
from handlers.scopes import missing_scope_text
from handlers.web_client import PooledWebClient

log = logging.getLogger(__name__)
TRIGGER_SECONDS = 3.0
_EXPIRED = {"expired_trigger_id", "exchanged_trigger_id", "invalid_trigger_id"}


def modal_client(token: str | None, base_url: str | None) -> WebClient:
    """A WebClient for views.open alone: no retries, and a timeout inside the trigger's life."""
    kwargs = {"base_url": base_url} if base_url else {}
    client = PooledWebClient(token=token, timeout=int(TRIGGER_SECONDS), **kwargs)
    client.retry_handlers = []
    return client


class ModalLane:
    """Runs views.open at once on threads that nothing else uses."""

    def __init__(self, client: WebClient, threads: int = 4) -> None:
        self.client = client
        self._pool = ThreadPoolExecutor(threads, thread_name_prefix="modal")
        self._pending = 0
        self._idle = threading.Condition()

    def open(self, trigger_id: str, view: View | dict[str, Any], respond: Respond | None = None) -> None:
        """Open the modal now; if it can't open, say why through the click's response_url."""
        with self._idle:
            self._pending += 1
        self._pool.submit(self._open, trigger_id, view, respond)

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Wait until every modal asked for so far has been opened (or refused); False on timeout."""
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout=timeout)

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True)

    def _open(self, trigger_id: str, view: View | dict[str, Any], respond: Respond | None) -> None:
        try:
            self.client.views_open(trigger_id=trigger_id, view=view)
        except SlackApiError as err:
            error = err.response.get("error", "error")
            log.warning("views.open failed: %s", error)
            if respond is not None:
                if error in _EXPIRED:
                    text = "Slack took too long to open the form. Press the button (or send the command) again."
                else:
                    text = missing_scope_text(err) or f"Slack would not open the form ({error})."
                Replies(respond).notices([Notice(text, "warning")])
        except Exception:
            log.exception("views.open failed")
        finally:
            with self._idle:
                self._pending -= 1
                self._idle.notify_all()
