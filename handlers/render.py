"""The one dispatcher from a core reply to its Slack message."""

from __future__ import annotations

from bot.kernel.views import (
    ExportFile,
    Notice,
    PublishOffer,
    QuestionView,
    Reply,
    ResumeOffer,
    ShowView,
    SummaryView,
    TableView,
)
from handlers.blocks import Message, notice_message, offer_message, question_message, summary_message
from handlers.sop_blocks import publish_offer_message, show_message, table_message


def render(reply: Reply) -> Message:
    """The message for one reply of the core."""
    if isinstance(reply, Notice):
        return notice_message(reply)
    if isinstance(reply, QuestionView):
        return question_message(reply)
    if isinstance(reply, SummaryView):
        return summary_message(reply)
    if isinstance(reply, ResumeOffer):
        return offer_message(reply)
    if isinstance(reply, PublishOffer):
        return publish_offer_message(reply)
    if isinstance(reply, ShowView):
        return show_message(reply)
    if isinstance(reply, TableView):
        return table_message(reply)
    if isinstance(reply, ExportFile):
        return notice_message(Notice(f"{reply.filename} is on its way as a file."))
    raise TypeError(f"no message for {type(reply).__name__}")
