"""The SOP document: its sections, in order, rendered from templates/sop/ for one format."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from markupsafe import Markup

from bot.policy.model import Policy
from bot.sop.render import environment, html_environment, markdown_to_html


@dataclass(frozen=True)
class SectionSpec:
    id: str
    title: str
    keywords: tuple[str, ...]


SECTIONS = (
    SectionSpec("document-control", "Document control", ("version", "owner", "approver", "effective", "control")),
    SectionSpec("purpose", "Purpose", ("purpose", "why")),
    SectionSpec("scope", "Scope", ("scope", "devices", "groups", "apps", "exclusions", "internet facing")),
    SectionSpec("references", "References", ("references", "frameworks", "standards", "cyber essentials", "pci")),
    SectionSpec("roles", "Roles and responsibilities", ("roles", "raci", "responsible", "accountable", "who")),
    SectionSpec("patch-types", "Patch types and approval", ("types", "approval", "approve", "third party", "drivers")),
    SectionSpec("sla", "Severity and SLA table", ("sla", "severity", "deadline", "deadlines", "critical", "cvss")),
    SectionSpec("windows", "Patch windows and calendar", ("windows", "window", "schedule", "calendar", "when")),
    SectionSpec("testing", "Testing and pilot", ("testing", "test", "pilot", "promotion")),
    SectionSpec(
        "deployment",
        "Deployment, reboots and user notice",
        ("reboot", "reboots", "restart", "deploy", "deployment", "deferral", "notice"),
    ),
    SectionSpec("oob", "Out-of-band patches", ("oob", "out of band", "out-of-band", "emergency", "zero day", "kev")),
    SectionSpec(
        "mitigation",
        "Emergency mitigation and unpatchable assets",
        ("mitigation", "mitigations", "workaround", "unpatchable", "eol"),
    ),
    SectionSpec(
        "failures",
        "Failed patches and rollback",
        ("failed", "failures", "failure", "rollback", "roll back", "retry", "snapshot"),
    ),
    SectionSpec("exceptions", "Exceptions", ("exceptions", "exception", "waiver", "risk acceptance")),
    SectionSpec("communication", "Communication", ("communication", "notify", "channel", "contact")),
    SectionSpec(
        "verification", "Verification and reporting", ("verification", "report", "reporting", "up to date", "metrics")
    ),
    SectionSpec("evidence", "Audit evidence", ("audit", "evidence", "retention", "records")),
    SectionSpec("review", "Review cadence", ("review", "cadence", "annual")),
    SectionSpec("compliance", "Compliance check", ("compliance", "check", "gap", "gaps", "breach")),
    SectionSpec("revisions", "Revision history", ("revisions", "revision", "history", "versions", "changes")),
)


@dataclass(frozen=True)
class Revision:
    version: int
    published_at: datetime
    published_by: str


@dataclass(frozen=True)
class DocumentMeta:
    """What the document says about itself: version, dates, history, compliance verdicts."""

    version: int | None
    published_at: datetime | None
    published_by: str = ""
    history: tuple[Revision, ...] = ()
    compliance: tuple[str, ...] | None = None
    exceptions: tuple[tuple[str, ...], ...] = ()  # the live exception register: what, why, controls, by, until


@dataclass(frozen=True)
class RenderedSection:
    id: str
    title: str
    body: str


@dataclass(frozen=True)
class Document:
    title: str
    subtitle: str
    sections: tuple[RenderedSection, ...] = field(default_factory=tuple)

    def section(self, section_id: str) -> RenderedSection:
        return next(s for s in self.sections if s.id == section_id)


def local_formatter(timezone: str):  # type: ignore[no-untyped-def]
    """A function that writes an aware datetime in the policy's time zone."""
    zone = ZoneInfo(timezone)

    def local(moment: datetime, pattern: str = "%a %d %b %Y %H:%M %Z") -> str:
        return moment.astimezone(zone).strftime(pattern)

    return local


def next_review(policy: Policy, last: datetime) -> datetime:
    """When the policy is next due for review: its cadence (annually by default, CIS 7.1) after `last`."""
    months = {"annually": 12, "semiannually": 6, "quarterly": 3}.get(policy.value("audit.review_cadence"), 12)
    month = last.month - 1 + months
    return last.replace(year=last.year + month // 12, month=month % 12 + 1, day=min(last.day, 28))


def document_dates(policy: Policy, meta: DocumentMeta, now: datetime) -> tuple[str, str]:
    """The effective date and the next review date (by the policy's review cadence), in words."""
    local = local_formatter(policy.timezone)
    review = next_review(policy, meta.published_at or now)
    effective = local(meta.published_at, "%d %B %Y") if meta.published_at else "On publication"
    return effective, local(review, "%d %B %Y")


def render_sop(policy: Policy, meta: DocumentMeta, now: datetime, format_name: str = "md") -> Document:
    """Render every section for one format ('md' or 'mrkdwn')."""
    env = environment(format_name)
    local = local_formatter(policy.timezone)
    effective, next_review = document_dates(policy, meta, now)
    context = {
        "p": policy,
        "meta": meta,
        "now": now,
        "local": local,
        "windows": policy.next_windows(now),
        "version_label": f"v{meta.version}" if meta.version else "Draft (not published)",
        "effective": effective,
        "next_review": next_review,
    }
    sections = tuple(
        RenderedSection(spec.id, spec.title, env.get_template(f"sop/{spec.id}.j2").render(context).strip())
        for spec in SECTIONS
    )
    version = f" v{meta.version}" if meta.version else " (draft)"
    return Document(f"{policy.name}: Patch management SOP{version}", context["effective"], sections)


def to_markdown(document: Document) -> str:
    """The whole document as one Markdown text."""
    fmt = environment("md").globals["fmt"]
    parts = [f"# {fmt.escape(document.title)}", f"_Effective: {fmt.escape(document.subtitle)}_"]
    for section in document.sections:
        parts += [f"## {fmt.escape(section.title)}", section.body]
    return "\n\n".join(parts) + "\n"


def to_html(document: Document) -> str:
    """A standalone, printable HTML page (no external assets)."""
    body = markdown_to_html(to_markdown(document))
    page = html_environment().get_template("sop.html.j2")
    return page.render(title=document.title, body=Markup(body))  # markdown-it escaped any raw HTML
