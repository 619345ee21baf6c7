"""The /patchpolicy slash command: ack within 3 seconds, then do the work."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.clients import ClientNameError, clean_name
from bot.commands import Command, needs_editor, parse_command
from bot.core import Core, split_from
from bot.escaping import mrkdwn
from bot.questionnaire import Actor
from bot.views import ExportFile, Notice, Outcome
from handlers.after_ack import AfterAck
from handlers.audit_blocks import report_message
from handlers.deliver import deliver
from handlers.editors import Editors
from handlers.oob import post_reviews
from handlers.oob_blocks import exception_form, oob_form
from handlers.people import channel_context, open_dm, slack_actor
from handlers.publish import post_version
from handlers.render import render


def register(app: App, core: Core, editors: Editors, later: AfterAck) -> None:
    @app.command("/patchpolicy")
    def patchpolicy(ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond) -> None:
        """Decide the ack here, on the request thread; the work runs after it, on the worker pool."""
        cmd = parse_command(body.get("text", ""))
        actor = Actor(body["user_id"], body.get("user_name") or body["user_id"])
        if needs_editor(cmd) and not editors.is_editor(actor.id):
            ack(**render(core.refusal(cmd.name if cmd.name in {"edit", "publish"} else "change")).as_kwargs())
        elif cmd.name in {"new", "resume", "edit", "sync"} or (cmd.name == "template" and needs_editor(cmd)):
            if _ack_dm(ack, cmd):
                later.run(_in_dm, body, client, core, cmd, actor)
        elif cmd.name == "publish":
            ack(text=f"Publishing {mrkdwn(cmd.args) or 'the SOP'}…")
            later.run(_publish, client, core, cmd, actor, respond)
        elif cmd.name == "oob" and needs_editor(cmd):
            ack(text="Opening the out-of-band review…" if cmd.args.strip() else None)
            later.run(_oob, body, client, core, cmd, actor, respond, editors)
        elif cmd.name == "exception":
            _exception(ack, body, client, core, cmd, actor, later)
        elif cmd.name == "report":
            ack(text="Preparing the report…")
            later.run(_report, client, core, cmd, actor, respond)
        elif cmd.name in {"export", "windows", "audit"} and (
            cmd.name in {"export", "audit"} or cmd.args.split()[-1:] == ["ics"]
        ):
            ack(text="Preparing the file…")
            later.run(_file, client, core, cmd, actor, respond)
        else:  # reading: ack at once, then answer through the response_url
            ack()
            later.run(_read, core, cmd, actor, respond)


def _publish(client: WebClient, core: Core, cmd: Command, actor: Actor, respond: Respond) -> None:
    outcome = core.command(slack_actor(client, actor.id, actor.name), cmd)
    notices = [post_version(client, core, outcome.published)] if outcome.published else outcome.replies
    _respond(respond, Outcome(list(notices)))


def _report(client: WebClient, core: Core, cmd: Command, actor: Actor, respond: Respond) -> None:
    outcome = core.command(actor, cmd)
    if outcome.report is None:
        _respond(respond, outcome)
        return
    client.files_upload_v2(
        channel=open_dm(client, actor.id),
        content=outcome.report.html(),
        filename=outcome.report.filename,
        title=outcome.report.title,
    )
    _respond(respond, Outcome([Notice(f"The printable report ({outcome.report.filename}) is in our DM.")]))
    respond(**report_message(outcome.report).as_kwargs(), response_type="ephemeral", replace_original=False)


def _file(client: WebClient, core: Core, cmd: Command, actor: Actor, respond: Respond) -> None:
    reply = core.command(actor, cmd).replies[0]
    if isinstance(reply, ExportFile):
        client.files_upload_v2(
            channel=open_dm(client, actor.id), content=reply.content, filename=reply.filename, title=reply.title
        )
        reply = Notice(f"I've sent {reply.filename} to our DM.", "success")
    _respond(respond, Outcome([reply]))


def _read(core: Core, cmd: Command, actor: Actor, respond: Respond) -> None:
    messages = [render(reply).as_kwargs() for reply in core.command(actor, cmd).replies]
    respond(
        text="\n".join(m["text"] for m in messages),
        blocks=[b for m in messages for b in m["blocks"]][:50],
        response_type="ephemeral",
        replace_original=False,
    )


def _ack_dm(ack: Ack, cmd: Command) -> bool:
    """new / template new / resume / edit / sync: say where the conversation goes (False: the name is bad)."""
    if cmd.name in {"new", "template"}:
        target, source = split_from(cmd.args) if cmd.name == "new" else (cmd.args.partition(" ")[2], None)
        try:
            name = clean_name(target)
        except ClientNameError as err:
            ack(text=mrkdwn(str(err)))
            return False
        what = f"the {mrkdwn(name)} template" if cmd.name == "template" else f"{mrkdwn(name)}'s patch policy"
        ack(text=f"I've sent you a DM to write {what}{f' from {mrkdwn(source)}' if source else ''}.")
    elif cmd.name == "edit":
        ack(text=f"I've sent you a DM to edit {mrkdwn(cmd.args) or 'the policy'}.")
    elif cmd.name == "sync":
        ack(text=f"I've sent you a DM to sync {mrkdwn(cmd.args) or 'the policy'} with its template.")
    else:
        ack(text="I've sent you a DM to pick up where you left off.")
    return True


def _in_dm(body: dict[str, Any], client: WebClient, core: Core, cmd: Command, actor: Actor) -> None:
    """Hold the conversation the command starts or resumes in the user's DM."""
    actor = slack_actor(client, actor.id, actor.name)
    context = channel_context(body.get("channel_id", ""), body.get("channel_name"))
    deliver(client, core.questionnaire, core.command(actor, cmd, context), open_dm(client, actor.id))


def _oob(
    body: dict[str, Any],
    client: WebClient,
    core: Core,
    cmd: Command,
    actor: Actor,
    respond: Respond,
    editors: Editors,
) -> None:
    """`oob <client|all> <title> [severity]` opens reviews; without arguments, the form."""
    if not cmd.args.strip():
        client.views_open(trigger_id=body["trigger_id"], view=oob_form(core.reviews.reviewable_clients()))
        return
    outcome = core.command(slack_actor(client, actor.id, actor.name, editors), cmd)
    _respond(respond, Outcome(list(outcome.replies) + post_reviews(client, core, outcome.reviews)))


def _exception(
    ack: Ack, body: dict[str, Any], client: WebClient, core: Core, cmd: Command, actor: Actor, later: AfterAck
) -> None:
    """`exception <client>`: the exception form, or why it can't open."""
    outcome = core.command(actor, cmd)
    if not outcome.forms:
        ack(**render(outcome.replies[0]).as_kwargs())
        return
    ack()
    later.run(client.views_open, trigger_id=body["trigger_id"], view=exception_form(outcome.forms[0]))


def _respond(respond: Respond, outcome: Outcome) -> None:
    for reply in outcome.replies:
        respond(**render(reply).as_kwargs(), response_type="ephemeral", replace_original=False)
