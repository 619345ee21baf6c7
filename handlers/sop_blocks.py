"""Block Kit for published SOPs: the overview, one section, tables, and long documents split to fit."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.kernel.escaping import mrkdwn, truncate
from bot.kernel.views import Overview, PublishOffer, ShowView, TableView, WindowLine
from handlers.blocks import MAX_SECTION, MESSAGE_TEXT_BUDGET, Message, as_sent, your_time
from handlers.ids import Action

MESSAGE_BLOCKS = 45
SHOW_BODY_LIMIT = 8_000
SHOWN_KEPT = 128  # `show` messages kept per process, by view


def chunk_text(text: str, limit: int = MAX_SECTION - 100) -> list[str]:
    """Split mrkdwn into pieces of at most `limit` characters, at line breaks where possible."""
    pieces: list[str] = []
    current = ""
    for line in text.split("\n"):
        while len(line) > limit:  # a single line longer than a block: cut it
            if current:
                pieces.append(current)
                current = ""
            pieces.append(line[:limit])
            line = line[limit:]
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            pieces.append(current)
            current = line
        else:
            current = candidate
    if current.strip():
        pieces.append(current)
    return [p for p in pieces if p.strip()] or ["_(empty)_"]


def pack(blocks: list[Block], fallback: str, sent: Sequence[dict[str, Any]] | None = None) -> list[Message]:
    """Group blocks into as many messages as Slack's block-count and size limits need (`sent`: the blocks as
    Slack gets them, when they are made already)."""
    messages: list[Message] = []
    current: list[Block] = []
    made: list[dict[str, Any]] = []
    size = 0
    for block, sent_block in zip(blocks, sent if sent is not None else as_sent(blocks), strict=True):
        weight = len(str(sent_block))
        if current and (len(current) >= MESSAGE_BLOCKS or size + weight > MESSAGE_TEXT_BUDGET):
            messages.append(Message(fallback, current, tuple(made)))
            current, made, size = [], [], 0
        current.append(block)
        made.append(sent_block)
        size += weight
    if current:
        messages.append(Message(fallback, current, tuple(made)))
    return messages


def document_messages(client_name: str, version: int, document: tuple[tuple[str, str], ...]) -> list[Message]:
    """The whole SOP (mrkdwn) as thread replies, each section headed, split to fit."""
    blocks: list[Block] = []
    for title, body in document:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=f"*{mrkdwn(title)}*")))
        blocks += [SectionBlock(text=MarkdownTextObject(text=piece)) for piece in chunk_text(body)]
    return pack(blocks, mrkdwn(f"{client_name} patch management SOP v{version} (full text)"))


def reader_time(line: WindowLine) -> str:
    """The window in the client's time, and in each reader's own time through Slack's date token."""
    return f"• *{mrkdwn(line.group)}*: {mrkdwn(line.local)} (your time: {your_time(line.start, line.local)})"


def overview_blocks(overview: Overview) -> list[Block]:
    fields = [
        MarkdownTextObject(text=f"*Owner*\n{mrkdwn(truncate(overview.owner, 300))}"),
        MarkdownTextObject(text=f"*Client approver*\n{mrkdwn(truncate(overview.approver, 300))}"),
        MarkdownTextObject(text=f"*Effective*\n{mrkdwn(overview.effective)}"),
        MarkdownTextObject(text=f"*Next review*\n{mrkdwn(overview.next_review)}"),
    ]
    windows = "\n".join(reader_time(w) for w in overview.windows) or "No patch windows are scheduled."
    tiers = "\n".join(f"• *{mrkdwn(t[0])}*: {mrkdwn(t[2])}" for t in overview.tiers)
    if overview.compliance is None:
        compliance = "Compliance check: not run for this version."
    elif not overview.compliance:
        compliance = "Compliance check: no framework was chosen, and there is no advice."
    else:
        compliance = "Compliance check:\n" + "\n".join(f"• {mrkdwn(line)}" for line in overview.compliance)
    blocks: list[Block] = [
        HeaderBlock(text=truncate(f"{overview.client_name}: patch management SOP v{overview.version}", 150)),
        SectionBlock(fields=fields),
        SectionBlock(text=MarkdownTextObject(text=truncate(f"*Next patch windows*\n{windows}", MAX_SECTION))),
        SectionBlock(text=MarkdownTextObject(text=truncate(f"*Deadlines by severity*\n{tiers}", MAX_SECTION))),
        SectionBlock(text=MarkdownTextObject(text=truncate(compliance, MAX_SECTION))),
    ]
    if overview.is_template:
        blocks[2] = SectionBlock(
            text=MarkdownTextObject(text="*Patch windows*\nEach client's windows run in that client's time zone.")
        )
    if overview.template_note:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=truncate(mrkdwn(overview.template_note), 3000))]))
    return blocks


