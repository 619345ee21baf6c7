"""Acknowledgement latency over HTTP mode, against a minimal Bolt app that only acknowledges, in the same run.

Run: .venv/bin/python -m bench.bench_ack
"""

from __future__ import annotations

import json
import threading

from slack_bolt import App
from slack_sdk import WebClient
from waitress.server import create_server

from bench.common import environment, percentiles, seed_clients, timed
from tests.fake_slack import TOKEN
from tests.questionnaire_helpers import live_prompt
from tests.slack_driver import SIGNING_SECRET, BotUnderTest

RUNS = 400


def bare_bolt(fake_url: str) -> str:
    """The baseline: the same server and signature check, a listener that only acks."""
    app = App(client=WebClient(token=TOKEN, base_url=fake_url), signing_secret=SIGNING_SECRET)

    @app.command("/patchpolicy")
    def only_ack(ack) -> None:  # type: ignore[no-untyped-def]
        ack()

    @app.action("pp.recommended")
    def only_ack_action(ack) -> None:  # type: ignore[no-untyped-def]
        ack()

    from slack_bolt.adapter.wsgi import SlackRequestHandler

    server = create_server(SlackRequestHandler(app), host="127.0.0.1", port=0, threads=8)
    threading.Thread(target=server.run, daemon=True).start()
    return f"http://127.0.0.1:{server.effective_port}"


def main() -> None:
    fake, bot, _ = environment("ack")
    seed_clients(bot, 10)
    bare = BotUnderTest.__new__(BotUnderTest)  # the same request builder, pointed at the bare app
    bare.fake, bare.url, bare._ids = fake, bare_bolt(fake.url), bot._ids
    bot.command("new Globex", channel="C0ACME", channel_name="acme-patching")
    prompt = live_prompt(fake)
    results = {}
    for concurrency in (1, 50):
        for label, send in {
            "help": lambda target: target.command("help", settle=False),
            "show acme": lambda target: target.command("show acme", settle=False),
            "button (stale step)": lambda target: target.click(prompt, "pp.recommended", settle=False),
        }.items():
            ours = percentiles(timed(lambda s=send: s(bot), RUNS, concurrency))
            base = percentiles(timed(lambda s=send: s(bare), RUNS, concurrency))
            bot.settle()
            results[f"{label} @{concurrency}"] = {
                "patchpolicy": ours,
                "bare bolt": base,
                "p99 ratio": round(ours["p99"] / base["p99"], 2),
            }
    print(json.dumps(results, indent=2))
    bot.stop()
    fake.stop()


if __name__ == "__main__":
    main()
