"""Block Kit for the core's views, built with slack_sdk's block models and kept inside Slack's limits."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    CheckboxesElement,
    ContextBlock,
    ConversationSelectElement,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    Option,
    OptionGroup,
    SectionBlock,
    StaticSelectElement,
    UserMultiSelectElement,
    UserSelectElement,
)

from bot.kernel.escaping import mrkdwn, truncate
from bot.kernel.views import ClosedPrompt, Notice, QuestionView, ResumeOffer, SummaryView
from bot.sop.render import Safe
from handlers.ids import Action

MAX_BLOCKS = 50
MAX_SECTION = 3000
MESSAGE_TEXT_BUDGET = 11_000  # Slack answers msg_blocks_too_long at about 13k characters of block text
_ICONS = {"info": ":information_source:", "success": ":white_check_mark:", "warning": ":warning:", "error": ":x:"}
_TYPED_HINTS = {
    "text": "Type your answer as a message.",
    "lines": "Type one per line (or separated by ;) in a message, or `none`.",
    "number": "Type a number.",
    "duration": "Type a duration such as `48h`, `14d` or `2w`.",
    "time": "Type a time as `HH:MM`.",
    "timezone": "Type an IANA time zone, e.g. `Europe/London` or `America/New_York`.",
    "window": "Type a window rule, e.g. `Patch Tuesday + 1 day, 20:00 for 4h`.",
    "channel": "Pick a channel, or type `#channel-name`.",
    "users": "Pick a person, or @mention them in a message.",
}


def as_sent(blocks: Sequence[Block]) -> tuple[dict[str, Any], ...]:
    """Typed blocks validated and made into the dicts Slack gets (slack_sdk's to_dict, the costly part)."""
    return tuple(b.to_dict() for b in blocks)


@dataclass(frozen=True)
class Message:
    """One Slack message: fallback text and blocks."""

    text: str
    blocks: list[Block]
    made: tuple[dict[str, Any], ...] | None = field(default=None, compare=False, repr=False)  # blocks as sent

    @classmethod
    def made_now(cls, text: str, blocks: list[Block]) -> Message:
        """A message whose blocks are validated and made into what Slack gets now, once (for one that is kept)."""
        return cls(text, blocks, as_sent(blocks))

    def sent_blocks(self) -> tuple[dict[str, Any], ...]:
        """The blocks as Slack gets them."""
        return self.made if self.made is not None else as_sent(self.blocks)

    def as_kwargs(self) -> dict[str, Any]:
        """What chat.postMessage and a response_url take."""
        return {"text": self.text, "blocks": list(self.sent_blocks())}


def your_time(moment: datetime, fallback: str) -> Safe:
    """Slack's date token: the moment in each reader's own time zone (the fallback where Slack can't)."""
    return Safe(f"<!date^{int(moment.timestamp())}^{{date_short_pretty}} {{time}}|{mrkdwn(fallback)}>")


def encode(draft_id: int, seq: int, question_id: str = "", value: str = "") -> str:
    """An action value: which draft, at which step, for which question, with which value."""
    return f"{draft_id}|{seq}|{question_id}|{value}"


def decode(raw: str) -> tuple[int, int, str, str]:
    draft_id, seq, question_id, value = [*raw.split("|", 3), "", "", ""][:4]
    return int(draft_id), int(seq), question_id, value


def notice_message(notice: Notice) -> Message:
    text = f"{_ICONS.get(notice.tone, '')} {mrkdwn(notice.text)}".strip()
    if notice.link:
        url, label = notice.link
        text += f" <{url}|{mrkdwn(label)}>"
    if notice.mentions:
        text += " " + ", ".join(f"<@{m}>" if m[:1] in "UW" else f"<!subteam^{m}>" for m in notice.mentions)
    return Message(
        truncate(mrkdwn(notice.text), 3000), [SectionBlock(text=MarkdownTextObject(text=truncate(text, MAX_SECTION)))]
    )


def question_message(view: QuestionView) -> Message:
    q = view.question
    blocks: list[Block] = []
    if view.error:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=f":warning: {mrkdwn(truncate(view.error, 500))}")))
    where = (
        f"*{mrkdwn(truncate(view.client_name, 80))}* · {mrkdwn(view.section_title)} - {view.position} of {view.total}"
    )
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text=where)]))
    body = f"*{mrkdwn(q.prompt)}*"
    if q.hint:
        body += f"\n_{mrkdwn(q.hint)}_"
    if view.current_label is not None:
        body += f"\nCurrent answer: {mrkdwn(truncate(view.current_label, 1500))}"
    blocks.append(SectionBlock(text=MarkdownTextObject(text=truncate(body, MAX_SECTION))))
    blocks.extend(_controls(view))
    blocks.append(_navigation(view))
    fallback = f"{view.client_name} - {view.position} of {view.total}: {q.prompt}"
    return Message(mrkdwn(truncate(fallback, 3000)), blocks)


