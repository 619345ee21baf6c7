"""Acknowledgement latency the way users load it: the bot as `patchpolicy serve` runs it (its worker processes
beside it) and a bare Bolt app that only acknowledges, in the same run, no CPU pinning.

At each concurrency (1, 20, 50), ROUNDS interleaved rounds of PER_ROUND signed requests each are sent back to
back, `concurrency` at a time, with no pause between a user's requests: first to the bot, then to the bare
app, three times. The p99 of each app's samples is one run's figure; RUNS runs give the median and the spread.
The end-to-end time of `show` (request sent until its answer reached the response_url) is measured in
bursts of 50 released together.

The CPU time each process used during a row's rounds is reported per request: the serving process against
the bare app, and the worker processes (with PAUSE_WORK=1 only moving the spool; else also the work, which
runs on into the bare app's rounds).

Run: .venv/bin/python -m bench.bench_ack   (RUNS=2 for a quick look; PAUSE_WORK=1 runs no work: the serving
process as in production, its worker processes only moving the spool; `help` and `show` only, no end-to-end;
AGAINST_ITSELF=1 puts a second bare app where the bot was, no work at all: the measurement's own spread, what
a ratio of two equal apps looks like on this machine)
"""

from __future__ import annotations

import gc
import itertools
import json
import os
import signal
import statistics
import subprocess
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from slack_sdk import WebClient

from bench.common import seed_clients
from bench.processes import cpu_seconds, free_port, spawn, wait_until_up
from bot.kernel.config import Settings
from storage import inbox
from storage.db import Database
from tests.support.bot_process import children_of
from tests.support.fake_slack import TOKEN
from tests.support.slack_driver import SIGNING_SECRET, BotUnderTest

CONCURRENCY = (1, 20, 50)
RUNS = int(os.environ.get("RUNS", "5"))
ROUNDS, PER_ROUND = 3, 200
E2E_BURSTS, E2E_USERS = 5, 50
PAUSE_WORK = os.environ.get("PAUSE_WORK") == "1"  # separates the ack path's own cost from the work's
AGAINST_ITSELF = os.environ.get("AGAINST_ITSELF") == "1"  # the bare app against a second copy of itself
# A message with the questionnaire's button, for a click the bare apps acknowledge (AGAINST_ITSELF: no bot)
BUTTON_MESSAGE = {
    "ts": "1.000001",
    "channel": "DUTECH",
    "text": "Question 1",
    "blocks": [{"type": "actions", "block_id": "q", "elements": [{"type": "button", "action_id": "pp.recommended"}]}],
}


class Answers:
    """The response_url endpoint, in its own process (bench.processes answers): answers arriving there do
    not compete with this process's senders, which would slow the bot's figures and not the bare app's."""

    def __init__(self, base: str) -> None:
        self.base = base

    def forget(self) -> None:
        request = urllib.request.Request(f"{self.base}/arrived", method="DELETE")
        with urllib.request.urlopen(request, timeout=10) as response:
            response.read()

    def arrived(self) -> dict[str, float]:
        with urllib.request.urlopen(f"{self.base}/arrived", timeout=10) as response:
            return json.loads(response.read())


class RemoteSlack:
    """What the request builder needs of the fake Slack running in its own process."""

    def __init__(self, api: str, answers: Answers) -> None:
        self.url, self.answers = api, answers
        self.users = {"UTECH": {"name": "tess tech"}} | {f"UTEAM{n:02d}": {"name": f"tech {n}"} for n in range(50)}
        self.responses: list[dict[str, Any]] = []
        self._ids = itertools.count(1)
        self.last_id = ""

    def response_url(self, channel: str = "") -> str:
        self.last_id = f"r{next(self._ids)}"
        return f"{self.answers.base}/response/{self.last_id}"

    def trigger_id(self, age: float = 0.0) -> str:
        return f"{next(self._ids)}.{time.time_ns()}.trig"  # unique: the inbox keys requests by their trigger


class CpuUse:
    """CPU time of the bot's serving process, its worker processes and the bare app, from /proc (Linux)."""

    def __init__(self, serving: int, bare: int) -> None:
        self.serving, self.bare, self.workers = serving, bare, children_of(serving)

    def now(self) -> tuple[float, float, float]:
        return cpu_seconds(self.serving), sum(cpu_seconds(pid) for pid in self.workers), cpu_seconds(self.bare)


