"""Device data in Block Kit: a client's status, and the daily digest of updates that passed their deadline."""

from __future__ import annotations

import json

from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement, ContextBlock, MarkdownTextObject, SectionBlock

from bot.kernel.escaping import mrkdwn, truncate
from bot.patchdata.service import EXCEPTION_BUTTONS, DigestView
from bot.patchdata.status import ClientStatus, status_text
from handlers.blocks import Message
from handlers.ids import Action
from handlers.sop_blocks import chunk_text


def status_message(view: ClientStatus) -> Message:
    text = status_text(view, "mrkdwn")
    blocks: list[Block] = [SectionBlock(text=MarkdownTextObject(text=part)) for part in chunk_text(text)]
    return Message(mrkdwn(f"{view.client_name}: where it stands"), blocks[:50])


def digest_message(view: DigestView) -> Message:
    head = (
        f":rotating_light: *{mrkdwn(view.client_name)}: {view.newly} device update"
        f"{'s' if view.newly != 1 else ''} passed {'their' if view.newly != 1 else 'its'} deadline* "
        f"(digest of {view.day}; {view.overdue} overdue in all)."
    )
    lines = [f"• *{mrkdwn(truncate(d.name, 80))}*: {mrkdwn(', '.join(d.updates))}" for d in view.devices]
    if view.more_devices:
        lines.append(f"…and {view.more_devices} more devices: `/patchpolicy status {mrkdwn(view.client_name)}`.")
    blocks: list[Block] = [SectionBlock(text=MarkdownTextObject(text=head))]
    blocks += [SectionBlock(text=MarkdownTextObject(text=part)) for part in chunk_text("\n".join(lines))]
    buttons = [
        ButtonElement(
            text=truncate(f"Exception for {d.name}", 75),
            action_id=Action.DEVICE_EXCEPTION.of(index),
            value=json.dumps({"c": view.client_id, "w": truncate(f"{d.name}: {', '.join(_kb(d.updates))}", 1900)}),
        )
        for index, d in enumerate(view.devices[:EXCEPTION_BUTTONS])
    ]
    if buttons:
        blocks.append(ActionsBlock(elements=buttons))
    if view.owner_ids:
        owners = ", ".join(f"<@{o}>" for o in view.owner_ids)
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=f"SOP owner: {owners}")]))
    return Message(mrkdwn(f"{view.client_name}: {view.newly} device updates passed their deadline"), blocks[:50])


def _kb(updates: tuple[str, ...]) -> list[str]:
    return [u.rsplit(" (", 1)[0] for u in updates]
