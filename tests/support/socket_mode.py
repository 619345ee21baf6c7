"""A local Socket Mode endpoint speaking Slack's protocol: the URL apps.connections.open hands out, `hello` on
connect, envelopes for slash commands, interactivity and events, acks by `envelope_id`, and a `disconnect`
that asks the client to reconnect. A driver sends the same payloads the HTTP tests sign, as envelopes."""

from __future__ import annotations

import json
import threading
import uuid
from typing import Any
from urllib.parse import parse_qsl

from websockets.exceptions import ConnectionClosed
from websockets.sync.server import ServerConnection, serve

from tests.support.slack_driver import BotUnderTest, Response


class SocketModeServer:
    """Slack's side of Socket Mode, on loopback."""

    def __init__(self) -> None:
        self._server = serve(self._connected, "127.0.0.1", 0)
        self.url = f"ws://127.0.0.1:{self._server.socket.getsockname()[1]}/link/?ticket=test"
        self._cond = threading.Condition()
        self._current: ServerConnection | None = None
        self.connections = 0
        self.acks: dict[str, dict[str, Any]] = {}
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self._server.shutdown()

    def _connected(self, connection: ServerConnection) -> None:
        connection.send(
            json.dumps(
                {
                    "type": "hello",
                    "num_connections": 1,
                    "debug_info": {"host": "applink-test", "approximate_connection_time": 18060},
                    "connection_info": {"app_id": "A1"},
                }
            )
        )
        with self._cond:
            self._current = connection
            self.connections += 1
            self._cond.notify_all()
        try:
            for message in connection:
                ack = json.loads(message)
                with self._cond:
                    self.acks[ack["envelope_id"]] = ack
                    self._cond.notify_all()
        except ConnectionClosed:  # the client went away without a close frame (a stop, a refresh)
            pass

    def wait_connected(self, count: int = 1, timeout: float = 20.0) -> None:
        with self._cond:
            assert self._cond.wait_for(lambda: self.connections >= count, timeout), "the bot never connected"

    def send(self, kind: str, payload: dict[str, Any], responds: bool, timeout: float = 10.0) -> dict[str, Any]:
        """Deliver one envelope and wait for its ack."""
        envelope_id = str(uuid.uuid4())
        envelope = {"envelope_id": envelope_id, "type": kind, "payload": payload, "accepts_response_payload": responds}
        if kind == "events_api":
            envelope.update(retry_attempt=0, retry_reason="")
        with self._cond:
            assert self._current is not None, "no connection"
            self._current.send(json.dumps(envelope))
            assert self._cond.wait_for(lambda: envelope_id in self.acks, timeout), f"no ack for {kind}"
            return self.acks.pop(envelope_id)

    def disconnect(self) -> None:
        """Ask the client to reconnect, as Slack does every few hours ("refresh_requested")."""
        with self._cond:
            assert self._current is not None
            message = {"type": "disconnect", "reason": "refresh_requested", "debug_info": {"host": "applink-test"}}
            self._current.send(json.dumps(message))


class SocketModeDriver(BotUnderTest):
    """BotUnderTest's payloads (commands, clicks, DMs, forms), delivered as Socket Mode envelopes."""

    def __init__(self, fake, server: SocketModeServer) -> None:  # type: ignore[no-untyped-def]
        import itertools

        self.fake, self.server, self._ids = fake, server, itertools.count(1)

    def settle(self) -> None:  # the bot runs in its own process; callers wait for what they expect to see
        pass

    def post(self, body: str, content_type: str, **_headers: Any) -> Response:
        if content_type == "application/json":
            ack = self.server.send("events_api", json.loads(body), responds=False)
        else:
            fields = dict(parse_qsl(body))
            if "payload" in fields:
                payload = json.loads(fields["payload"])
                responds = payload["type"] in {"view_submission", "block_suggestion"}
                ack = self.server.send("interactive", payload, responds=responds)
            else:
                ack = self.server.send("slash_commands", fields, responds=True)
        answer = ack.get("payload")
        return Response(200, json.dumps(answer) if answer else "")