def target(fake: RemoteSlack, url: str) -> BotUnderTest:
    """The tests' signed-request builder, pointed at a server in another process."""
    sender = BotUnderTest.__new__(BotUnderTest)
    sender.fake, sender.url, sender._ids = fake, url, itertools.count(1)  # type: ignore[assignment]
    return sender


def back_to_back(send: Callable[[str], object], concurrency: int, count: int) -> list[float]:
    """Latencies (ms) of `count` requests, `concurrency` senders (each a person of the team) each sending the
    next at once."""
    left = itertools.count()
    samples: list[float] = []
    lock = threading.Lock()

    def sender(number: int) -> None:
        user = f"UTEAM{number:02d}"
        while next(left) < count:
            begin = time.perf_counter()
            send(user)
            elapsed = (time.perf_counter() - begin) * 1000
            with lock:
                samples.append(elapsed)

    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(sender, range(concurrency)))
    return samples


def p99(samples: list[float]) -> float:
    return round(statistics.quantiles(samples, n=100)[98], 1)


def drain(url: str) -> float:
    """Seconds until the work the load rounds left in the inbox is done (at most 600)."""
    db, begin = Database(url), time.monotonic()
    try:
        while time.monotonic() - begin < 600:
            states = inbox.counts(db)
            if not states.get("pending") and not states.get("running"):
                break
            time.sleep(0.2)
    finally:
        db.dispose()
    return round(time.monotonic() - begin, 1)


def end_to_end(ours: BotUnderTest, fake: RemoteSlack) -> float:
    """p99 (ms) from sending `show acme` to its answer arriving, over bursts of E2E_USERS sent together."""
    samples: list[float] = []
    for _ in range(E2E_BURSTS):
        sent: dict[str, float] = {}
        fake.answers.forget()
        burst_of(ours, sent)
        deadline = time.monotonic() + 30
        arrived = fake.answers.arrived()
        while any(i not in arrived for i in sent) and time.monotonic() < deadline:
            time.sleep(0.05)
            arrived = fake.answers.arrived()
        samples += [(arrived.get(i, float("inf")) - t) * 1000 for i, t in sent.items()]
        time.sleep(1)
    return p99(samples)


def burst_of(ours: BotUnderTest, sent: dict[str, float]) -> None:
    """E2E_USERS `show acme` requests released together; `sent` gets each answer's id and when it was sent."""
    start = threading.Barrier(E2E_USERS)
    lock = threading.Lock()

    def one(number: int) -> None:
        body = ours.command_body("show acme", f"UTEAM{number:02d}", "C0ACME", "acme-patching")
        answer_id = body.split("response%2F", 1)[1].split("&", 1)[0]
        start.wait()
        with lock:
            sent[answer_id] = time.monotonic()
        ours.post(body, "application/x-www-form-urlencoded")

    with ThreadPoolExecutor(E2E_USERS) as pool:
        list(pool.map(one, range(E2E_USERS)))


