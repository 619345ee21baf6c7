"""Work after the ack: the request thread answers Slack at once, the bot's worker pool does the rest.

The app runs with `process_before_response=True`, so a listener's return is its HTTP response: the ack goes
back as soon as the listener has decided it, without Bolt's 10 ms poll for it, and never waits behind
other requests' work in the pool.
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
from handlers.replies import Replies
from handlers.scopes import missing_scope_text

log = logging.getLogger(__name__)


class AfterAck:
    """Hands a listener's work to the worker pool; a failure is logged with its traceback."""

    def __init__(self, executor: Executor) -> None:
        self.executor = executor

    def run(self, work: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        """Run `work(*args, **kwargs)` on the pool, after the current request's ack."""
        self.executor.submit(self._logged, work, args, kwargs)

    def listener(self, work: Callable[..., Any]) -> Callable[[Args], None]:
        """A listener that acks at once and runs `work` on the pool with the arguments it names (Bolt's names)."""
        names = tuple(inspect.signature(work).parameters)

        def acked(args: Args) -> None:
            args.ack()
            self.run(work, **{name: getattr(args, name) for name in names})

        acked.__name__ = acked.__qualname__ = work.__name__
        return acked

    @staticmethod
    def _logged(work: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        try:
            return work(*args, **kwargs)
        except SlackApiError as err:
            told = missing_scope_text(err)
            if told is None:
                log.exception("work after the ack failed in %s", getattr(work, "__name__", work))
                raise
            log.error("%s: %s", getattr(work, "__name__", work), told)
            _tell(told, [*args, *kwargs.values()])
            return None
        except Exception:
            log.exception("work after the ack failed in %s", getattr(work, "__name__", work))
            raise


def _tell(text: str, arguments: list[Any]) -> None:
    """Say `text` to the person who acted, through the Replies or Respond the work was given (if any)."""
    for value in arguments:
        if isinstance(value, Replies | Respond):
            replies = value if isinstance(value, Replies) else Replies(value)
            replies.notices([Notice(text, "error")])
            return
