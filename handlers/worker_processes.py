"""The worker processes `patchpolicy serve` runs beside itself, so answer work never shares an interpreter with
acks: each child is `patchpolicy worker`, woken through its stdin when a request is recorded (one byte), and
it stops when that pipe closes (the parent stopped or died). A child that dies is started again."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable

from bot.kernel.woken_thread import WokenThread

log = logging.getLogger(__name__)
SUPERVISED = "PATCHPOLICY_SUPERVISED"
NICE = 10  # the children's CPU priority below the serving process's


class WorkerProcesses:
    """`count` children running `patchpolicy worker`, started, woken, restarted and stopped together."""

    def __init__(self, count: int) -> None:
        self.count = count
        self._children: list[subprocess.Popen[bytes]] = []
        self._lock = threading.Lock()
        self._teller = WokenThread("patchpolicy-wake", self._tell, poll=None)  # a wake is the only reason
        self._watcher = WokenThread("patchpolicy-workers", self._restart_exited, poll=1.0)

    def start(self) -> None:
        with self._lock:
            self._children = [self._spawn() for _ in range(self.count)]
        self._watcher.start()
        self._teller.start()
        log.info("started %s worker process(es)", self.count)

    def _spawn(self) -> subprocess.Popen[bytes]:
        """A child at a lower CPU priority (nice NICE): when CPU is short, acks come first and work waits."""
        return subprocess.Popen(
            [sys.executable, "-m", "handlers", "worker"],
            env={**os.environ, SUPERVISED: "1"},
            stdin=subprocess.PIPE,
            preexec_fn=(lambda: os.nice(NICE)) if hasattr(os, "nice") else None,
        )

    def wake(self) -> None:
        """A request was recorded: every child looks soon (the first to claim it runs it). The request thread
        only sets a flag; one thread tells the children, once for all the requests recorded meanwhile."""
        self._teller.wake()

    def _tell(self) -> None:
        with self._lock:
            children = list(self._children)
        for child in children:
            try:
                assert child.stdin is not None
                child.stdin.write(b"\n")
                child.stdin.flush()
            except (OSError, ValueError):
                pass  # it died; the watch starts another, and the inbox keeps the request

    def _restart_exited(self) -> None:
        with self._lock:
            for index, child in enumerate(self._children):
                if child.poll() is not None and not self._watcher.stopping:
                    log.error("worker process %s exited with %s; starting another", child.pid, child.returncode)
                    self._children[index] = self._spawn()

    def stop(self, timeout: float) -> None:
        """SIGTERM every child (each finishes or hands back its work) and wait up to `timeout` seconds."""
        self._watcher.stop()
        self._teller.stop()
        with self._lock:
            children = list(self._children)
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for child in children:
            try:
                child.wait(timeout=max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                child.kill()


def listen_to_parent(wake: Callable[[], None], stop: threading.Event) -> None:
    """In a supervised child: each line on stdin wakes the runner; the end of stdin (the parent gone) stops."""
    if not os.environ.get(SUPERVISED):
        return

    def read() -> None:
        stream = sys.stdin.buffer
        while stream.readline():
            wake()
        stop.set()

    threading.Thread(target=read, name="patchpolicy-parent", daemon=True).start()
