"""Work after the ack: the request thread answers Slack at once; the work runs from the durable inbox.

The app runs with `process_before_response=True`, so a listener's return is its HTTP response: the ack goes
back as soon as the listener has decided it (and the request is recorded, see handlers/inbox.py), never
waiting behind other requests' work.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable
from concurrent.futures import Executor
from typing import Any

from slack_bolt import Respond
from slack_bolt.kwargs_injection import Args
from slack_sdk.errors import SlackApiError

from bot.kernel.views import Notice
from handlers import inbox
from handlers.replies import Replies
from handlers.scopes import missing_scope_text

log = logging.getLogger(__name__)


class AfterAck:
    """Runs a listener's work after the ack: from the inbox for a live request, at once when replaying it."""

    def __init__(self, executor: Executor) -> None:
        self.executor = executor

    def run(self, work: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        """Run `work(*args, **kwargs)` after the current request's ack, durably: the request is recorded
        before the ack, and a worker replays it (calling this again, which then runs the work)."""
        if inbox.replaying():
            self._replayed(work, args, kwargs)
        elif not inbox.wants_work():  # outside a request from Slack: straight to the pool
            self.executor.submit(self._logged, work, args, kwargs)

    def then(self, work: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        """Run `work` after the ack when the request's effect was committed before it (a form whose errors
        must be in the ack): only telling people of it remains, so nothing needs recording."""
        if inbox.replaying():
            self._replayed(work, args, kwargs)
        else:
            self.executor.submit(self._logged, work, args, kwargs)

    def _replayed(self, work: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        try:
            self._logged(work, args, kwargs, quiet=True)
        except Exception as err:
            inbox.failed(err)  # the inbox runner retries or records it

    def listener(self, work: Callable[..., Any]) -> Callable[[Args], None]:
        """A listener that acks at once and runs `work` on the pool with the arguments it names (Bolt's names)."""
        names = tuple(inspect.signature(work).parameters)

        def acked(args: Args) -> None:
            args.ack()
            self.run(work, **{name: getattr(args, name) for name in names})

        acked.__name__ = acked.__qualname__ = work.__name__
        return acked

    @staticmethod
    def _logged(work: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any], quiet: bool = False) -> Any:
        """Run `work`; a missing scope is told to the person; other failures are logged (unless `quiet`)."""
        try:
            return work(*args, **kwargs)
        except SlackApiError as err:
            told = missing_scope_text(err)
            if told is None:
                if not quiet:
                    log.exception("work after the ack failed in %s", getattr(work, "__name__", work))
                raise
            log.error("%s: %s", getattr(work, "__name__", work), told)
            _tell(told, [*args, *kwargs.values()])
            return None
        except Exception:
            if not quiet:
                log.exception("work after the ack failed in %s", getattr(work, "__name__", work))
            raise


def _tell(text: str, arguments: list[Any]) -> None:
    """Say `text` to the person who acted, through the Replies or Respond the work was given (if any)."""
    for value in arguments:
        if isinstance(value, Replies | Respond):
            replies = value if isinstance(value, Replies) else Replies(value)
            replies.notices([Notice(text, "error")])
            return
