"""The /patchpolicy slash command: ack within 3 seconds, then do the work."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.clients import ClientNameError, clean_name
from bot.commands import DM_COMMANDS, parse_command
from bot.core import Core
from bot.escaping import mrkdwn
from bot.questionnaire import Actor
from handlers.blocks import render
from handlers.deliver import deliver
from handlers.directory import SlackDirectory


def register(app: App, core: Core) -> None:
    @app.command("/patchpolicy")
    def patchpolicy(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        cmd = parse_command(body.get("text", ""))
        actor = Actor(body["user_id"], body.get("user_name") or body["user_id"])
        if cmd.name not in DM_COMMANDS:
            outcome = core.command(actor, cmd)
            messages = [render(reply).as_kwargs() for reply in outcome.replies]
            ack(text="\n".join(m["text"] for m in messages), blocks=[b for m in messages for b in m["blocks"]])
            return
        if cmd.name == "new":
            try:
                name = clean_name(cmd.args)
            except ClientNameError as err:
                ack(text=mrkdwn(str(err)))
                return
            ack(text=f"I've sent you a DM to write {mrkdwn(name)}'s patch policy.")
        else:
            ack(text="I've sent you a DM to pick up where you left off.")
        person = SlackDirectory(client).user(actor.id) or {}
        actor = Actor(actor.id, person.get("name") or actor.name, person.get("tz"))
        channel_id = body.get("channel_id", "")
        context = {}
        if channel_id[:1] in {"C", "G"}:
            context["channel"] = {"id": channel_id, "name": body.get("channel_name") or channel_id}
        dm = client.conversations_open(users=actor.id)["channel"]["id"]
        deliver(client, core.questionnaire, core.command(actor, cmd, context), dm)