def published_message(overview: Overview) -> Message:
    blocks = overview_blocks(overview)
    blocks.append(
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text=f"Published by {mrkdwn(overview.published_by)}. "
                    "The full SOP is in the thread, as text and as a file."
                )
            ]
        )
    )
    return Message(mrkdwn(f"{overview.client_name}: patch management SOP v{overview.version} published"), blocks)


@lru_cache(maxsize=SHOWN_KEPT)
def show_message(view: ShowView) -> Message:
    """The ephemeral answer to `show`: the overview with a button per section, or one section. A view is a
    value, so the message for one is made once and kept: when a team pulls up the same SOP mid-incident, the
    blocks are built and validated for the first of them only."""
    o = view.overview
    ref = f"{o.client_id}|{view.section.id if view.section else ''}"
    link = f" · <{o.permalink}|Whole SOP>" if o.permalink else ""
    share = ButtonElement(text="Share in channel", action_id=Action.SHARE, value=ref)
    if view.section is None:
        blocks = overview_blocks(o)
        buttons = [
            ButtonElement(text=truncate(s.title, 75), action_id=Action.SECTION.of(i), value=f"{o.client_id}|{s.id}")
            for i, s in enumerate(view.sections)
        ]
        blocks.append(ActionsBlock(block_id="sections", elements=buttons[:25]))
        blocks.append(ActionsBlock(block_id="share", elements=[share]))
        blocks.append(
            ContextBlock(
                elements=[MarkdownTextObject(text=f"v{o.version}, published by {mrkdwn(o.published_by)}{link}")]
            )
        )
        return Message.made_now(mrkdwn(f"{o.client_name}: patch management SOP v{o.version}"), blocks)
    body = view.body or ""
    if len(body) > SHOW_BODY_LIMIT:
        body = truncate(body, SHOW_BODY_LIMIT) + "\n_(shortened: open the whole SOP for the rest)_"
    blocks = [HeaderBlock(text=truncate(f"{o.client_name} v{o.version}: {view.section.title}", 150))]
    blocks += [SectionBlock(text=MarkdownTextObject(text=piece)) for piece in chunk_text(body)]
    blocks.append(
        ContextBlock(elements=[MarkdownTextObject(text=f"From {mrkdwn(o.client_name)}'s SOP v{o.version}{link}")])
    )
    everything = ButtonElement(text="All sections", action_id=Action.SECTION.of("all"), value=f"{o.client_id}|")
    blocks.append(ActionsBlock(block_id="share", elements=[share, everything]))
    return Message.made_now(mrkdwn(f"{o.client_name} v{o.version}: {view.section.title}"), blocks)


def shared_message(view: ShowView, user: str) -> Message:
    """What 'Share in channel' posts: the same content, without the buttons, with who shared it."""
    message = show_message(view)
    kept = [b for b in message.blocks if not isinstance(b, ActionsBlock)]
    kept.append(ContextBlock(elements=[MarkdownTextObject(text=f"Shared by <@{user}>")]))
    return Message(message.text, kept)


def table_message(view: TableView) -> Message:
    """A list of rows as mrkdwn lines; long lists are cut to fit one message with a note."""
    lines = []
    for row in view.rows:
        first, *rest = [mrkdwn(truncate(cell, 300)) for cell in row]
        lines.append(f"• *{first}*" + (" · " + " · ".join(c for c in rest if c) if any(rest) else ""))
    blocks: list[Block] = [HeaderBlock(text=truncate(view.title, 150))]
    if not lines and not view.footer:
        lines = ["Nothing yet."]
    budget = MESSAGE_TEXT_BUDGET - 1000
    shown, used = [], 0
    for line in lines:
        if used + len(line) > budget:
            break
        shown.append(line)
        used += len(line) + 1
    if shown:
        blocks += [SectionBlock(text=MarkdownTextObject(text=p)) for p in chunk_text("\n".join(shown))]
    footer = view.footer or ""
    if len(shown) < len(lines):
        footer = f"{footer} {len(lines) - len(shown)} more not shown.".strip()
    if footer:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=mrkdwn(footer))]))
    return Message(mrkdwn(view.title), blocks[:50])


def publish_offer_message(offer: PublishOffer) -> Message:
    where = f" to #{mrkdwn(offer.channel_name)}" if offer.channel_name else ""
    text = f"Ready to publish *{mrkdwn(offer.client_name)}*'s SOP{where}?"
    button = ButtonElement(text="Publish", action_id=Action.PUBLISH, value=str(offer.draft_id), style="primary")
    return Message(
        mrkdwn(f"Publish {offer.client_name}'s SOP?"),
        [SectionBlock(text=MarkdownTextObject(text=text)), ActionsBlock(elements=[button])],
    )
