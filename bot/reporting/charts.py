"""Charts drawn on the server with matplotlib: SVG for the HTML report and the audit pack (no JavaScript, sharp in
print), PNG for Slack. Each takes plain figures and returns a Chart; nothing here reads the database."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import matplotlib
from markupsafe import escape

matplotlib.use("Agg")  # no screen: draw to files only

from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator, PercentFormatter

COLOURS = {
    "critical": "#b3261e",
    "high": "#e8710a",
    "medium": "#b08800",
    "low": "#1a73e8",
    "unknown": "#6b7280",
    "Fully patched": "#2e7d32",
    "Updates to install": "#f2b705",
    "Overdue": "#b3261e",
    "Not seen": "#9aa0a6",
}
STYLE = {
    "svg.fonttype": "none",  # text stays text: searchable, and printed by the browser's own fonts
    "svg.hashsalt": "patchpolicy",  # the same chart gives the same SVG
    "font.size": 9,
    "font.family": "DejaVu Sans",
    "axes.spines.top": False,
    "axes.spines.right": False,
}


@dataclass(frozen=True)
class Chart:
    """A drawn chart: its title, a sentence for screen readers and as the image's alternative text, the SVG."""

    title: str
    alt: str
    svg: str

    def figure_html(self) -> str:
        """The chart as an HTML figure (the SVG inline, so a printout needs no other file)."""
        label, title = escape(self.alt), escape(self.title)
        caption = f"<figcaption>{title}</figcaption>"
        return f'<figure class="chart" role="img" aria-label="{label}">{self.svg}{caption}</figure>'


def trend(months: Sequence[tuple[str, Mapping[str, float | None]]], target: int) -> Figure:
    """On-time share per severity per month, with the policy's target as a dashed line."""
    fig = Figure(figsize=(7.2, 2.8))
    ax = fig.add_subplot()
    labels = [label for label, _ in months]
    severities = [s for s in COLOURS if any(values.get(s) is not None for _, values in months)]
    xs = list(range(len(labels)))
    for severity in severities:
        ys = [values.get(severity) for _, values in months]
        ax.plot(
            xs,
            [float("nan") if y is None else 100 * y for y in ys],
            marker="o",
            markersize=3,
            label=severity.title(),
            color=COLOURS[severity],
        )
    ax.axhline(target, linestyle="--", color="#1d3557", linewidth=1, label=f"Target {target}%")
    ax.set_xticks(xs, labels)
    ax.set_xlim(-0.5, max(len(labels) - 0.5, 0.5))
    ax.set_ylim(0, 105)
    ax.yaxis.set_major_formatter(PercentFormatter())
    ax.set_ylabel("Installed by deadline")
    ax.tick_params(axis="x", labelrotation=0, labelsize=7)
    ax.legend(loc="lower left", fontsize=7, ncols=min(len(severities) + 1, 6), frameon=False)
    fig.tight_layout()
    return fig


def distribution(histograms: Mapping[str, Mapping[str, int]], buckets: Sequence[str]) -> Figure:
    """How long updates took to install, per severity: grouped bars over the time-to-patch buckets."""
    fig = Figure(figsize=(7.2, 2.6))
    ax = fig.add_subplot()
    severities = [s for s in COLOURS if s in histograms]
    width = 0.8 / max(len(severities), 1)
    for i, severity in enumerate(severities):
        xs = [b + i * width - 0.4 + width / 2 for b in range(len(buckets))]
        heights = [histograms[severity].get(b, 0) for b in buckets]
        ax.bar(xs, heights, width, label=severity.title(), color=COLOURS[severity])
    ax.set_xticks(range(len(buckets)), [_bucket_label(b) for b in buckets])
    ax.set_ylabel("Updates installed")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.legend(fontsize=7, frameon=False)
    fig.tight_layout()
    return fig


def device_states(groups: Sequence[tuple[str, Mapping[str, int]]]) -> Figure:
    """Devices by state, one horizontal stacked bar per maintenance group."""
    states = ("Fully patched", "Updates to install", "Overdue", "Not seen")
    fig = Figure(figsize=(7.2, 0.6 + 0.4 * max(len(groups), 1)))
    ax = fig.add_subplot()
    names = [name for name, _ in groups][::-1]
    left = [0] * len(names)
    for state in states:
        counts = [dict(groups)[name].get(state, 0) for name in names]
        ax.barh(names, counts, left=left, label=state, color=COLOURS[state])
        left = [a + b for a, b in zip(left, counts, strict=True)]
    ax.set_xlabel("Devices")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.legend(fontsize=7, ncols=4, frameon=False, loc="lower center", bbox_to_anchor=(0.5, 1.0))
    fig.tight_layout()
    return fig


def svg(fig: Figure, title: str, alt: str) -> Chart:
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": "PatchPolicy"})
    text = buffer.getvalue()
    return Chart(title, alt, text[text.index("<svg") :])


def png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=150, metadata={"Software": "PatchPolicy"})
    return buffer.getvalue()


def styled() -> object:
    """The house style, for a `with` block around drawing and saving."""
    return matplotlib.rc_context(STYLE)


def _bucket_label(name: str) -> str:
    return "> 90 days" if name == "longer" else f"≤ {name.removesuffix('d')} d"
