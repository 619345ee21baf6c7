"""Acknowledgement latency over HTTP mode: the bot as `patchpolicy serve` runs it, beside a minimal Bolt app
that only acknowledges, in the same run, each in its own process on the same CPU.

- 1 user: one request at a time, THINK seconds apart (a person clicks again only after reading).
- 50 concurrent users: rounds of 50 requests sent at the same instant (a barrier), each user then reading
  the answer for a moment before the next round: the whole team pulling up the SOP at once.
- Saturation: 50 requests always in flight, each sent the moment the previous ack returns, for as long as
  it lasts. This is a throughput test: the bot does real work after each ack on one CPU; the bare app none.

Run: .venv/bin/python -m bench.bench_ack
"""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from slack_sdk import WebClient

from bench.common import percentiles, seed_clients, timed
from bench.processes import cpus, free_port, spawn, wait_until_up
from bot.kernel.config import Settings
from storage.db import Database
from tests.support.fake_slack import TOKEN
from tests.support.slack_driver import SIGNING_SECRET, BotUnderTest

ONE_USER_RUNS, THINK = 400, 0.03
USERS, ROUNDS, READING = 50, 40, 0.3
SATURATION_RUNS = 2000


class RemoteSlack:
    """What the request builder needs of the fake Slack running in its own process."""

    def __init__(self, base: str) -> None:
        self.base, self.url = base, f"{base}/api/"
        self.users = {"UTECH": {"name": "tess tech"}}
        self.responses: list[dict[str, Any]] = []
        self._ids = itertools.count(1)

    def response_url(self, channel: str = "") -> str:
        return f"{self.base}/response/{next(self._ids)}/{channel}"

    def trigger_id(self, age: float = 0.0) -> str:
        return f"{next(self._ids)}.1.trig"  # no benchmarked request opens a modal


def target(fake: RemoteSlack, url: str) -> BotUnderTest:
    """The tests' signed-request builder, pointed at a server in another process."""
    sender = BotUnderTest.__new__(BotUnderTest)
    sender.fake, sender.url, sender._ids = fake, url, itertools.count(1)  # type: ignore[assignment]
    return sender


def one_user(action: Callable[[], object]) -> list[float]:
    samples = []
    for _ in range(ONE_USER_RUNS):
        begin = time.perf_counter()
        action()
        samples.append((time.perf_counter() - begin) * 1000)
        time.sleep(THINK)
    return samples


def bursts(action: Callable[[], object]) -> list[float]:
    """Latencies (ms) of ROUNDS rounds of USERS requests released together, READING seconds apart."""
    samples: list[float] = []
    with ThreadPoolExecutor(USERS) as pool:
        for _ in range(ROUNDS):
            start = threading.Barrier(USERS)

            def one(_: int, start: threading.Barrier = start) -> float:
                start.wait()
                begin = time.perf_counter()
                action()
                return (time.perf_counter() - begin) * 1000

            samples += pool.map(one, range(USERS))
            time.sleep(READING)
    return samples


def saturate(action: Callable[[], object]) -> dict[str, float]:
    begin = time.perf_counter()
    samples = timed(action, SATURATION_RUNS, USERS)
    return {**percentiles(samples), "requests/s": round(SATURATION_RUNS / (time.perf_counter() - begin))}


def main() -> None:
    harness_cpu, app_cpu = cpus()
    os.sched_setaffinity(0, harness_cpu)
    fake_process = spawn(["-m", "bench.processes", "fake"], harness_cpu)
    fake = RemoteSlack(fake_process.stdout.readline().strip())  # type: ignore[union-attr]
    url = f"sqlite:///{Path(tempfile.mkdtemp(prefix='pp-bench-ack-')) / 'bench.db'}"
    db = Database(url)
    db.migrate()
    seed_clients(db, 10)
    db.dispose()
    threads = str(Settings(_env_file=None).server_threads)
    ours_port, bare_port = free_port(), free_port()
    env = {
        "SLACK_BOT_TOKEN": TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": fake.url,
        "DATABASE_URL": url,
        "HOST": "127.0.0.1",
        "PORT": str(ours_port),
        "LOG_LEVEL": "WARNING",
    }
    servers = [
        spawn(["-m", "handlers", "serve"], app_cpu, env),
        spawn(["-m", "bench.processes", "bare", fake.url, str(bare_port), threads], app_cpu),
    ]
    try:
        wait_until_up(f"http://127.0.0.1:{ours_port}/healthz")
        wait_until_up(f"http://127.0.0.1:{bare_port}/")
        ours, bare = target(fake, f"http://127.0.0.1:{ours_port}"), target(fake, f"http://127.0.0.1:{bare_port}")

        ours.command("new Globex", settle=False, channel="C0ACME", channel_name="acme-patching")
        web = WebClient(token=TOKEN, base_url=fake.url)
        for _ in range(50):
            dm = web.conversations_history(channel="DUTECH")["messages"]
            if dm:
                break
            time.sleep(0.1)
        prompt = dm[0]  # the first question; after one click, a stale step that changes nothing
        ours.click(prompt, "pp.recommended", settle=False)
        sends: dict[str, Callable[[BotUnderTest], object]] = {
            "help": lambda t: t.command("help", settle=False),
            "show acme": lambda t: t.command("show acme", settle=False),
            "button (stale step)": lambda t: t.click(prompt, "pp.recommended", settle=False),
        }
        for send in sends.values():  # warm up, and let the start-up planning finish
            for _ in range(50):
                send(ours)
        time.sleep(3)

        results: dict[str, Any] = {"cpus": {"harness": sorted(harness_cpu), "apps": sorted(app_cpu)}}
        modes: dict[str, Callable[[Callable[[], object]], dict[str, float]]] = {
            "1 user": lambda s: percentiles(one_user(s)),
            f"{USERS} users at once": lambda s: percentiles(bursts(s)),
            f"saturation, {USERS} in flight": saturate,
        }
        for mode, measure in modes.items():  # saturation last: it leaves the bot seconds of answers to send
            for label, send in sends.items():
                mine = measure(lambda s=send: s(ours))
                time.sleep(10 if mode.startswith("saturation") else 2)  # the bot's answers go out
                base = measure(lambda s=send: s(bare))
                results[f"{label} @ {mode}"] = {
                    "patchpolicy": mine,
                    "bare bolt": base,
                    "p99 ratio": round(mine["p99"] / base["p99"], 2),
                }
        print(json.dumps(results, indent=2))
    finally:
        stop([*servers, fake_process])


def stop(processes: list[subprocess.Popen[str]]) -> None:
    for process in processes:
        process.send_signal(signal.SIGINT)
    for process in processes:
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


if __name__ == "__main__":
    main()
