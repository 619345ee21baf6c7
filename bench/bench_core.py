"""One questionnaire step (answer in, next question posted) and rendering one SOP.

Run: .venv/bin/python -m bench.bench_core
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

from bench.common import environment, percentiles
from bot.policy.model import Policy
from bot.sop.document import DocumentMeta, render_sop, to_html, to_markdown
from tests.support.policies import recommended_answers
from tests.support.questionnaire import live_prompt

RUNS = 200


def main() -> None:
    results = {}
    fake, bot, _ = environment("core")
    steps = []
    for round_ in range(4):
        bot.command(f"new Client {round_}", channel="C0ACME", channel_name="acme-patching")
        for _ in range(50):
            prompt = live_prompt(fake)
            if "Summary" in prompt["text"]:
                break
            begin = time.perf_counter()
            bot.click(prompt, "pp.recommended")  # returns when the next question has been posted
            steps.append((time.perf_counter() - begin) * 1000)
        bot.click(live_prompt(fake), "pp.pause")
    results["questionnaire step (button, next question posted)"] = percentiles(steps)
    typed = []
    bot.command("new Typed", channel="C0ACME", channel_name="acme-patching")
    for _ in range(RUNS // 4):
        begin = time.perf_counter()
        bot.dm("Acme")  # typed answer to the same question, then Back
        typed.append((time.perf_counter() - begin) * 1000)
        bot.click(live_prompt(fake), "pp.back")
    results["questionnaire step (typed DM answer)"] = percentiles(typed)
    bot.stop()
    fake.stop()

    policy = Policy(recommended_answers())
    now = datetime(2026, 11, 26, tzinfo=UTC)
    meta = DocumentMeta(1, now, "Tess Tech")
    for fmt in ("md", "mrkdwn"):
        samples = []
        for _ in range(RUNS):
            begin = time.perf_counter()
            render_sop(policy, meta, now, fmt)
            samples.append((time.perf_counter() - begin) * 1000)
        results[f"render SOP ({fmt})"] = percentiles(samples)
    samples = []
    for _ in range(RUNS):
        begin = time.perf_counter()
        to_html(render_sop(policy, meta, now, "md"))
        samples.append((time.perf_counter() - begin) * 1000)
    results["render SOP (HTML page)"] = percentiles(samples)
    results["SOP size (Markdown characters)"] = len(to_markdown(render_sop(policy, meta, now, "md")))
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