def main() -> None:
    everything = set(os.sched_getaffinity(0))
    fake_process = spawn(["-m", "bench.processes", "fake"], everything)
    answers_process = spawn(["-m", "bench.processes", "answers"], everything)
    answers = Answers(answers_process.stdout.readline().strip())  # type: ignore[union-attr]
    fake = RemoteSlack(fake_process.stdout.readline().strip() + "/api/", answers)  # type: ignore[union-attr]
    url = f"sqlite:///{Path(tempfile.mkdtemp(prefix='pp-bench-ack-')) / 'bench.db'}"
    db = Database(url)
    db.migrate()
    seed_clients(db, 10)
    db.dispose()
    settings = Settings(_env_file=None)
    ours_port, bare_port = free_port(), free_port()
    env = {
        "SLACK_BOT_TOKEN": TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": fake.url,
        "DATABASE_URL": url,
        "HOST": "127.0.0.1",
        "PORT": str(ours_port),
        "LOG_LEVEL": "WARNING",
        "KEV_URL": "",  # no threat feed reads in the measurement
        "MSRC_URL": "",
        **({"INBOX_WORKERS": "0"} if PAUSE_WORK else {}),  # the worker processes only move the spool
    }
    bare_on = ["-m", "bench.processes", "bare", fake.url]
    servers = [
        spawn([*bare_on, str(ours_port), str(settings.server_threads)], everything)
        if AGAINST_ITSELF
        else spawn(["-m", "handlers", "serve"], everything, env),
        spawn([*bare_on, str(bare_port), str(settings.server_threads)], everything),
    ]
    try:
        wait_until_up(f"http://127.0.0.1:{ours_port}/{'' if AGAINST_ITSELF else 'healthz'}")
        wait_until_up(f"http://127.0.0.1:{bare_port}/")
        ours, bare = target(fake, f"http://127.0.0.1:{ours_port}"), target(fake, f"http://127.0.0.1:{bare_port}")
        cpu = CpuUse(servers[0].pid, servers[1].pid)
        sends: dict[str, Callable[[BotUnderTest, str], object]] = {
            "help": lambda t, u: t.command("help", user=u, settle=False),
            "show acme": lambda t, u: t.command("show acme", user=u, settle=False),
        }
        if not PAUSE_WORK:  # the questionnaire's first prompt needs the work to run
            prompt = BUTTON_MESSAGE if AGAINST_ITSELF else first_prompt(ours, fake)
            button = "button (someone else's draft)"
            sends[button] = lambda t, u: t.click(prompt, "pp.recommended", user=u, settle=False)
        for send in sends.values():  # warm up, and let the start-up planning finish
            back_to_back(lambda u, s=send: s(ours, u), 4, 100)
        gc.freeze()  # a full collection here stalled the senders 80-140 ms mid-round, timing neither app
        time.sleep(5)

        figures: dict[str, dict[str, list[float]]] = {}
        e2e: list[float] = []
        drained: list[float] = []
        for _ in range(RUNS):
            for label, send in sends.items():
                for concurrency in CONCURRENCY:
                    mine: list[float] = []
                    base: list[float] = []
                    before = cpu.now()
                    for _ in range(ROUNDS):
                        mine += back_to_back(lambda u, s=send: s(ours, u), concurrency, PER_ROUND)
                        base += back_to_back(lambda u, s=send: s(bare, u), concurrency, PER_ROUND)
                    used = [
                        (end - begin) * 1000 / (ROUNDS * PER_ROUND)
                        for begin, end in zip(before, cpu.now(), strict=True)
                    ]
                    row = figures.setdefault(f"{label} @ {concurrency}", {"bot": [], "bare": [], "ratio": []})
                    for name, ms in zip(("cpu serving", "cpu workers", "cpu bare"), used, strict=True):
                        row.setdefault(name, []).append(ms)
                    row["bot"].append(p99(mine))
                    row["bare"].append(p99(base))
                    row["ratio"].append(round(p99(mine) / p99(base), 2))
            if not PAUSE_WORK and not AGAINST_ITSELF:
                drained.append(drain(url))  # the bursts below measure an answer's time, not the queue before it
                e2e.append(end_to_end(ours, fake))
        print(json.dumps(summary(figures, e2e, drained, settings), indent=2))
    finally:
        stop([*servers, fake_process, answers_process])


def first_prompt(ours: BotUnderTest, fake: RemoteSlack) -> dict[str, Any]:
    """The first question of a questionnaire; after one click, a stale step that changes nothing."""
    ours.command("new Globex", settle=False, channel="C0ACME", channel_name="acme-patching")
    web = WebClient(token=TOKEN, base_url=fake.url)
    for _ in range(100):
        dm = [
            m
            for m in web.conversations_history(channel="DUTECH")["messages"]
            if m.get("blocks") and any(b.get("type") == "actions" for b in m["blocks"])
        ]
        if dm:
            break
        time.sleep(0.1)
    ours.click(dm[0], "pp.recommended", settle=False)
    return dm[0]


def summary(
    figures: dict[str, dict[str, list[float]]], e2e: list[float], drained: list[float], settings: Settings
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "runs": RUNS,
        "worker processes": settings.worker_process_count,
        "seconds for the work of a run's load rounds to finish after them": drained,
        "show end to end, burst of 50, p99 ms per run": e2e,
    }
    for key, row in figures.items():
        out[key] = {
            "p99 ms, bot (median, min-max)": [statistics.median(row["bot"]), min(row["bot"]), max(row["bot"])],
            "p99 ms, bare (median, min-max)": [statistics.median(row["bare"]), min(row["bare"]), max(row["bare"])],
            "ratio per run": row["ratio"],
            "CPU ms per request: serving process, worker processes, bare app (medians)": [
                round(statistics.median(row[name]), 3) for name in ("cpu serving", "cpu workers", "cpu bare")
            ],
        }
    return out


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
