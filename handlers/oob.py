"""Out-of-band reviews and exceptions in Slack: the checklist posts, the status buttons and the forms."""

from __future__ import annotations

import json
import logging
import re
from datetime import date
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.commands import Command
from bot.core import Core
from bot.oob import Moved, ReviewView
from bot.patch_exceptions import ExceptionView
from bot.views import Notice
from handlers.after_ack import AfterAck
from handlers.blocks import notice_message
from handlers.editors import Editors
from handlers.oob_blocks import (
    EXCEPTION_FORM,
    MITIGATION_FORM,
    OOB_FORM,
    exception_form,
    exception_message,
    mitigation_form,
    review_message,
    step_reply,
)
from handlers.people import open_dm, payload_actor

log = logging.getLogger(__name__)
_SIMPLE_STEP = re.compile(r"^pp\.oob\.(triaged|testing|deployed|not_affected)$")


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
    field = values.get(block_id, {}).get("value") or {}
    return field.get("value") or (field.get("selected_option") or {}).get("value") or ""


def register(app: App, core: Core, editors: Editors, later: AfterAck) -> None:
    def refuse(client: WebClient, body: dict[str, Any]) -> bool:
        if editors.is_editor(body["user"]["id"]):
            return False
        client.chat_postEphemeral(
            channel=body["channel"]["id"], user=body["user"]["id"], **notice_message(core.refusal("change")).as_kwargs()
        )
        return True

    def show_moved(client: WebClient, moved: Moved | Notice, channel: str, ts: str, user: str) -> None:
        if isinstance(moved, Notice):
            client.chat_postEphemeral(channel=channel, user=user, **notice_message(moved).as_kwargs())
            return
        client.chat_update(channel=channel, ts=ts, **review_message(moved.view).as_kwargs())
        if not moved.changed:
            notice = Notice("That step was already recorded, or the review has moved on; nothing changed.")
            client.chat_postEphemeral(channel=channel, user=user, **notice_message(notice).as_kwargs())
            return
        client.chat_postMessage(channel=channel, thread_ts=ts, **step_reply(moved.view, user).as_kwargs())
        core.on_plan_changed()

    @app.action(_SIMPLE_STEP)
    @later.listener
    def step(body: dict[str, Any], action: dict[str, Any], client: WebClient) -> None:
        if refuse(client, body):
            return
        review_id, step_no, status = action["value"].split("|")
        actor = payload_actor(client, body)
        moved = core.reviews.move(actor, int(review_id), int(step_no), status)
        show_moved(client, moved, body["channel"]["id"], body["message"]["ts"], body["user"]["id"])

    @app.action("pp.oob.mitigated")
    @later.listener
    def mitigated(body: dict[str, Any], action: dict[str, Any], client: WebClient) -> None:
        if refuse(client, body):
            return
        review_id, step_no, _ = action["value"].split("|")
        form = mitigation_form(int(review_id), int(step_no), body["channel"]["id"], body["message"]["ts"])
        client.views_open(trigger_id=body["trigger_id"], view=form)

    @app.action("pp.oob.exception")
    @later.listener
    def exception(body: dict[str, Any], action: dict[str, Any], client: WebClient) -> None:
        if refuse(client, body):
            return
        form = core.exceptions.form(review_id=int(action["value"].split("|")[0]))
        if isinstance(form, Notice):
            client.chat_postEphemeral(
                channel=body["channel"]["id"], user=body["user"]["id"], **notice_message(form).as_kwargs()
            )
            return
        view = exception_form(form, body["channel"]["id"], body["message"]["ts"])
        client.views_open(trigger_id=body["trigger_id"], view=view)

    @app.view(MITIGATION_FORM)
    def mitigation(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient) -> None:
        meta = json.loads(view["private_metadata"])
        values = view["state"]["values"]
        user = body["user"]
        actor = payload_actor(client, body)
        result = core.reviews.mitigate(
            actor, meta["r"], meta["s"], _typed(values, "what"), _selected_date(values, "remove_by")
        )
        if _closed(ack, result):
            later.run(show_moved, client, result, meta["c"], meta["t"], user["id"])

    @app.view(OOB_FORM)
    def opened(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient) -> None:
        values = view["state"]["values"]
        title = _typed(values, "title").strip()
        if not title:
            ack(response_action="errors", errors={"title": "Name the patch, advisory or CVE."})
            return
        ack()
        later.run(
            open_reviews, body, f"{_typed(values, 'client')} {title} {_typed(values, 'severity') or 'critical'}", client
        )

    def open_reviews(body: dict[str, Any], text: str, client: WebClient) -> None:
        user = body["user"]
        actor = payload_actor(client, body, editors)
        outcome = core.command(actor, Command("oob", text))
        notices = list(outcome.replies) + post_reviews(client, core, outcome.reviews)
        dm = open_dm(client, user["id"])
        for notice in notices:
            client.chat_postMessage(channel=dm, **notice_message(notice).as_kwargs())
        core.on_plan_changed()

    @app.view(EXCEPTION_FORM)
    def recorded(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient) -> None:
        meta = json.loads(view["private_metadata"])
        values = view["state"]["values"]
        user = body["user"]
        actor = payload_actor(client, body)
        fields = {k: _typed(values, k) for k in ("what", "reason", "controls", "approver", "second_approver")}
        review = (meta["r"], meta["s"]) if meta.get("r") is not None else None
        result = core.exceptions.record(
            actor, meta["c"], fields, _selected_date(values, "expires"), f"view:{view['id']}", review
        )
        if _closed(ack, result):
            later.run(say_exception, client, core, result, user["id"], meta)


def say_exception(client: WebClient, core: Core, result: ExceptionView, user: str, meta: dict[str, Any]) -> None:
    """The exception in the client's channel, and its review's checklist brought up to date."""
    if not result.just_recorded:
        return
    if result.channel_id:
        client.chat_postMessage(channel=result.channel_id, **exception_message(result, user).as_kwargs())
    if result.review_id is not None and meta.get("ch") and meta.get("t"):
        review = core.reviews.view(result.review_id)
        if review is not None:
            client.chat_update(channel=meta["ch"], ts=meta["t"], **review_message(review).as_kwargs())
            client.chat_postMessage(channel=meta["ch"], thread_ts=meta["t"], **step_reply(review, user).as_kwargs())
    core.on_plan_changed()
