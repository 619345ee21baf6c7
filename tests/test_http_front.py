"""The HTTP front in front of Bolt: garbage gets a short answer and one log line, and idle or half-sent
connections cannot take the bot offline (issue 16, defects 5 and 6)."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import socket
import time
import urllib.error
import urllib.request

import pytest
from sqlmodel import select

from handlers.http_server import CONNECTION_LIMIT
from storage.models import Client
from tests.support.slack_driver import SIGNING_SECRET, message_text

BODIES = {
    "not UTF-8": (b"\xff\xfe\x00garbage\x80", "application/x-www-form-urlencoded"),
    "not JSON": (b"{not json", "application/json"),
    "a payload that is not JSON": (b"payload=%7Bnope", "application/x-www-form-urlencoded"),
}


def raw_post(url: str, body: bytes, content_type: str, signed: bool) -> tuple[int, str]:
    headers = {"Content-Type": content_type}
    if signed:
        ts = str(int(time.time()))
        headers["X-Slack-Request-Timestamp"] = ts
        digest = hmac.new(SIGNING_SECRET.encode(), f"v0:{ts}:".encode() + body, hashlib.sha256).hexdigest()
        headers["X-Slack-Signature"] = f"v0={digest}"  # as Slack signs: over the raw bytes
    request = urllib.request.Request(url + "/slack/events", data=body, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


@pytest.mark.parametrize("what", list(BODIES))
def test_garbage_gets_401_unsigned_and_400_signed_with_one_log_line_and_nothing_stored(bot, caplog, what):
    body, content_type = BODIES[what]
    with caplog.at_level(logging.INFO):
        unsigned = raw_post(bot.url, body, content_type, signed=False)
        signed = raw_post(bot.url, body, content_type, signed=True)
    assert unsigned[0] == 401 and json.loads(unsigned[1]) == {"ok": False, "error": "unauthorized"}
    assert signed[0] == 400 and json.loads(signed[1]) == {"ok": False, "error": "bad request"}
    refused = [r for r in caplog.records if r.name == "handlers.http_server"]
    assert len(refused) == 2 and all(r.exc_info is None for r in caplog.records), caplog.text
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text
    with bot.db.read() as session:
        assert session.exec(select(Client)).all() == []


def test_an_oversized_body_is_refused_before_it_is_read(bot):
    with socket.create_connection(("127.0.0.1", bot.server.effective_port), timeout=5) as sock:
        sock.sendall(b"POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Length: 50000000\r\n\r\n")
        answer = sock.recv(200).decode()
    assert answer.startswith("HTTP/1.1 413")


def test_many_idle_half_sent_connections_do_not_take_the_bot_offline(bot):
    idle = []
    try:
        for _ in range(120):  # more than waitress's default limit of 100
            sock = socket.create_connection(("127.0.0.1", bot.server.effective_port), timeout=5)
            sock.sendall(b"POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Len")  # and nothing more
            idle.append(sock)
        with urllib.request.urlopen(bot.url + "/healthz", timeout=5) as response:
            assert response.status == 200 and json.loads(response.read()) == {
                "status": "ok",
                "database": "ok",
                "integrity": "ok",
                "lease": "elsewhere",
                "scheduler": "standby",
            }
        assert bot.command("help").status == 200
    finally:
        for sock in idle:
            sock.close()
    assert CONNECTION_LIMIT >= 1000


def health(bot) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(bot.url + "/healthz", timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def test_healthz_is_503_when_this_process_holds_the_lease_and_its_scheduler_stopped(bot, clock):
    assert health(bot) == (
        200,
        {"status": "ok", "database": "ok", "integrity": "ok", "lease": "elsewhere", "scheduler": "standby"},
    )
    bot.scheduler.advance(clock.now())  # takes the lease and starts the scheduler
    assert health(bot) == (
        200,
        {"status": "ok", "database": "ok", "integrity": "ok", "lease": "held", "scheduler": "running"},
    )
    bot.scheduler.scheduler.shutdown()  # APScheduler stops under the service, as a dying thread would
    assert health(bot) == (
        503,
        {"status": "error", "database": "ok", "integrity": "ok", "lease": "held", "scheduler": "stopped"},
    )


def test_a_command_whose_text_says_payload_is_answered(bot, fake):
    """A slash command is a form without a `payload` field; Bolt's own parser takes any body holding the word
    for an interaction's and would lose the command, so the front parses each body once, itself."""
    response = bot.command("new payload partners")
    assert response.status == 200
    assert response.body == "I've sent you a DM to write payload partners's patch policy."
    assert "What is the client's name" in message_text(fake.posts("DUTECH")[-1])
