"""The audit pack as an auditor gets it: opened and printed to PDF in headless Chromium. It renders, every chart
is drawn and visible, nothing runs past the page's width, and the PDF holds the cover, the sections and charts."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta

import pytest
from pypdf import PdfReader

from bot.core import Core
from bot.kernel.clock import ManualClock
from bot.kernel.directory import LocalDirectory
from bot.kernel.views import ExportFile
from storage.db import Database
from tests.support.browser import CHARTS_JS, OVERFLOW_JS, PRINT_WIDTH, browser  # noqa: F401  (a fixture)
from tests.support.device_data import TECH, publish_client, write_csv

HEADER = ["Computer", "Site", "Patch", "Severity", "Status", "Released", "Installed", "Last seen"]
COLUMNS = (
    "device=Computer,group=Site,update=Patch,severity=Severity,state=Status,released_at=Released,"
    "installed_at=Installed,last_seen_at=Last seen"
)
PUBLISHED = datetime(2026, 8, 17, 14, 0, tzinfo=UTC)
LONG = "SRV-" + "LEGACYSCADAHISTORIAN" * 8  # one unbroken word wider than the page


def month_of_data(month: int) -> list[list[str]]:
    """Twenty devices, three updates released on the 3rd: most installed within days, some late, one never."""
    rows = []
    for n in range(20):
        group = "Acme DC" if n < 5 else "Acme HQ"
        updates = (("001", "Critical", 1 + n % 9), ("002", "High", 2 + n), ("003", "Medium", 3 + 2 * n))
        for number, severity, days in updates:
            kb = f"KB50{month:02d}{number}"
            released = datetime(2026, month, 3, 18, 0, tzinfo=UTC)
            installed = "" if n == 19 else (released + timedelta(days=days)).isoformat()
            state = "Missing" if n == 19 else "Installed"
            rows.append([f"PC-{n:02d}", group, kb, severity, state, released.isoformat(), installed])
    return rows


@pytest.fixture
def pack(db_url, tmp_path) -> str:
    db = Database(db_url)
    db.migrate()
    core = Core(db, ManualClock(PUBLISHED), LocalDirectory())
    publish_client(core, {"data.group_map": "Acme HQ - Workstations\nAcme DC - Servers"})
    for month in (8, 9, 10, 11):
        core.clock.set(datetime(2026, month, 28, 12, 0, tzinfo=UTC))
        rows = [[*row, core.clock.now().isoformat()] for row in month_of_data(month)]
        export = write_csv(tmp_path / f"m{month}.csv", HEADER, rows)
        assert core.device_data.import_file("acme", export, "UTECH", COLUMNS).ok
    fields = {
        "what": LONG,
        "reason": "Vendor support ends with this build; " * 6,
        "controls": "Isolated VLAN, no internet access",
        "approver": "Tess Tech",
        "second_approver": "Sam Security",
    }
    recorded = core.exceptions.record(TECH, 1, fields, date(2026, 12, 31), "exception-1")
    assert not isinstance(recorded, dict), recorded
    core.clock.set(datetime(2026, 12, 2, 12, 0, tzinfo=UTC))
    found = core.audit.pack("acme")
    assert isinstance(found, ExportFile), found
    db.dispose()
    return found.content


def test_the_audit_pack_renders_with_every_chart_visible_and_nothing_wider_than_the_page(pack, browser):  # noqa: F811
    page = browser.new_page(viewport={"width": PRINT_WIDTH, "height": 960})
    page.set_content(pack)
    page.emulate_media(media="print")
    charts = page.evaluate(CHARTS_JS)
    assert len(charts) == 4 * 3 + 0  # August (cut short) to November, three charts each
    for chart in charts:
        assert chart["shown"] and chart["width"] > 500 and chart["height"] > 80 and chart["marks"] > 10, chart
    assert page.evaluate(OVERFLOW_JS, PRINT_WIDTH) == []
    assert page.inner_text("h1.client") == "Acme"
    assert page.locator("section.report").count() == 4
    page.close()


def test_the_audit_pack_prints_to_a_pdf_with_its_cover_sections_and_charts(pack, browser):  # noqa: F811
    page = browser.new_page()
    page.set_content(pack)
    pdf = PdfReader(io.BytesIO(page.pdf(format="A4", print_background=True, prefer_css_page_size=True)))
    page.close()
    texts = [p.extract_text() for p in pdf.pages]
    assert "Patch management audit evidence" in texts[0] and "Acme" in texts[0]
    assert "Worst cases" not in texts[0] and texts[1].lstrip().startswith("1. Compliance summary")  # a cover page
    whole = "\n".join(texts)
    for heading in ("1. Compliance summary", "2. Version history", "5. Monthly reports", "6. Current SOP"):
        assert heading in whole
    assert whole.count("Time to patch per severity") == 4  # each month's chart caption, printed
    assert whole.count("Installed by deadline") >= 4  # the trend charts' own axis text: the SVG printed as drawn
    assert len(pdf.pages) >= 8
