"""A background thread that runs one step each time it is woken (and every `poll` seconds), until stopped: the
shape of the spool's sealer and mover, the inbox's dispatcher, and the wake and watch of the worker processes."""

from __future__ import annotations

import threading
from collections.abc import Callable


class WokenThread:
    """Runs `step` on a daemon thread after each `wake` (wakes while a step runs bring one more step), and every
    `poll` seconds without one (None: only when woken)."""

    def __init__(self, name: str, step: Callable[[], None], poll: float | None) -> None:
        self.name, self.step, self.poll = name, step, poll
        self._wakeup = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def wake(self) -> None:
        self._wakeup.set()

    @property
    def stopping(self) -> bool:
        """True once `stop` was called: a long step ends early."""
        return self._stopping.is_set()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name=self.name, daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stopping.is_set():
            self._wakeup.wait(self.poll)
            self._wakeup.clear()
            if self._stopping.is_set():
                return  # the owner's stop does the last step itself
            self.step()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop after the step under way (if any)."""
        self._stopping.set()
        self._wakeup.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)
