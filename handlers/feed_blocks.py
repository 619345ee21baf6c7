"""Block Kit for the threat feeds: the Patch Tuesday digest, a proposed KEV review, and the question to an SOP
owner about clients that KEV names only by vendor and product."""

from __future__ import annotations

import json
from typing import Any

from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement, ContextBlock, MarkdownTextObject, SectionBlock

from bot.feeds.views import KevFacts, KevProposal, KevQuestion, TuesdayDigest
from bot.kernel.escaping import mrkdwn, truncate
from handlers.blocks import MAX_SECTION, Message
from handlers.ids import Action

MAX_CLIENTS_IN_BUTTON = 3


def facts_text(facts: KevFacts) -> str:
    lines = [mrkdwn(line) for line in facts.lines()]
    lines[0] = f"*{mrkdwn(facts.cve_id)}*: {lines[0]}"
    return truncate("\n".join(lines), MAX_SECTION)


def tuesday_message(view: TuesdayDigest) -> Message:
    counts = ", ".join(f"{n} {severity}" for severity, n in view.counts)
    head = f":calendar: *{mrkdwn(view.client_name)}: {mrkdwn(view.title)}*\n{view.total} CVEs: {counts}."
    if view.exploited:
        lines = [f"*Exploited ({len(view.exploited)})*, checked against {view.basis}:"]
        for cve in view.exploited:
            touch = f": *{mrkdwn(cve.touches)}*" if cve.touches else ": not found on this client's devices"
            lines.append(
                f"• {mrkdwn(cve.cve)} {mrkdwn(truncate(cve.title, 120))} ({mrkdwn(cve.severity or 'unrated')}){touch}"
            )
    else:
        lines = ["No CVE in this release is marked exploited."]
    when = ", ".join(f"{mrkdwn(w.group)} {mrkdwn(w.local)}" for w in view.windows) or "no window is set"
    schedule = f"*Under the policy:* {when} ({mrkdwn(view.zone)} time)."
    blocks: list[Block] = [
        SectionBlock(text=MarkdownTextObject(text=truncate(head, MAX_SECTION))),
        SectionBlock(text=MarkdownTextObject(text=truncate("\n".join(lines), MAX_SECTION))),
        SectionBlock(text=MarkdownTextObject(text=truncate(schedule, MAX_SECTION))),
    ]
    if view.offer_review:
        late = ", ".join(view.late_groups)
        warning = (
            f":warning: An exploited update is due by *{mrkdwn(view.deadline_local)}* under the Emergency tier; "
            f"the {mrkdwn(late)} window{'s' * (len(view.late_groups) != 1)} cannot meet that."
        )
        blocks.append(SectionBlock(text=MarkdownTextObject(text=truncate(warning, MAX_SECTION))))
        button = ButtonElement(
            text="Open out-of-band review",
            action_id=Action.FEED_DIGEST_OOB,
            value=json.dumps({"s": view.source, "c": view.client_id}),
            style="danger",
        )
        blocks.append(ActionsBlock(block_id="feed", elements=[button]))
    return Message(mrkdwn(f"{view.client_name}: {view.title}"), blocks)


def proposal_message(view: KevProposal) -> Message:
    text = (
        f":rotating_light: *{mrkdwn(view.client_name)}: a new CISA KEV entry is on this client's devices.*\n"
        f"{facts_text(view.facts)}\n{mrkdwn(view.evidence)}\n"
        f"Opened now, it would be due by *{mrkdwn(view.deploy_by_local)}* (the Emergency tier)."
    )
    value = json.dumps({"s": view.source, "c": [view.client_id]})
    buttons = [
        ButtonElement(text="Open out-of-band review", action_id=Action.FEED_OPEN, value=value, style="danger"),
        ButtonElement(text="Not affected", action_id=Action.FEED_DECLINE, value=value),
    ]
    return Message(
        mrkdwn(f"{view.client_name}: {view.facts.cve_id} is on its devices"),
        [
            SectionBlock(text=MarkdownTextObject(text=truncate(text, MAX_SECTION))),
            ActionsBlock(block_id="feed", elements=buttons),
        ],
    )


def question_message(view: KevQuestion) -> Message:
    clients = "\n".join(
        f"• *{mrkdwn(name)}*: its policy covers {mrkdwn(matched)}" for _id, name, matched in view.clients
    )
    text = (
        f":mag: *A new CISA KEV entry may touch clients of yours.* Their device data does not show it, "
        f"so only the names match; please check.\n{facts_text(view.facts)}\n{clients}"
    )
    names = [name for _id, name, _m in view.clients]
    shown = ", ".join(names[:MAX_CLIENTS_IN_BUTTON]) + (
        f" +{len(names) - MAX_CLIENTS_IN_BUTTON}" if len(names) > MAX_CLIENTS_IN_BUTTON else ""
    )
    value = json.dumps({"s": view.source, "c": [client_id for client_id, _n, _m in view.clients]})
    buttons = [
        ButtonElement(text=truncate(f"Open for {shown}", 75), action_id=Action.FEED_OPEN, value=value, style="danger"),
        ButtonElement(text="Not affected", action_id=Action.FEED_DECLINE, value=value),
    ]
    return Message(
        mrkdwn(f"{view.facts.cve_id} may touch {', '.join(names)}"),
        [
            SectionBlock(text=MarkdownTextObject(text=truncate(text, MAX_SECTION))),
            ActionsBlock(block_id="feed", elements=buttons),
        ],
    )


def decided_message(original: dict[str, Any], outcome: str) -> Message:
    """The message after a decision: its sections as they were, the buttons replaced by `outcome` (mrkdwn)."""
    kept = [Block.parse(b) for b in original.get("blocks", []) if b.get("type") == "section"]
    blocks = [b for b in kept if b is not None]
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text=truncate(outcome, 2900))]))
    return Message(original.get("text", "") or "Decided.", blocks)
