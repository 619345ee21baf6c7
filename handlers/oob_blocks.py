"""Block Kit for out-of-band reviews and exceptions: the checklist, its reminders, and the two forms."""

from __future__ import annotations

import re

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DatePickerElement,
    ExternalDataSelectElement,
    HeaderBlock,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    SectionBlock,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from bot.exceptions.service import ExceptionForm, ExceptionReminderView, ExceptionView
from bot.kernel.durations import describe_duration, parse_duration
from bot.kernel.escaping import mrkdwn, truncate
from bot.oob.rules import LABELS, SEVERITIES
from bot.oob.views import ReviewReminderView, ReviewView
from bot.sop.render import Safe, environment
from handlers.blocks import MAX_SECTION, Message, your_time
from handlers.forms import ExceptionRecord, Mitigation
from handlers.ids import Action, Form
from handlers.sop_blocks import chunk_text

ALL_CLIENTS = "all"
PROCEDURE_BLOCKS = 6
_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,20}$")


def mention(user_id: str) -> Safe:
    """A mention of a Slack user id; anything that is not one is shown as plain, escaped text."""
    return Safe(f"<@{user_id}>") if _USER_ID.match(user_id) else Safe(mrkdwn(user_id))


def review_message(view: ReviewView) -> Message:
    """The checklist in the client's channel: deadlines, history, the SOP's procedure, the next steps."""
    header = f"Out-of-band review: {view.title}"
    facts = (
        f"*Client:* {mrkdwn(view.client_name)}   *Severity:* {mrkdwn(view.severity.title())}   "
        f"*Status:* {mrkdwn(LABELS[view.status])}"
    )
    triage = (
        "done"
        if view.triaged
        else f"{mrkdwn(view.triage_due_local)} (your time: {your_time(view.triage_due, view.triage_due_local)})"
    )
    deadlines = (
        f"*Triage by:* {triage}\n"
        f"*Deploy by:* {mrkdwn(view.deploy_due_local)} (your time: {your_time(view.deploy_due, view.deploy_due_local)})"
    )
    history = "\n".join(
        f"• {mrkdwn(LABELS[s.status])} by {mrkdwn(s.actor_name)}, {mrkdwn(s.at_local)}"
        + (f": {mrkdwn(truncate(s.note, 300))}" if s.note else "")
        for s in view.steps[-15:]
    )
    blocks: list[Block] = [
        HeaderBlock(text=truncate(header, 150)),
        SectionBlock(text=MarkdownTextObject(text=facts)),
        *(
            [SectionBlock(text=MarkdownTextObject(text=truncate(mrkdwn(view.facts), MAX_SECTION)))]
            if view.facts
            else []
        ),
        SectionBlock(text=MarkdownTextObject(text=deadlines)),
        SectionBlock(text=MarkdownTextObject(text=truncate(f"*History*\n{history}", MAX_SECTION))),
    ]
    if view.mitigation:
        what, until = mrkdwn(truncate(view.mitigation, 1500)), mrkdwn(view.mitigation_remove_by_local)
        text = f"*Mitigation:* {what}\n*Remove by:* {until}"
        blocks.append(SectionBlock(text=MarkdownTextObject(text=text)))
    if not view.closed and view.procedure:
        pieces = chunk_text(f"*From the SOP: out-of-band patches*\n{view.procedure}")[:PROCEDURE_BLOCKS]
        blocks += [SectionBlock(text=MarkdownTextObject(text=piece)) for piece in pieces]
    if view.next_statuses:
        buttons = [
            ButtonElement(
                text=_BUTTONS[status],
                action_id=Action.OOB_STEP.of(status),
                value=f"{view.review_id}|{view.step}|{status}",
                style="primary" if status == "deployed" else None,
            )
            for status in view.next_statuses
        ]
        blocks.append(ActionsBlock(block_id="oob", elements=buttons))
    else:
        blocks.append(
            ContextBlock(elements=[MarkdownTextObject(text="This review is closed; its reminders have stopped.")])
        )
    fallback = f"{view.client_name}: out-of-band review {view.title} ({LABELS[view.status]})"
    return Message(mrkdwn(fallback), blocks)


_BUTTONS = {
    "triaged": "Triaged",
    "testing": "Testing",
    "deployed": "Deployed",
    "mitigated": "Mitigated…",
    "exception": "Exception…",
    "not_affected": "Not affected",
}


def step_reply(view: ReviewView, actor_id: str) -> Message:
    """The thread reply recording one step."""
    step = view.steps[-1]
    text = f"*{mrkdwn(LABELS[step.status])}* by {mention(actor_id)}, {mrkdwn(step.at_local)}."
    if step.note:
        text += f"\n{mrkdwn(truncate(step.note, 1500))}"
    return Message(mrkdwn(f"{view.title}: {LABELS[step.status]}"), [SectionBlock(text=MarkdownTextObject(text=text))])


def review_reminder_message(view: ReviewReminderView) -> Message:
    review = view.review
    due = {"triage": review.triage_due, "deploy": review.deploy_due}.get(view.stage, review.deploy_due)
    due_local = {"triage": review.triage_due_local, "deploy": review.deploy_due_local}.get(
        view.stage, review.mitigation_remove_by_local
    )
    text = (
        environment("mrkdwn")
        .get_template("messages/oob_reminder.j2")
        .render(
            view=view,
            due_local=due_local,
            reader_due=your_time(due, due_local),
            status=LABELS[review.status],
            mention=mention,
        )
        .strip()
    )
    fallback = f"{review.client_name} · {review.title}: {view.stage} {view.moment.replace('-dm', '')}"
    return Message(mrkdwn(fallback), [SectionBlock(text=MarkdownTextObject(text=truncate(text, 2900)))])


