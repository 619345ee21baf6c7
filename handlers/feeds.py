"""The buttons of the threat feeds: open the review a KEV entry proposed (or mark the clients not affected),
and the Patch Tuesday digest's "Open out-of-band review". Editors only, as `/patchpolicy oob` is."""

from __future__ import annotations

import json
from typing import Any

from slack_bolt import App, Respond
from slack_sdk import WebClient

from bot.core import Core
from bot.kernel.escaping import mrkdwn
from handlers.feed_blocks import decided_message
from handlers.ids import Action
from handlers.kit import SlackKit
from handlers.people import payload_actor
from handlers.replies import Replies


class FeedListeners:
    def __init__(self, core: Core, kit: SlackKit) -> None:
        self.core = core
        self.kit = kit

    def open(self, body: dict[str, Any], action: dict[str, Any], client: WebClient, respond: Respond) -> None:
        self._decide(body, action, client, respond, open_it=True)

    def decline(self, body: dict[str, Any], action: dict[str, Any], client: WebClient, respond: Respond) -> None:
        self._decide(body, action, client, respond, open_it=False)

    def _decide(
        self, body: dict[str, Any], action: dict[str, Any], client: WebClient, respond: Respond, open_it: bool
    ) -> None:
        actor = payload_actor(self.kit.editors, body)
        if not actor.editor:
            Replies(respond).notices([self.core.refusal("change")])
            return
        value = _value(action)
        if value is None:
            return
        ids = [int(c) for c in value.get("c", []) if str(c).isdigit()]
        outcome, changed = self.core.feed_decisions.decide(actor, str(value.get("s", "")), ids, open_it)
        self._settle(body, client, respond, outcome, changed, actor.id)

    def digest_review(self, body: dict[str, Any], action: dict[str, Any], client: WebClient, respond: Respond) -> None:
        actor = payload_actor(self.kit.editors, body)
        if not actor.editor:
            Replies(respond).notices([self.core.refusal("change")])
            return
        value = _value(action)
        if value is None or not str(value.get("c", "")).isdigit():
            return
        outcome, changed = self.core.feed_decisions.open_from_digest(actor, str(value.get("s", "")), int(value["c"]))
        self._settle(body, client, respond, outcome, changed, actor.id)

    def _settle(
        self, body: dict[str, Any], client: WebClient, respond: Respond, outcome: str, changed: bool, user: str
    ) -> None:
        """A decision replaces the buttons with who decided what; a repeated click is told, changing nothing."""
        if not changed:
            respond(text=mrkdwn(outcome), response_type="ephemeral", replace_original=False)
            return
        self.core.plan_changed()  # the checklist of an opened review is due now
        message = decided_message(body.get("message") or {}, f"{mrkdwn(outcome)} (<@{user}>)")
        client.chat_update(channel=body["channel"]["id"], ts=body["message"]["ts"], **message.as_kwargs())


def _value(action: dict[str, Any]) -> dict[str, Any] | None:
    try:
        value = json.loads(action.get("value") or "")
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def register(app: App, core: Core, kit: SlackKit) -> None:
    listeners = FeedListeners(core, kit)
    app.action(Action.FEED_OPEN)(kit.later.listener(listeners.open))
    app.action(Action.FEED_DECLINE)(kit.later.listener(listeners.decline))
    app.action(Action.FEED_DIGEST_OOB)(kit.later.listener(listeners.digest_review))
