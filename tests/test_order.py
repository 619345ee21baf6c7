"""One person's requests run in the order they came (issue 16): Publish, then at once a `show` that reads what
Publish writes; the show sees the published SOP even though both were queued while Slack was stalled."""

from __future__ import annotations

import time

from tests.support.questionnaire import finish
from tests.support.slack_driver import message_text


def test_a_show_right_after_publish_sees_the_published_sop(bot, fake):
    finish(bot, fake)
    offer = fake.last_post("DUTECH")
    fake.hold.clear()  # Slack stalls: Publish's work waits on it, and a show could overtake it
    assert bot.click(offer, "pp.publish", settle=False).status == 200
    before = len(fake.responses)
    assert bot.command("show acme", settle=False).status == 200
    time.sleep(0.3)  # both queued; without the order the show would run now, beside the stalled publish
    assert len(fake.responses) == before
    fake.hold.set()
    bot.settle()
    shown = [r for r in fake.responses[before:] if "Acme" in message_text(r)]
    assert shown, fake.responses[before:]
    assert "has no published SOP yet" not in message_text(shown[-1])
    assert "v1" in message_text(shown[-1])


def test_another_persons_request_is_not_held_behind_it(bot, fake):
    finish(bot, fake)
    offer = fake.last_post("DUTECH")
    fake.hold.clear()
    assert bot.click(offer, "pp.publish", settle=False).status == 200
    time.sleep(0.2)
    assert bot.command("show acme", user="UOTHER", settle=False).status == 200
    deadline = time.monotonic() + 5
    while fake.waiting < 2 and time.monotonic() < deadline:  # the other person's show runs (and waits on Slack)
        time.sleep(0.01)
    assert fake.waiting >= 2
    fake.hold.set()
    bot.settle()