def exception_reminder_message(view: ExceptionReminderView) -> Message:
    lead = view.kind.rsplit(":", 1)[-1]
    text = (
        environment("mrkdwn")
        .get_template("messages/exception_reminder.j2")
        .render(view=view, lead=describe_duration(parse_duration(lead)) if lead != "due" else "", mention=mention)
        .strip()
    )
    fallback = f"{view.exception.client_name}: exception for {view.exception.what}"
    return Message(mrkdwn(truncate(fallback, 300)), [SectionBlock(text=MarkdownTextObject(text=truncate(text, 2900)))])


def exception_message(view: ExceptionView, actor_id: str) -> Message:
    """The notice in the client's channel when an exception is recorded."""
    approvers = mrkdwn(view.approver) + (f" and {mrkdwn(view.second_approver)}" if view.second_approver else "")
    text = (
        f":memo: *{mrkdwn(view.client_name)}: exception recorded* by {mention(actor_id)}, until "
        f"{mrkdwn(view.expires_local)}.\n*Not patched:* {mrkdwn(truncate(view.what, 600))}\n"
        f"*Why:* {mrkdwn(truncate(view.reason, 600))}\n"
        f"*Compensating controls:* {mrkdwn(truncate(view.controls, 600))}\n"
        f"*Approved by:* {approvers}"
    )
    return Message(
        mrkdwn(f"{view.client_name}: exception recorded"), [SectionBlock(text=MarkdownTextObject(text=text))]
    )


def _input(
    block_id: str,
    label: str,
    multiline: bool = False,
    initial: str = "",
    hint: str | None = None,
    optional: bool = False,
) -> InputBlock:
    return InputBlock(
        block_id=block_id,
        label=label,
        optional=optional,
        hint=hint,
        element=PlainTextInputElement(
            action_id="value", multiline=multiline, max_length=2000, initial_value=initial[:2000] or None
        ),
    )


def client_options(clients: list[tuple[int, str]], typed: str) -> list[Option]:
    """The clients whose name holds what was typed (Slack shows at most 100 options), values by id."""
    folded = typed.strip().casefold()
    found = [
        Option(text=truncate(name, 75), value=f"c{client_id}")
        for client_id, name in clients
        if folded in name.casefold()
    ]
    everyone = [Option(text="All clients", value=ALL_CLIENTS)] if "all clients".startswith(folded) or not folded else []
    return (everyone + found)[:100]


def oob_form() -> View:
    """The modal for `/patchpolicy oob` without arguments: which clients (searched, any number), what, how severe."""
    severities = [Option(text=s.title(), value=s) for s in SEVERITIES]
    return View(
        type="modal",
        callback_id=Form.OOB_OPEN,
        title="Out-of-band review",
        submit="Open review",
        close="Cancel",
        blocks=[
            InputBlock(
                block_id="client",
                label="Client",
                element=ExternalDataSelectElement(
                    action_id=Action.OOB_CLIENT, placeholder="Type to find a client, or All clients", min_query_length=0
                ),
            ),
            _input("title", "Patch, advisory or CVE", hint="e.g. CVE-2026-1234 in FortiOS SSL-VPN"),
            InputBlock(
                block_id="severity",
                label="Severity",
                element=StaticSelectElement(action_id="value", options=severities, initial_option=severities[1]),
            ),
        ],
    )


def mitigation_form(review_id: int, step: int, channel: str, ts: str, response_url: str = "") -> View:
    """`response_url`: the click's, so the form's answer reaches the person wherever they clicked."""
    return View(
        type="modal",
        callback_id=Form.OOB_MITIGATE,
        title="Mitigated",
        submit="Record",
        close="Cancel",
        private_metadata=Mitigation(
            review_id=review_id, step=step, channel=channel, ts=ts, response_url=response_url
        ).dump(),
        blocks=[
            _input("what", "What mitigation is in place?", multiline=True),
            InputBlock(
                block_id="remove_by",
                label="Remove (or review) the mitigation by",
                element=DatePickerElement(action_id="value"),
            ),
        ],
    )


def exception_form(form: ExceptionForm, channel: str = "", ts: str = "", response_url: str = "") -> View:
    """`response_url`: the command's or click's, so the form's answer reaches the person."""
    meta = ExceptionRecord(
        client_id=form.client_id,
        review_id=form.review_id,
        step=form.review_step,
        channel=channel,
        ts=ts,
        response_url=response_url,
    )
    return View(
        type="modal",
        callback_id=Form.EXCEPTION,
        title="Patch exception",
        submit="Record",
        close="Cancel",
        private_metadata=meta.dump(),
        blocks=[
            SectionBlock(
                text=MarkdownTextObject(
                    text=f"*{mrkdwn(form.client_name)}*: exceptions may last up to {mrkdwn(form.max_length)}; "
                    f"longer needs a second approver ({mrkdwn(form.second_approver)})."
                )
            ),
            _input("what", "What is not patched (devices, update)?", multiline=True, initial=form.what),
            _input("reason", "Why can't it be patched?", multiline=True),
            _input("controls", "Compensating controls", multiline=True),
            _input("approver", "Approved by (name and role)", hint=f"The policy says: {form.approver}"),
            InputBlock(
                block_id="expires", label="Last day of the exception", element=DatePickerElement(action_id="value")
            ),
            _input(
                "second_approver",
                "Second approver (name and role)",
                optional=True,
                hint=f"Needed beyond {form.max_length}",
            ),
        ],
    )
