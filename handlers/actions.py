"""Buttons and selects of the questionnaire. Each carries the draft and step it was made for."""

from __future__ import annotations

import re
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.core import Core
from bot.kernel.actor import Actor
from handlers.blocks import decode
from handlers.deliver import deliver
from handlers.ids import Action
from handlers.kit import SlackKit
from handlers.replies import Replies

_SIMPLE = {
    "recommended": "recommended",
    "back": "back",
    "skip": "skip",
    "pause": "pause",
    "rest": "rest",
    "summary": "summary",
    "finish": "finish",
    "resume": "resume",
}
_PRESSED = (
    Action.RECOMMENDED,
    Action.BACK,
    Action.SKIP,
    Action.PAUSE,
    Action.REST,
    Action.SUMMARY,
    Action.FINISH,
    Action.RESUME,
    Action.START_OVER,
    Action.SAVE,
    Action.SELECT,
    Action.EDIT,
    Action.CHANNEL,
    Action.USER,
    Action.USERS,
)
_PRESS = re.compile("^(" + "|".join(re.escape(a) for a in _PRESSED) + "|" + re.escape(Action.CHOICE) + r"\.\d+)$")


class QuestionnaireListeners:
    """The questionnaire's buttons and selects."""

    def __init__(self, core: Core, kit: SlackKit) -> None:
        self.core = core
        self.kit = kit

    def toggle(self, ack: Ack) -> None:
        ack()  # ticking a box changes nothing until Save selection

    def press(self, body: dict[str, Any], action: dict[str, Any], client: WebClient, respond: Respond) -> None:
        user = body["user"]
        name = user.get("username") or user.get("name") or user["id"]
        actor = Actor(user["id"], name, editor=self.kit.editors.is_editor(user["id"]))
        kind = action["action_id"].split(".", 1)[1]
        qn = self.core.questionnaire
        draft_id, seq, question_id, value = _reference(action)
        if kind == "startover":
            outcome = qn.start_over(actor, draft_id, seq)
        elif kind in _SIMPLE:
            outcome = qn.act(actor, draft_id, seq, _SIMPLE[kind], question_id or None)
        elif kind == "edit":
            outcome = qn.act(actor, draft_id, seq, "edit", question_id)
        else:
            outcome = qn.act(actor, draft_id, seq, "answer", question_id, _raw(kind, value, action, body))
        deliver(client, qn, outcome, body["channel"]["id"], replies=Replies(respond, client, actor.id))


def register(app: App, core: Core, kit: SlackKit) -> None:
    """Register each listener: a named method of QuestionnaireListeners."""
    listeners = QuestionnaireListeners(core, kit)
    app.action(_PRESS)(kit.later.listener(listeners.press))  # first: Bolt tries each listener's matcher in turn
    app.action(Action.CHECK)(listeners.toggle)


def _reference(action: dict[str, Any]) -> tuple[int, int, str, str]:
    """Selects carry the reference in the block id; buttons and options in their value."""
    if action.get("selected_option"):
        return decode(action["selected_option"]["value"])
    if action.get("value"):
        return decode(action["value"])
    return decode(action["block_id"].split("|", 1)[1])


def _raw(kind: str, value: str, action: dict[str, Any], body: dict[str, Any]) -> Any:
    if kind == "save":
        state = ((body.get("state") or {}).get("values") or {}).get("multi", {}).get(Action.CHECK, {})
        return [o["value"] for o in state.get("selected_options") or []]
    if kind == "channel":
        return action.get("selected_conversation") or ""
    if kind == "user":
        return action.get("selected_user") or ""
    if kind == "users":
        return " ".join(action.get("selected_users") or [])
    return value
