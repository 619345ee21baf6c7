"""Reminders in Slack: posting them (with metadata that proves a post happened) and the close check-in."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.models.blocks import (
    ActionsBlock,
    ButtonElement,
    InputBlock,
    MarkdownTextObject,
    PlainTextInputElement,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot.core import Core
from bot.exceptions.service import ExceptionReminderView
from bot.feeds.views import KevProposal, KevQuestion, TuesdayDigest
from bot.kernel.durations import describe_duration, parse_duration
from bot.kernel.escaping import mrkdwn, truncate
from bot.kernel.views import Notice, ShowView
from bot.oob.views import ReviewOpened, ReviewReminderView
from bot.patchdata.service import DigestView
from bot.reporting.checkins import CheckinResult
from bot.reporting.policy_reviews import ReviewDue
from bot.reporting.reports import ReportPost
from bot.scheduling.ledger import ReminderView
from bot.sop.render import environment
from handlers.audit_blocks import report_messages, review_due_message
from handlers.blocks import Message, notice_message, your_time
from handlers.device_blocks import digest_message
from handlers.feed_blocks import proposal_message, question_message, tuesday_message
from handlers.forms import CheckinFailures
from handlers.ids import Action, Form
from handlers.kit import SlackKit
from handlers.membership import ensure_member
from handlers.oob_blocks import exception_reminder_message, review_message, review_reminder_message
from handlers.people import open_dm, payload_actor
from handlers.replies import Replies
from handlers.sop_blocks import chunk_text, show_message

log = logging.getLogger(__name__)
EVENT_TYPE = "patchpolicy_reminder"  # reports and policy reviews carry their own event types


def reminder_message(view: ReminderView) -> Message:
    lead = describe_duration(parse_duration(view.kind.split(":", 1)[1])) if view.kind.startswith("lead:") else ""
    text = (
        environment("mrkdwn")
        .get_template("messages/reminder.j2")
        .render(
            view=view,
            lead=lead,
            reader_start=your_time(view.start, view.local_start),
            reader_end=your_time(view.end, view.local_end),
        )
        .strip()
    )
    ref = str(view.reminder_id)
    if view.kind == "chase":
        buttons = [
            ButtonElement(
                text="Show the SOP's windows", action_id=Action.REMINDER_SHOW, value=f"{view.client_id}|windows"
            )
        ]
    elif view.checkin:
        buttons = [
            ButtonElement(text="All good", action_id=Action.CHECKIN_OK, value=ref, style="primary"),
            ButtonElement(text="Report failures", action_id=Action.CHECKIN_FAIL, value=ref, style="danger"),
        ]
    else:
        buttons = [
            ButtonElement(
                text="Show the SOP's windows", action_id=Action.REMINDER_SHOW, value=f"{view.client_id}|windows"
            )
        ]
    fallback = f"{view.client_name} · {view.group}: patch window {view.local_start}"
    return Message(
        mrkdwn(fallback),
        [
            SectionBlock(text=MarkdownTextObject(text=truncate(text, 2900))),
            ActionsBlock(block_id="reminder", elements=buttons),
        ],
    )


class SlackPoster:
    """Posts reminders to the client's channel (joining it again if the bot was removed); the core retries what
    fails."""

    def __init__(self, client: WebClient) -> None:
        self.client = client

    def post(self, view: Any) -> tuple[str, str]:
        kind = {ReportPost: "patchpolicy_report", ReviewDue: "patchpolicy_review"}.get(type(view), EVENT_TYPE)
        metadata = {"event_type": kind, "event_payload": {"reminder_id": view.reminder_id}}
        channel = self._channel(view)
        chart = self._upload_chart(view) if isinstance(view, ReportPost) else None
        head, *rest = self._messages(view, chart)
        try:
            response = self._post_head(channel, metadata, head)
        except SlackApiError as err:  # Slack may not have processed the chart yet: post without it, chart below
            if chart is None or err.response.get("error") != "invalid_blocks":
                raise
            log.warning("report chart not shown in the post (%s); it goes in the thread", err.response.get("error"))
            head, *rest = self._messages(view, None)
            response = self._post_head(channel, metadata, head)
            chart = None
        for more in rest:  # what does not fit in one message goes on in its thread
            self.client.chat_postMessage(channel=response["channel"], thread_ts=response["ts"], **more.as_kwargs())
        if isinstance(view, ReportPost):  # the printable report in the thread; the post above is what counts
            self._report_files(view, response["channel"], response["ts"], with_chart=chart is None)
        return response["channel"], response["ts"]

    def _post_head(self, channel: str, metadata: dict[str, Any], head: Message) -> Any:
        try:
            return self.client.chat_postMessage(channel=channel, metadata=metadata, **head.as_kwargs())
        except SlackApiError as err:
            if err.response.get("error") != "not_in_channel" or not ensure_member(self.client, channel).ok:
                raise
            return self.client.chat_postMessage(channel=channel, metadata=metadata, **head.as_kwargs())

    def _upload_chart(self, view: ReportPost) -> str | None:
        """The headline chart as a PNG the bot alone holds, shown by the post's image block; None without one."""
        picture = view.report.figures.headline_png() if view.report.figures else None
        if picture is None:
            return None
        try:
            uploaded = self.client.files_upload_v2(
                content=picture, filename=view.report.filename.replace(".html", ".png"), title=view.report.title
            )
        except SlackApiError as err:
            log.warning("report chart for %s not uploaded: %s", view.report.client_name, err.response.get("error"))
            return None
        return uploaded["file"]["id"]

    def _report_files(self, view: ReportPost, channel: str, ts: str, with_chart: bool) -> None:
        """The printable report (and the chart, when the post could not show it) in the post's thread."""
        report = view.report
        uploads = [{"content": report.html(), "filename": report.filename, "title": report.title}]
        picture = report.figures.headline_png() if with_chart and report.figures else None
        if picture is not None:
            uploads.append({"content": picture, "filename": report.filename.replace(".html", ".png")})
        try:
            self.client.files_upload_v2(channel=channel, thread_ts=ts, file_uploads=uploads)
        except SlackApiError as err:
            log.warning("report file for %s not uploaded: %s", report.client_name, err.response.get("error"))

    def find_posted(self, view: Any, since: datetime) -> tuple[str, str] | None:
        """The reminder's message if an earlier claim posted it (its metadata says so); the bot must be in the
        channel to read it, so it joins first (or the claim waits, with the reason logged)."""
        channel = self._channel(view)
        access = ensure_member(self.client, channel)
        if not access.ok:
            raise RuntimeError(f"can't check {channel} for an earlier post: {access.problem}")
        history = self.client.conversations_history(
            channel=channel, oldest=f"{since.timestamp() - 60:.6f}", include_all_metadata=True, limit=200
        )
        for message in history.get("messages", []):
            payload = (message.get("metadata") or {}).get("event_payload") or {}
            if payload.get("reminder_id") == view.reminder_id:
                return channel, message["ts"]
        return None

    def _channel(self, view: Any) -> str:
        if isinstance(view, ReviewReminderView | ReviewDue) and view.dm_user:
            return open_dm(self.client, view.dm_user)
        if isinstance(view, ReminderView) and view.kind == "chase" and view.owner_ids:
            return open_dm(self.client, view.owner_ids[0])
        if isinstance(view, KevQuestion):
            return open_dm(self.client, view.owner_id)
        return view.channel_id

    @staticmethod
    def _messages(view: Any, chart: str | None = None) -> list[Message]:
        if isinstance(view, ReportPost):
            return report_messages(view.report, chart)
        if isinstance(view, ReviewDue):
            return [review_due_message(view)]
        if isinstance(view, ReviewReminderView):
            return [review_reminder_message(view)]
        if isinstance(view, ExceptionReminderView):
            return [exception_reminder_message(view)]
        if isinstance(view, DigestView):
            return [digest_message(view)]
        if isinstance(view, ReviewOpened):
            return [review_message(view.review)]
        if isinstance(view, TuesdayDigest):
            return [tuesday_message(view)]
        if isinstance(view, KevProposal):
            return [proposal_message(view)]
        if isinstance(view, KevQuestion):
            return [question_message(view)]
        return [reminder_message(view)]


