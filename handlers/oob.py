"""Out-of-band reviews and exceptions in Slack: the checklist posts, the status buttons and the forms."""

from __future__ import annotations

import json
import logging
from datetime import date
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.core import Core
from bot.exceptions.service import ExceptionView
from bot.kernel.views import Notice
from bot.oob.views import Moved, ReviewView
from handlers.blocks import notice_message
from handlers.forms import ExceptionRecord, Mitigation
from handlers.ids import Action, Form
from handlers.kit import SlackKit
from handlers.oob_blocks import (
    ALL_CLIENTS,
    client_options,
    exception_form,
    exception_message,
    mitigation_form,
    review_message,
    step_reply,
)
from handlers.people import open_dm, payload_actor
from handlers.replies import Replies

log = logging.getLogger(__name__)
_SIMPLE_STEP = Action.OOB_STEP.family("triaged|testing|deployed|not_affected")


def post_reviews(client: WebClient, core: Core, views: list[ReviewView]) -> list[Notice]:
    """Post each new review's checklist in its client's channel and remember where; say what failed."""
    notices = []
    for view in views:
        if view.message_ts:
            continue  # already posted (the same review asked for again)
        if not view.channel_id:
            notices.append(Notice(f"{view.client_name}'s policy names no channel for the checklist.", "warning"))
            continue
        try:
            response = client.chat_postMessage(channel=view.channel_id, **review_message(view).as_kwargs())
        except SlackApiError as err:
            error = err.response.get("error", "error")
            log.warning("posting review %s failed: %s", view.review_id, error)
            notices.append(
                Notice(
                    f"I couldn't post {view.client_name}'s checklist ({error}); invite me to its channel.", "warning"
                )
            )
            continue
        core.reviews.record_post(view.review_id, response["channel"], response["ts"])
    return notices


def _selected_date(values: dict[str, Any], block_id: str) -> date | None:
    raw = (values.get(block_id, {}).get("value") or {}).get("selected_date")
    try:
        return date.fromisoformat(raw) if raw else None
    except ValueError:
        return None


def _closed(ack: Ack, result: object) -> bool:
    """Answer a form: a dict of errors is shown beside its fields (False); anything else closes it (True)."""
    if isinstance(result, dict):
        ack(response_action="errors", errors=result)
        return False
    ack()
    return True


def _typed(values: dict[str, Any], block_id: str) -> str:
    inputs = values.get(block_id, {})
    field = inputs.get("value") or inputs.get(Action.OOB_CLIENT) or {}
    return field.get("value") or (field.get("selected_option") or {}).get("value") or ""


