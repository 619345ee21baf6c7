"""The App Home tab: your drafts, every client, and New policy (a modal asking for the client's name)."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient
from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    InputBlock,
    MarkdownTextObject,
    PlainTextInputElement,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot.core import Core
from bot.kernel.clients import ClientNameError, clean_name
from bot.kernel.escaping import mrkdwn, truncate
from bot.kernel.views import HomeView, ShowView
from handlers.blocks import encode, notice_message
from handlers.deliver import deliver
from handlers.ids import Action, Form
from handlers.kit import SlackKit
from handlers.people import open_dm, payload_actor, slack_actor
from handlers.sop_blocks import show_message


def home_view(view: HomeView, data_lines: dict[int, str] | None = None) -> View:
    blocks: list[Block] = [
        HeaderBlock(text="PatchPolicy"),
        SectionBlock(text=MarkdownTextObject(text="Written, living patch management SOPs for every client.")),
        ActionsBlock(elements=[ButtonElement(text="New policy", action_id=Action.HOME_NEW, style="primary")]),
        DividerBlock(),
        SectionBlock(text=MarkdownTextObject(text="*Your drafts*")),
    ]
    for draft_id, seq, name, progress in view.drafts:
        blocks.append(
            SectionBlock(
                text=MarkdownTextObject(text=f"*{mrkdwn(truncate(name, 80))}*\n{mrkdwn(progress)}"),
                accessory=ButtonElement(text="Resume", action_id=Action.HOME_RESUME, value=encode(draft_id, seq)),
            )
        )
    if not view.drafts:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text="No open drafts.")]))
    blocks += [DividerBlock(), SectionBlock(text=MarkdownTextObject(text="*Clients*"))]
    for client_id, row in zip(view.client_ids, view.clients.rows, strict=False):
        name, status, _owner, _published, next_window = row
        data = (data_lines or {}).get(client_id, "")
        detail = " · ".join(mrkdwn(truncate(part, 200)) for part in (status, next_window, data) if part)
        button = ButtonElement(text="Show", action_id=Action.HOME_SHOW, value=str(client_id))
        blocks.append(
            SectionBlock(
                text=MarkdownTextObject(text=f"*{mrkdwn(truncate(name, 80))}*\n{detail}"),
                accessory=button if "published" in status else None,
            )
        )
    if view.clients.footer:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=mrkdwn(view.clients.footer))]))
    return View(type="home", blocks=blocks[:100])


def new_policy_modal() -> View:
    return View(
        type="modal",
        callback_id=Form.NEW_POLICY,
        title="New patch policy",
        submit="Start",
        close="Cancel",
        blocks=[
            InputBlock(
                block_id="client",
                label="Client name",
                element=PlainTextInputElement(action_id="name", placeholder="e.g. Acme", max_length=80),
            )
        ],
    )


class HomeListeners:
    """The App Home tab, New policy and its form, Resume and Show."""

    def __init__(self, core: Core, kit: SlackKit) -> None:
        self.core = core
        self.kit = kit

    def home_opened(self, event: dict[str, Any], client: WebClient) -> None:
        if event.get("tab", "home") != "home":
            return
        actor = slack_actor(self.kit.editors, event["user"], event["user"])
        home = self.core.reader.home(actor)
        client.views_publish(
            user_id=event["user"], view=home_view(home, self.core.device_data.home_lines(home.client_ids))
        )

    def new_policy(self, ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        """The modal opens at once, in its own lane (the trigger lives 3 seconds); a refusal goes to the DM."""
        ack()
        if self.kit.editors.is_editor(body["user"]["id"]):
            self.kit.modals.open(body["trigger_id"], new_policy_modal())
        else:
            self.kit.later.run(self.refuse_in_dm, client, body["user"]["id"])

    def refuse_in_dm(self, client: WebClient, user_id: str) -> None:
        message = notice_message(self.core.refusal("create")).as_kwargs()
        client.chat_postMessage(channel=open_dm(client, user_id), **message)

    def submitted(self, ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient) -> None:
        typed = view["state"]["values"]["client"]["name"].get("value") or ""
        try:
            name = clean_name(typed)
        except ClientNameError as err:
            ack(response_action="errors", errors={"client": str(err)})
            return
        ack()
        self.kit.later.run(self.start, body, name, client)

    def start(self, body: dict[str, Any], name: str, client: WebClient) -> None:
        actor = payload_actor(self.kit.editors, body)
        deliver(
            client, self.core.questionnaire, self.core.questionnaire.start(actor, name, {}), open_dm(client, actor.id)
        )

    def resume(self, body: dict[str, Any], action: dict[str, Any], client: WebClient) -> None:
        user = body["user"]
        actor = payload_actor(self.kit.editors, body)
        draft_id = int(action["value"].split("|")[0])
        deliver(
            client,
            self.core.questionnaire,
            self.core.questionnaire.resume(actor, draft_id=draft_id),
            open_dm(client, user["id"]),
        )

    def show(self, body: dict[str, Any], action: dict[str, Any], client: WebClient) -> None:
        view = self.core.reader.section(int(action["value"]), "")
        message = show_message(view) if isinstance(view, ShowView) else notice_message(view)
        client.chat_postMessage(channel=open_dm(client, body["user"]["id"]), **message.as_kwargs())


def register(app: App, core: Core, kit: SlackKit) -> None:
    """Register each listener: a named method of HomeListeners."""
    listeners = HomeListeners(core, kit)
    app.event("app_home_opened")(kit.later.listener(listeners.home_opened))
    app.action(Action.HOME_NEW)(listeners.new_policy)
    app.view(Form.NEW_POLICY)(listeners.submitted)
    app.action(Action.HOME_RESUME)(kit.later.listener(listeners.resume))
    app.action(Action.HOME_SHOW)(kit.later.listener(listeners.show))