def checkin_message(result: CheckinResult) -> Message:
    where = f"*{mrkdwn(result.client_name)} - {mrkdwn(result.group)} window closed.*"
    if result.status == "all_good":
        text = f":white_check_mark: {where} All good, reported by <@{result.reported_by}>."
    else:
        text = (
            f":warning: {where} Failures reported by <@{result.reported_by}>.\n"
            f"*Devices:* {mrkdwn(truncate(result.devices, 900)) or '-'}\n"
            f"*Updates:* {mrkdwn(truncate(result.updates, 900)) or '-'}\n"
            f"*Notes:* {mrkdwn(truncate(result.notes, 900)) or '-'}"
        )
    return Message(
        mrkdwn(f"{result.client_name} - {result.group}: check-in recorded"),
        [SectionBlock(text=MarkdownTextObject(text=truncate(text, 2900)))],
    )


def failures_form(reminder_id: int, channel: str, ts: str, response_url: str = "") -> View:
    """`response_url`: the click's, so the form's answer reaches the person who clicked."""

    def field(block_id: str, label: str, optional: bool = False) -> InputBlock:
        return InputBlock(
            block_id=block_id,
            label=label,
            optional=optional,
            element=PlainTextInputElement(action_id="value", multiline=True, max_length=2000),
        )

    return View(
        type="modal",
        callback_id=Form.CHECKIN_FAILURES,
        title="Report failed patches",
        submit="Report",
        close="Cancel",
        private_metadata=CheckinFailures(
            reminder_id=reminder_id, channel=channel, ts=ts, response_url=response_url
        ).dump(),
        blocks=[
            field("devices", "Devices affected"),
            field("updates", "Which updates failed"),
            field("notes", "Notes", optional=True),
        ],
    )


