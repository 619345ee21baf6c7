"""Headless Chromium (Debian's package) driven by Playwright: pages are checked as a person sees and prints
them. Missing Chromium skips on a workstation and fails under CI, which installs it (scripts/test)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("PATCHPOLICY_CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
]
PRINT_WIDTH = 680  # px: A4 (210 mm) less the pack's 15 mm margins, at 96 px per inch
# What leaves the page's width: elements whose right edge passes it, and the document's own scroll width.
OVERFLOW_JS = """(width) => {
  const out = [];
  if (document.documentElement.scrollWidth > width + 1) out.push('document ' + document.documentElement.scrollWidth);
  for (const e of document.body.querySelectorAll('*')) {
    const r = e.getBoundingClientRect();
    const text = (e.textContent || '').slice(0, 40);
    if (r.width && r.right > width + 1) out.push(e.tagName + ' ' + Math.round(r.right) + ' ' + text);
  }
  return out;
}"""
CHARTS_JS = """() => [...document.querySelectorAll('figure.chart')].map(f => {
  const svg = f.querySelector('svg'); const r = svg.getBoundingClientRect();
  const style = getComputedStyle(svg);
  return {width: r.width, height: r.height, shown: style.display !== 'none' && style.visibility !== 'hidden',
          marks: svg.querySelectorAll('path, rect, line, polyline').length,
          caption: f.querySelector('figcaption').textContent};
})"""


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(f"Chromium is not at {CHROMIUM}: scripts/test installs Debian's package chromium")
        pytest.skip(f"Chromium is not at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        chromium.close()
