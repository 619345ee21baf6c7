"""`patchpolicy serve` (or `worker`) as a real child process on loopback, driven with signed requests."""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tests.support.fake_slack import TOKEN
from tests.support.slack_driver import SIGNING_SECRET, BotUnderTest

EVENT_IDS = itertools.count(1)  # one sequence across restarts: Slack never reuses an event id


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class BotProcess:
    """The bot as production runs it: its own process, its log in a file, stopped by signals."""

    def __init__(self, fake, db_url: str, cwd: Path, command: str = "serve", **env: str) -> None:  # type: ignore[no-untyped-def]
        self.port = free_port()
        self.log_path = cwd / f"bot-{self.port}.log"
        environment = {k: v for k, v in os.environ.items() if not k.startswith("SLACK_")}
        environment.update(
            SLACK_BOT_TOKEN=TOKEN,
            SLACK_SIGNING_SECRET=SIGNING_SECRET,
            SLACK_API_URL=fake.url,
            DATABASE_URL=db_url,
            PORT=str(self.port),
            HOST="127.0.0.1",
            LOG_LEVEL="INFO",
            WORKER_PROCESSES="0",  # the work in the serving process, unless a test starts worker processes
        )
        environment.update(env)
        with self.log_path.open("wb") as log:
            self.child = subprocess.Popen(
                [sys.executable, "-m", "handlers", command], env=environment, cwd=cwd, stdout=log, stderr=log
            )
        if command == "serve" and "SLACK_APP_TOKEN" not in env:  # Socket Mode serves no HTTP
            self.wait_healthy()
        self.driver = BotUnderTest.__new__(BotUnderTest)  # only its request building, aimed at the child
        self.driver.fake, self.driver.url, self.driver._ids = fake, f"http://127.0.0.1:{self.port}", EVENT_IDS

    def wait_healthy(self, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=1).read()
                return
            except OSError:
                if self.child.poll() is not None:
                    raise AssertionError(f"the bot exited with {self.child.returncode}: {self.log()}") from None
                time.sleep(0.025)
        raise AssertionError("the bot never answered /healthz")

    def kill(self) -> None:
        self.child.send_signal(signal.SIGKILL)
        self.child.wait(timeout=10)

    def terminate(self, timeout: float = 15.0) -> tuple[int, float]:
        """SIGTERM; (exit status, seconds until it exited)."""
        started = time.monotonic()
        self.child.send_signal(signal.SIGTERM)
        status = self.child.wait(timeout=timeout)
        return status, time.monotonic() - started

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def children_of(pid: int) -> list[int]:
    """The process ids of a process's children (Linux /proc: each thread lists the children it started)."""
    tasks = Path(f"/proc/{pid}/task").iterdir()
    return [int(child) for task in tasks for child in (task / "children").read_text().split()]


def wait_until(check, timeout: float = 25.0) -> None:  # type: ignore[no-untyped-def]
    """Until `check()` is true (an AssertionError from it counts as not yet: a prompt between two posts)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if check():
                return
        except AssertionError:
            pass
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.02)
