"""The benchmark's separate OS processes: the fake Slack, the bot as `patchpolicy serve` runs it, a bare Bolt app.

The app under test gets a CPU of its own; the load generator and the fake Slack share the other, as Slack's
servers would be elsewhere. Run as `python -m bench.processes fake|bare ...`; each serves until it is
interrupted or its standard input closes (so a benchmark that dies leaves nothing running).
"""

from __future__ import annotations

import gc
import logging
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

from bench.common import START

ROOT = Path(__file__).resolve().parent.parent


def cpus() -> tuple[set[int], set[int]]:
    """(the load generator's and the fake's CPUs, the app's CPUs): split when there are two or more."""
    have = sorted(os.sched_getaffinity(0))
    return ({have[0]}, {have[-1]}) if len(have) > 1 else (set(have), set(have))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def spawn(args: list[str], cpu: set[int], env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    """A child process pinned to `cpu`, its stdin held open (closing it stops a bench role)."""
    return subprocess.Popen(
        [sys.executable, *args],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        preexec_fn=lambda: os.sched_setaffinity(0, cpu),
    )


def cpu_seconds(pid: int) -> float:
    """The user and system CPU time a process has used so far (Linux /proc), in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait_until_up(url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=1).close()
            return
        except urllib.error.HTTPError:
            return  # it answers
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"{url} did not come up")


def _fake() -> None:
    from bot.kernel.clock import ManualClock
    from tests.support.fake_slack import FakeSlack

    fake = FakeSlack(ManualClock(START)).start()
    fake.add_user("UTECH", "Tess Tech", tz="America/New_York")
    for number in range(50):  # the team of the acknowledgement benchmark
        fake.add_user(f"UTEAM{number:02d}", f"Tech {number}", tz="Europe/London")
    fake.add_channel("C0ACME", "acme-patching")
    gc.freeze()  # as `patchpolicy serve` does: no full collection over start-up's objects mid-measurement
    print(fake.base, flush=True)
    _exit_when_stdin_closes()


def _bare(api_url: str, port: str, threads: str) -> None:
    """The baseline: the same server, thread count, logging and signature check; listeners that only ack."""
    from slack_bolt import App
    from slack_bolt.adapter.wsgi import SlackRequestHandler
    from slack_sdk import WebClient
    from waitress import serve

    from tests.support.fake_slack import TOKEN
    from tests.support.slack_driver import SIGNING_SECRET

    logging.basicConfig(level=logging.WARNING)
    app = App(client=WebClient(token=TOKEN, base_url=api_url), signing_secret=SIGNING_SECRET)

    @app.command("/patchpolicy")
    def only_ack(ack) -> None:  # type: ignore[no-untyped-def]
        ack()

    @app.action("pp.recommended")
    def only_ack_action(ack) -> None:  # type: ignore[no-untyped-def]
        ack()

    threading.Thread(target=_exit_when_stdin_closes, daemon=True).start()
    gc.freeze()  # the same treatment as the bot's processes get
    serve(SlackRequestHandler(app), host="127.0.0.1", port=int(port), threads=int(threads))


def _answers() -> None:
    """A response_url endpoint of its own, as Slack's would be elsewhere: when each answer arrived (monotonic
    clock, the same across processes on Linux), by its id; GET /arrived gives them, DELETE /arrived forgets."""
    import json

    from tests.support.loopback import KeptAliveHandler, LoopbackServer

    arrived: dict[str, float] = {}

    class Handler(KeptAliveHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            arrived.setdefault(self.path.rsplit("/", 1)[-1], time.monotonic())
            self._reply(b"ok")

        def do_GET(self) -> None:
            self._reply(json.dumps(arrived).encode())

        def do_DELETE(self) -> None:  # before a burst: the load rounds' thousands of answers are not polled
            arrived.clear()
            self._reply(b"ok")

        def _reply(self, body: bytes) -> None:
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = LoopbackServer(("127.0.0.1", 0), Handler)
    gc.freeze()
    print(f"http://127.0.0.1:{server.server_address[1]}", flush=True)
    threading.Thread(target=_exit_when_stdin_closes, daemon=True).start()
    server.serve_forever()


def _exit_when_stdin_closes() -> None:
    sys.stdin.read()
    os._exit(0)


if __name__ == "__main__":
    {"fake": _fake, "bare": _bare, "answers": _answers}[sys.argv[1]](*sys.argv[2:])
