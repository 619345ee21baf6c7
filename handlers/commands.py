"""The /patchpolicy slash command: ack within 3 seconds, then do the work."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.commands import Ack as Kind
from bot.commands import Command, ack_of, needs_editor, parse_command, refusal_word, run
from bot.core import Core, split_from
from bot.exceptions.service import ExceptionForm
from bot.kernel.actor import Actor
from bot.kernel.clients import ClientNameError, clean_name
from bot.kernel.escaping import mrkdwn
from bot.kernel.views import ExportFile, Notice, Outcome
from bot.oob.views import ReviewView
from bot.patchdata.status import ClientStatus
from bot.reporting.reports import Report
from handlers.audit_blocks import report_messages
from handlers.deliver import deliver
from handlers.device_blocks import status_message
from handlers.kit import SlackKit
from handlers.oob import post_reviews
from handlers.oob_blocks import exception_form, oob_form
from handlers.people import channel_context, open_dm, slack_actor
from handlers.publish import post_version
from handlers.render import render
from handlers.replies import Replies


class CommandListeners:
    """The /patchpolicy slash command."""

    def __init__(self, core: Core, kit: SlackKit) -> None:
        self.core = core
        self.kit = kit

    def patchpolicy(self, ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond) -> None:
        """Decide the ack here, on the request thread, from the cache alone; the work runs after it."""
        later = self.kit.later
        cmd = parse_command(body.get("text", ""))
        user_id = body["user_id"]
        actor = Actor(user_id, body.get("user_name") or user_id, editor=self.kit.editors.is_editor(user_id))
        replies = Replies(respond, client, actor.id)
        kind = ack_of(cmd)
        if needs_editor(cmd) and not actor.editor:
            ack(**render(self.core.refusal(refusal_word(cmd))).as_kwargs())
        elif kind is Kind.DM:
            if _ack_dm(ack, cmd):
                later.run(_in_dm, body, client, self.core, self.kit, cmd, actor)
        elif kind is Kind.PUBLISH:
            ack(text=f"Publishing {mrkdwn(cmd.args) or 'the SOP'}…")
            later.run(_publish, client, self.core, self.kit, cmd, actor, replies)
        elif kind is Kind.FORM and cmd.name == "oob":
            ack()
            self.kit.modals.open(body["trigger_id"], oob_form(), respond)
        elif kind is Kind.FORM:
            _exception(ack, body, self.core, cmd, actor, self.kit, respond)
        elif kind is Kind.REVIEWS:
            ack(text="Opening the out-of-band review…")
            later.run(_oob, client, self.core, self.kit, cmd, actor, replies)
        elif kind is Kind.REPORT:
            ack(text="Preparing the report…")
            later.run(_report, client, self.core, cmd, actor, replies)
        elif kind is Kind.FILE:
            ack(text="Preparing the file…")
            later.run(_file, client, self.core, cmd, actor, replies)
        else:  # reading: ack at once, then answer through the response_url
            ack()
            later.run(_read, self.core, cmd, actor, replies)


def register(app: App, core: Core, kit: SlackKit) -> None:
    """Register each listener: a named method of CommandListeners."""
    listeners = CommandListeners(core, kit)
    app.command("/patchpolicy")(listeners.patchpolicy)


def _publish(client: WebClient, core: Core, kit: SlackKit, cmd: Command, actor: Actor, replies: Replies) -> None:
    outcome = run(core, slack_actor(kit.editors, actor.id, actor.name), cmd)
    notices = [post_version(client, core, outcome.published)] if outcome.published else outcome.replies
    _respond(replies, Outcome(list(notices)))


def _report(client: WebClient, core: Core, cmd: Command, actor: Actor, replies: Replies) -> None:
    outcome = run(core, actor, cmd)
    reports = outcome.attached(Report)
    if not reports:
        _respond(replies, outcome)
        return
    report = reports[0]
    client.files_upload_v2(
        channel=open_dm(client, actor.id), content=report.html(), filename=report.filename, title=report.title
    )
    note = render(Notice(f"The printable report ({report.filename}) is in our DM."))
    replies.send([note, *report_messages(report)])


def _file(client: WebClient, core: Core, cmd: Command, actor: Actor, replies: Replies) -> None:
    reply = run(core, actor, cmd).replies[0]
    if isinstance(reply, ExportFile):
        client.files_upload_v2(
            channel=open_dm(client, actor.id), content=reply.content, filename=reply.filename, title=reply.title
        )
        reply = Notice(f"I've sent {reply.filename} to our DM.", "success")
    _respond(replies, Outcome([reply]))


def _read(core: Core, cmd: Command, actor: Actor, replies: Replies) -> None:
    _respond(replies, run(core, actor, cmd))


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


def _in_dm(body: dict[str, Any], client: WebClient, core: Core, kit: SlackKit, cmd: Command, actor: Actor) -> None:
    """Hold the conversation the command starts or resumes in the user's DM."""
    actor = slack_actor(kit.editors, actor.id, actor.name)
    context = channel_context(body.get("channel_id", ""), body.get("channel_name"))
    deliver(client, core.questionnaire, run(core, actor, cmd, context), open_dm(client, actor.id))


def _oob(client: WebClient, core: Core, kit: SlackKit, cmd: Command, actor: Actor, replies: Replies) -> None:
    """`oob <client|all> <title> [severity]` opens reviews and posts their checklists."""
    outcome = run(core, slack_actor(kit.editors, actor.id, actor.name), cmd)
    _respond(replies, Outcome(list(outcome.replies) + post_reviews(client, core, outcome.attached(ReviewView))))


def _exception(
    ack: Ack, body: dict[str, Any], core: Core, cmd: Command, actor: Actor, kit: SlackKit, respond: Respond
) -> None:
    """`exception <client>`: the exception form (opened at once), or why it can't open."""
    outcome = run(core, actor, cmd)
    forms = outcome.attached(ExceptionForm)
    if not forms:
        ack(**render(outcome.replies[0]).as_kwargs())
        return
    ack()
    kit.modals.open(body["trigger_id"], exception_form(forms[0], response_url=body.get("response_url", "")), respond)


def _respond(replies: Replies, outcome: Outcome) -> None:
    """Everything the core said, merged into as few posts to the response_url as Slack's limits allow."""
    replies.send(
        [render(reply) for reply in outcome.replies] + [status_message(s) for s in outcome.attached(ClientStatus)]
    )