class ReminderListeners:
    """The check-in buttons of a reminder, the failures form, and Show the SOP's windows."""

    def __init__(self, core: Core, kit: SlackKit) -> None:
        self.core = core
        self.kit = kit

    def say_result(
        self, client: WebClient, result: CheckinResult | Notice, channel: str, ts: str, replies: Replies
    ) -> None:
        if isinstance(result, Notice):
            replies.notices([result])
            return
        client.chat_update(channel=channel, ts=ts, **checkin_message(result).as_kwargs())
        if result.status == "failures" and result.changed and result.steps:
            blocks = [SectionBlock(text=MarkdownTextObject(text="*From the SOP: failed patches and rollback*"))]
            blocks += [SectionBlock(text=MarkdownTextObject(text=piece)) for piece in chunk_text(result.steps)][:40]
            client.chat_postMessage(
                channel=channel, thread_ts=ts, text="Failed patches and rollback", blocks=[b.to_dict() for b in blocks]
            )

    def all_good(self, body: dict[str, Any], action: dict[str, Any], client: WebClient, respond: Respond) -> None:
        actor = payload_actor(self.kit.editors, body)
        result = self.core.checkins.record(int(action["value"]), actor, "all_good")
        self.say_result(client, result, body["channel"]["id"], body["message"]["ts"], Replies(respond))

    def report(self, ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
        ack()
        channel, ts = body["channel"]["id"], body["message"]["ts"]
        form = failures_form(int(action["value"]), channel, ts, body.get("response_url", ""))
        self.kit.modals.open(body["trigger_id"], form, respond)

    def reported(self, body: dict[str, Any], view: dict[str, Any], client: WebClient) -> None:
        meta = CheckinFailures.load(view["private_metadata"])
        values = view["state"]["values"]

        def typed(block_id: str) -> str:
            return (values.get(block_id, {}).get("value", {}) or {}).get("value") or ""

        actor = payload_actor(self.kit.editors, body)
        result = self.core.checkins.record(
            meta.reminder_id, actor, "failures", typed("devices"), typed("updates"), typed("notes")
        )
        self.say_result(client, result, meta.channel, meta.ts, meta.replies(client, actor.id))

    def show(self, action: dict[str, Any], respond: Respond) -> None:
        client_id, _, section_id = action["value"].partition("|")
        view = self.core.reader.section(int(client_id), section_id)
        message = show_message(view) if isinstance(view, ShowView) else notice_message(view)
        Replies(respond).send([message])


def register(app: App, core: Core, kit: SlackKit) -> None:
    """Register each listener: a named method of ReminderListeners."""
    listeners = ReminderListeners(core, kit)
    app.action(Action.CHECKIN_OK)(kit.later.listener(listeners.all_good))
    app.action(Action.CHECKIN_FAIL)(listeners.report)
    app.view(Form.CHECKIN_FAILURES)(kit.later.listener(listeners.reported))
    app.action(Action.REMINDER_SHOW)(kit.later.listener(listeners.show))