def _controls(view: QuestionView) -> list[Block]:
    q = view.question
    ref = (view.draft_id, view.seq, q.id)
    chosen = view.current if view.current is not None else view.recommended
    if q.type in {"single", "yesno"}:
        choices = [("yes", "Yes"), ("no", "No")] if q.type == "yesno" else [(c.value, c.label) for c in q.choices]
        rec = (
            {True: "yes", False: "no"}.get(view.recommended, view.recommended)
            if q.type == "yesno"
            else view.recommended
        )
        if len(choices) <= 5:
            buttons = [
                ButtonElement(
                    text=truncate(label, 75),
                    action_id=Action.CHOICE.of(i),
                    value=encode(*ref, value),
                    style="primary" if value == rec else None,
                )
                for i, (value, label) in enumerate(choices)
            ]
            return [ActionsBlock(block_id="choices", elements=buttons)]
        options = [Option(text=truncate(label, 75), value=encode(*ref, value)) for value, label in choices]
        initial = next((o for o, (value, _) in zip(options, choices, strict=True) if value == view.current), None)
        select = StaticSelectElement(
            placeholder="Choose…", action_id=Action.SELECT, options=options, initial_option=initial
        )
        return [ActionsBlock(block_id="choices", elements=[select])]
    if q.type == "multi":
        options = [Option(text=truncate(c.label, 75), value=c.value) for c in q.choices]
        initial = [o for o in options if chosen and o.value in chosen] or None
        boxes = CheckboxesElement(action_id=Action.CHECK, options=options, initial_options=initial)
        save = ButtonElement(text="Save selection", action_id=Action.SAVE, value=encode(*ref), style="primary")
        return [
            ActionsBlock(block_id="multi", elements=[boxes]),
            ActionsBlock(block_id="save", elements=[save]),
        ]
    hint = ContextBlock(elements=[MarkdownTextObject(text=_TYPED_HINTS.get(q.type, "Type your answer."))])
    if q.type == "channel":
        select = ConversationSelectElement(
            placeholder="Pick a channel",
            action_id=Action.CHANNEL,
            initial_conversation=chosen["id"] if isinstance(chosen, dict) and chosen["id"][:1] in "CG" else None,
            filter={"include": ["public", "private"], "exclude_bot_users": True},
        )
        return [ActionsBlock(block_id=f"pick|{encode(*ref)}", elements=[select]), hint]
    if q.type == "users":
        initial = [u["id"] for u in chosen] if isinstance(chosen, list) else []
        if q.maximum == 1:
            element: Block | Any = UserSelectElement(
                placeholder="Pick a person", action_id=Action.USER, initial_user=initial[0] if initial else None
            )
        else:
            element = UserMultiSelectElement(
                placeholder="Pick people", action_id=Action.USERS, initial_users=initial or None
            )
        return [ActionsBlock(block_id=f"pick|{encode(*ref)}", elements=[element]), hint]
    return [hint]


def _navigation(view: QuestionView) -> ActionsBlock:
    ref = (view.draft_id, view.seq, view.question.id)
    elements = []
    if view.recommended_label is not None:
        label = truncate(f"Use recommended: {view.recommended_label}", 75)
        elements.append(ButtonElement(text=label, action_id=Action.RECOMMENDED, value=encode(*ref), style="primary"))
    if view.editing:
        elements.append(ButtonElement(text="Back to summary", action_id=Action.SUMMARY, value=encode(*ref)))
    else:
        if not view.first:
            elements.append(ButtonElement(text="Back", action_id=Action.BACK, value=encode(*ref)))
        elements.append(ButtonElement(text="Skip", action_id=Action.SKIP, value=encode(*ref)))
        elements.append(ButtonElement(text="Pause", action_id=Action.PAUSE, value=encode(*ref)))
        elements.append(
            ButtonElement(
                text="Accept recommended for the rest of this section", action_id=Action.REST, value=encode(*ref)
            )
        )
    return ActionsBlock(block_id="nav", elements=elements)


