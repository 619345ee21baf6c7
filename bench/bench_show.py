"""`show` end to end (signed request in, the message back from the ack) with 10, 1,000 and 10,000 clients.

Run: .venv/bin/python -m bench.bench_show
"""

from __future__ import annotations

import json

from bench.common import environment, percentiles, seed_clients, timed

RUNS = 200


def main() -> None:
    results = {}
    for count in (10, 1_000, 10_000):
        fake, bot, _ = environment(f"show{count}")
        seed_clients(bot.db, count)
        for words in (
            "show acme",
            "show acme rebot",
            "show client 09999 oob" if count == 10_000 else "show acme oob",
            "show acmee",
        ):
            samples = timed(lambda w=words, b=bot: b.command(w), RUNS)  # until the reply reached Slack
            results[f"{count} clients: {words}"] = percentiles(samples)
        bot.stop()
        fake.stop()
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
