"""Socket Mode, the default for a new Slack app: `patchpolicy serve` with SLACK_APP_TOKEN connects to the URL
apps.connections.open gives, answers envelopes by their ids, and reconnects when Slack asks it to; a
questionnaire runs through it end to end, across the reconnect."""

from __future__ import annotations

import pytest

from tests.support.bot_process import BotProcess, wait_until
from tests.support.fake_slack import APP_TOKEN
from tests.support.questionnaire import answer_count, live_prompt, question_id
from tests.support.socket_mode import SocketModeDriver, SocketModeServer

pytestmark = pytest.mark.slow  # a real process


def test_a_questionnaire_runs_over_socket_mode_across_a_reconnect(fake, tmp_path):
    server = SocketModeServer()
    fake.socket_url = server.url
    db_url = f"sqlite:///{tmp_path / 'socket.db'}"
    process = BotProcess(fake, db_url, tmp_path, SLACK_APP_TOKEN=APP_TOKEN, SLACK_SIGNING_SECRET="")
    try:
        server.wait_connected(1)
        slack = SocketModeDriver(fake, server)

        ack = slack.command("new Acme", channel="C0ACME", channel_name="acme-patching")
        assert ack.json()["text"] == "I've sent you a DM to write Acme's patch policy."
        wait_until(lambda: any(b.get("type") == "actions" for m in fake.posts("DUTECH") for b in m.get("blocks") or []))
        first = question_id(live_prompt(fake))

        assert slack.click(live_prompt(fake), "pp.recommended").body == ""  # acked empty, answered in the DM
        wait_until(lambda: answer_count(db_url) == 1)
        wait_until(lambda: question_id(live_prompt(fake)) != first)

        server.disconnect()  # Slack refreshes the connection; the client opens a new one
        server.wait_connected(2)
        assert len(fake.calls_to("apps.connections.open")) == 2

        second = question_id(live_prompt(fake))
        slack.dm("rest")  # a typed answer, as an Events API envelope, on the new connection
        wait_until(lambda: question_id(live_prompt(fake)) != second)
        wait_until(lambda: answer_count(db_url) >= 2)
        assert "Traceback" not in process.log()
    finally:
        status, seconds = process.terminate()
        server.stop()
    assert status == 0 and seconds < 10