def summary_message(view: SummaryView) -> Message:
    """Every answer in one message: answers are shortened so the whole fits Slack's size limits."""
    items = [item for section in view.sections for item in section.items]
    title = "Final answers" if view.finished else "Summary: check your answers"
    blocks: list[Block] = [HeaderBlock(text=truncate(f"{view.client_name} - {title}", 150))]
    budget = max(40, (MESSAGE_TEXT_BUDGET - 2500) // max(len(items), 1) - 40)
    for section in view.sections:
        lines = [f"*{mrkdwn(section.title)}*"]
        for item in section.items:
            mark = {"answered": "", "skipped": "_(skipped)_ ", "missing": ":grey_question: "}[item.state]
            prompt = truncate(item.prompt, min(60, budget // 2))
            label = truncate(item.label, max(budget - len(prompt), 20)) if item.state == "answered" else ""
            lines.append(f"`{item.number}` {mrkdwn(prompt)} {mark}*{mrkdwn(label)}*".rstrip(" *"))
        blocks.append(SectionBlock(text=MarkdownTextObject(text=truncate("\n".join(lines), MAX_SECTION))))
    if view.compliance:
        verdicts = "\n".join(f"• {mrkdwn(truncate(line, 700))}" for line in view.compliance)
        blocks.append(
            SectionBlock(text=MarkdownTextObject(text=truncate(f"*Compliance check*\n{verdicts}", MAX_SECTION)))
        )
    if not view.finished:
        blocks.extend(_summary_actions(view))
    return Message(mrkdwn(f"{view.client_name}: {title}"), blocks[:MAX_BLOCKS])


def _summary_actions(view: SummaryView) -> list[Block]:
    groups = []
    for section in view.sections:
        options = [
            Option(
                text=truncate(f"{item.number}. {item.prompt}", 75),
                value=encode(view.draft_id, view.seq, item.question_id),
            )
            for item in section.items
        ]
        groups.append(OptionGroup(label=truncate(section.title, 75), options=options[:100]))
    edit = StaticSelectElement(placeholder="Edit an answer…", action_id=Action.EDIT, option_groups=groups[:100])
    finish = ButtonElement(
        text="Finish", action_id=Action.FINISH, value=encode(view.draft_id, view.seq), style="primary"
    )
    blocks: list[Block] = [DividerBlock()]
    if view.missing:
        numbers = ", ".join(str(item.number) for item in view.missing[:30])
        blocks.append(SectionBlock(text=MarkdownTextObject(text=f":grey_question: Still to answer: {numbers}")))
    blocks.append(ActionsBlock(block_id="summary", elements=[edit, finish]))
    return blocks


def offer_message(offer: ResumeOffer) -> Message:
    name = mrkdwn(offer.client_name)
    if not offer.is_owner:
        text = f"*{name}* already has an open draft, started by <@{offer.owner_id}>. Ask them to finish or share it."
        return Message(text, [SectionBlock(text=MarkdownTextObject(text=text))])
    text = f"*{name}* already has an open draft, at question {offer.position} of {offer.total}."
    ref = encode(offer.draft_id, offer.seq)
    buttons = [
        ButtonElement(text="Resume", action_id=Action.RESUME, value=ref, style="primary"),
        ButtonElement(text="Start over", action_id=Action.START_OVER, value=ref, style="danger"),
    ]
    return Message(text, [SectionBlock(text=MarkdownTextObject(text=text)), ActionsBlock(elements=buttons)])


def closed_message(closed: ClosedPrompt) -> Message:
    """A prompt after it was dealt with: what was asked and what happened, no buttons."""
    if closed.title:
        text = f":white_check_mark: *{mrkdwn(closed.title)}*\n{mrkdwn(truncate(closed.outcome, 2500))}"
    else:
        text = f"_{mrkdwn(closed.outcome)}_"
    return Message(truncate(mrkdwn(closed.outcome), 3000), [SectionBlock(text=MarkdownTextObject(text=text))])
