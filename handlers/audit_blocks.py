"""Block Kit for reports and policy-review reminders."""

from __future__ import annotations

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    HeaderBlock,
    ImageBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.kernel.escaping import mrkdwn, truncate
from bot.reporting.policy_reviews import ReviewDue
from bot.reporting.reports import Report
from handlers.blocks import Message
from handlers.ids import Action
from handlers.sop_blocks import chunk_text, pack


def report_messages(report: Report, chart_file: str | None = None) -> list[Message]:
    """The report in as many messages as Slack's limits need (its text is already escaped mrkdwn): the first
    is the post, with the headline in words and the headline chart (an uploaded PNG) when there is one; the
    others go on in its thread."""
    blocks: list[Block] = [HeaderBlock(text=truncate(report.title, 150))]
    if report.headline:
        said = "\n".join(f"• {mrkdwn(line)}" for line in report.headline)
        blocks.append(SectionBlock(text=MarkdownTextObject(text=truncate(said, 3000))))
    if chart_file and report.figures is not None:
        alt = truncate(report.figures.trend_alt, 2000)
        blocks.append(
            ImageBlock(slack_file={"id": chart_file}, alt_text=alt, title=truncate(report.figures.trend_title, 2000))
        )
    blocks += [SectionBlock(text=MarkdownTextObject(text=piece)) for piece in chunk_text(report.mrkdwn)]
    return pack(blocks, mrkdwn(report.title))


def review_due_message(view: ReviewDue) -> Message:
    who = "you own" if view.dm_user else "this channel's client has"
    text = (
        f":spiral_calendar_pad: *{mrkdwn(view.client_name)}: policy review due {mrkdwn(view.due_local)}.* "
        f"The patch policy {who} was last reviewed or published {mrkdwn(view.last_local)}; "
        f"it is reviewed {mrkdwn(view.cadence.lower())} (CIS Controls v8, 7.1). "
        "Start review opens the policy for editing; if nothing needs to change, say so and it is recorded."
    )
    buttons = [
        ButtonElement(text="Start review", action_id=Action.REVIEW_START, value=str(view.client_id), style="primary"),
        ButtonElement(text="Reviewed, no changes", action_id=Action.REVIEW_NO_CHANGE, value=str(view.client_id)),
    ]
    return Message(
        mrkdwn(f"{view.client_name}: policy review due"),
        [SectionBlock(text=MarkdownTextObject(text=text)), ActionsBlock(block_id="review", elements=buttons)],
    )