class OobListeners:
    """Out-of-band review steps, the mitigation, exception and review forms, and the form's client search."""

    def __init__(self, core: Core, kit: SlackKit) -> None:
        self.core = core
        self.kit = kit

    def refuse(self, body: dict[str, Any], respond: Respond) -> bool:
        """Only editors move a review: anyone else is told so, through the click's response_url."""
        if self.kit.editors.is_editor(body["user"]["id"]):
            return False
        Replies(respond).notices([self.core.refusal("change")])
        return True

    def show_moved(
        self, client: WebClient, moved: Moved | Notice, channel: str, ts: str, user: str, replies: Replies | None
    ) -> None:
        if isinstance(moved, Notice):
            if replies is not None:
                replies.notices([moved])
            return
        client.chat_update(channel=channel, ts=ts, **review_message(moved.view).as_kwargs())
        if not moved.changed:
            if replies is not None:
                replies.notices(
                    [Notice("That step was already recorded, or the review has moved on; nothing changed.")]
                )
            return
        client.chat_postMessage(channel=channel, thread_ts=ts, **step_reply(moved.view, user).as_kwargs())
        self.core.plan_changed()

    def step(self, body: dict[str, Any], action: dict[str, Any], client: WebClient, respond: Respond) -> None:
        if self.refuse(body, respond):
            return
        review_id, step_no, status = action["value"].split("|")
        actor = payload_actor(self.kit.editors, body)
        moved = self.core.reviews.move(actor, int(review_id), int(step_no), status)
        self.show_moved(client, moved, body["channel"]["id"], body["message"]["ts"], actor.id, Replies(respond))

    def mitigated(self, ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
        ack()
        if self.refuse(body, respond):
            return
        review_id, step_no, _ = action["value"].split("|")
        channel, ts = body["channel"]["id"], body["message"]["ts"]
        self.kit.modals.open(
            body["trigger_id"],
            mitigation_form(int(review_id), int(step_no), channel, ts, body.get("response_url", "")),
            respond,
        )

    def exception(self, ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
        ack()
        if self.refuse(body, respond):
            return
        form = self.core.exceptions.form(review_id=int(action["value"].split("|")[0]))
        if isinstance(form, Notice):
            self.kit.later.run(Replies(respond).notices, [form])
            return
        view = exception_form(form, body["channel"]["id"], body["message"]["ts"], body.get("response_url", ""))
        self.kit.modals.open(body["trigger_id"], view, respond)

    def device_exception(self, ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
        """The overdue digest's Exception button: the form, filled in with the device and its updates."""
        ack()
        if self.refuse(body, respond):
            return
        value = json.loads(action["value"])
        form = self.core.exceptions.form(client_id=int(value["c"]), what=str(value["w"]))
        if isinstance(form, Notice):
            self.kit.later.run(Replies(respond).notices, [form])
            return
        view = exception_form(form, body["channel"]["id"], body["message"]["ts"], body.get("response_url", ""))
        self.kit.modals.open(body["trigger_id"], view, respond)

    def clients(self, ack: Ack, payload: dict[str, Any]) -> None:
        """The out-of-band form's client list, searched as the user types."""
        ack(
            options=[
                o.to_dict() for o in client_options(self.core.reviews.reviewable_clients(), payload.get("value", ""))
            ]
        )

    def mitigation(self, ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient) -> None:
        meta = Mitigation.load(view["private_metadata"])
        values = view["state"]["values"]
        actor = payload_actor(self.kit.editors, body)
        result = self.core.reviews.mitigate(
            actor, meta.review_id, meta.step, _typed(values, "what"), _selected_date(values, "remove_by")
        )
        if _closed(ack, result):
            self.kit.later.then(self.show_moved, client, result, meta.channel, meta.ts, actor.id, meta.replies())

    def opened(self, ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient) -> None:
        values = view["state"]["values"]
        title = _typed(values, "title").strip()
        if not title:
            ack(response_action="errors", errors={"title": "Name the patch, advisory or CVE."})
            return
        ack()
        self.kit.later.run(
            self.open_reviews, body, _typed(values, "client"), title, _typed(values, "severity") or "critical", client
        )

    def open_reviews(self, body: dict[str, Any], chosen: str, title: str, severity: str, client: WebClient) -> None:
        """The form's choice is `all` or a client's id (`c17`): names never travel through option values."""
        user = body["user"]
        actor = payload_actor(self.kit.editors, body)
        if chosen == ALL_CLIENTS:
            views, notices = self.core.reviews.open(actor, f"all {title} {severity}")
        else:
            views, notices = self.core.reviews.open(
                actor, f"{title} {severity}", client_id=int(chosen.lstrip("c") or 0)
            )
        notices = list(notices) + post_reviews(client, self.core, views)
        dm = open_dm(client, user["id"])
        for notice in notices:
            client.chat_postMessage(channel=dm, **notice_message(notice).as_kwargs())
        self.core.plan_changed()

    def recorded(self, ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient) -> None:
        meta = ExceptionRecord.load(view["private_metadata"])
        values = view["state"]["values"]
        user = body["user"]
        actor = payload_actor(self.kit.editors, body)
        fields = {k: _typed(values, k) for k in ("what", "reason", "controls", "approver", "second_approver")}
        review = (meta.review_id, meta.step) if meta.review_id is not None and meta.step is not None else None
        result = self.core.exceptions.record(
            actor, meta.client_id, fields, _selected_date(values, "expires"), f"view:{view['id']}", review
        )
        if _closed(ack, result):
            self.kit.later.then(say_exception, client, self.core, result, user["id"], meta)


def register(app: App, core: Core, kit: SlackKit) -> None:
    """Register each listener: a named method of OobListeners."""
    listeners = OobListeners(core, kit)
    app.action(_SIMPLE_STEP)(kit.later.listener(listeners.step))
    app.action(Action.OOB_MITIGATED)(listeners.mitigated)
    app.action(Action.OOB_EXCEPTION)(listeners.exception)
    app.action(Action.DEVICE_EXCEPTION.family(r"\d+"))(listeners.device_exception)
    app.options(Action.OOB_CLIENT)(listeners.clients)
    app.view(Form.OOB_MITIGATE)(listeners.mitigation)
    app.view(Form.OOB_OPEN)(listeners.opened)
    app.view(Form.EXCEPTION)(listeners.recorded)


def say_exception(client: WebClient, core: Core, result: ExceptionView, user: str, meta: ExceptionRecord) -> None:
    """The exception in the client's channel, and its review's checklist brought up to date."""
    if not result.just_recorded:
        return
    if result.channel_id:
        client.chat_postMessage(channel=result.channel_id, **exception_message(result, user).as_kwargs())
    if result.review_id is not None and meta.channel and meta.ts:
        review = core.reviews.view(result.review_id)
        if review is not None:
            client.chat_update(channel=meta.channel, ts=meta.ts, **review_message(review).as_kwargs())
            client.chat_postMessage(channel=meta.channel, thread_ts=meta.ts, **step_reply(review, user).as_kwargs())
    core.plan_changed()
