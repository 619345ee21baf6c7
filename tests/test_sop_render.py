"""Rendering the SOP: the golden reference document, a minimal policy, escaping per format."""

from __future__ import annotations

import os
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from bot.policy.compliance import summary_lines
from bot.policy.model import Policy
from bot.sop.document import SECTIONS, DocumentMeta, Revision, render_sop, to_html, to_markdown
from tests.support.policies import recommended_answers

GOLDEN = Path(__file__).parent / "golden" / "reference_sop.md"
NOW = datetime(2026, 11, 26, 14, 30, tzinfo=UTC)
META = DocumentMeta(
    2,
    NOW,
    "Tess Tech",
    (Revision(1, datetime(2026, 10, 1, 9, tzinfo=UTC), "Otto Other"), Revision(2, NOW, "Tess Tech")),
)


def test_the_reference_policy_renders_exactly_the_golden_markdown():
    """Regenerate after an intended change with UPDATE_GOLDEN=1, and review the diff."""
    answers = recommended_answers(
        {
            "client.compliance": "cyber_essentials, essential_eight, pci_dss",
            "scope.internet_facing": "mail.acme.example\nvpn.acme.example",
            "windows.servers.blackouts": "2026-12-24..2027-01-01",
        }
    )
    policy = Policy(answers)
    meta = replace(META, compliance=summary_lines(policy, NOW))
    markdown = to_markdown(render_sop(policy, meta, NOW, "md"))
    if os.environ.get("UPDATE_GOLDEN"):
        GOLDEN.write_text(markdown, encoding="utf-8")
    assert markdown == GOLDEN.read_text(encoding="utf-8")


def test_every_section_renders_in_order_for_a_fully_recommended_policy():
    document = render_sop(Policy(recommended_answers()), META, NOW, "md")
    assert [s.id for s in document.sections] == [s.id for s in SECTIONS]
    assert all(s.body.strip() for s in document.sections)
    windows = document.section("windows").body
    assert "- Pilot: Wed 09 Dec 2026 20:00 EST to 00:00" in windows
    assert "- Servers: Sun 13 Dec 2026 22:00 EST to 02:00" in windows
    assert "| High | CVSS 7.0 to 8.9; unrated updates by default | 14 days |" in document.section("sla").body


def test_a_minimal_policy_renders_without_gaps():
    answers = recommended_answers(
        {
            "client.compliance": "none",
            "scope.groups": "All devices",
            "approval.types": "security",
            "testing.environment": "none",
            "deployment.deferrals": "0",
            "deployment.notice_method": "none",
            "windows.close_checkin": "no",
            "failures.snapshot_servers": "no",
            "failures.block_everywhere": "no",
            "oob.testing": "none",
            "scope.apps": "Nothing - nobody",
        }
    )
    markdown = to_markdown(render_sop(Policy(answers), DocumentMeta(None, None), NOW, "md"))
    assert "# Acme: Patch management SOP (draft)" in markdown
    assert "| All devices | Patch Tuesday + 3 days, 20:00 for 4h | Prompt the user until a deadline |" in markdown
    assert "No framework was chosen" in markdown
    assert "Pilot devices" not in markdown and "deferral" not in markdown.split("## Deployment")[1][:300]
    assert "Not specified" not in markdown and "None\n" not in markdown.replace("- None\n", "")
    assert "Not published yet." in markdown


def test_user_text_is_escaped_for_each_format():
    evil = "<!channel> <@U123> <https://evil.example|your bank> & [click](https://evil.example) *bold*"
    policy = Policy(recommended_answers({"client.approver": evil}))
    chat = render_sop(policy, META, NOW, "mrkdwn").section("document-control").body
    assert "&lt;!channel&gt; &lt;@U123&gt; &lt;https://evil.example|your bank&gt; &amp;" in chat
    markdown = to_markdown(render_sop(policy, META, NOW, "md"))
    assert (
        r"\<!channel\> \<@U123\> \<https://evil.example\|your bank\> \& \[click\](https://evil.example) \*bold\*"
        in markdown
    )
    html = to_html(render_sop(policy, META, NOW, "md"))
    assert (
        "&lt;!channel&gt; &lt;@U123&gt; &lt;https://evil.example|your bank&gt; &amp; [click](https://evil.example)"
        in html
    )
    assert "<a " not in html and "<strong>bold" not in html


def test_the_html_page_is_standalone_and_printable():
    html = to_html(render_sop(Policy(recommended_answers()), META, NOW, "md"))
    assert html.startswith("<!DOCTYPE html>") and "<title>Acme: Patch management SOP v2</title>" in html
    assert "<table>" in html and "@media print" in html
    for external in ("<script", "<link", "src=", "@import", "url(", "http"):
        assert external not in html
