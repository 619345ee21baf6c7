"""Each feed's last read as people and /healthz see it: when, what it found, and any error."""

from __future__ import annotations

from datetime import datetime

from bot.feeds.watch import NAMES, Feeds
from bot.kernel.views import TableView


def feeds_table(feeds: Feeds) -> TableView:
    """`/patchpolicy feeds`."""
    rows = []
    for state in feeds.states():
        if state.feed not in feeds.enabled():
            result = f"Off: {state.feed.upper()}_URL is empty"
        elif state.attempted_at is None:
            result = "Not read yet"
        elif state.error:
            since = f" (since {_when(state.succeeded_at)} without a good read)" if state.succeeded_at else ""
            result = f"Failing, {state.failures} time{'s' * (state.failures != 1)}: {state.error}{since}"
        else:
            result = state.found or "Nothing new"
        rows.append((NAMES[state.feed], _when(state.attempted_at), result, _when(state.next_at)))
    footer = "Times are UTC. `patchpolicy feeds refresh` on the command line reads them now."
    return TableView("Threat feeds", ("Feed", "Last read", "Result", "Next read"), tuple(rows), footer)


def feeds_health(feeds: Feeds) -> dict[str, str]:
    """For /healthz's detail: each feed that is on, ok, failing or not read yet (a failing feed never makes the
    bot unhealthy)."""
    detail = {}
    for state in feeds.states():
        if state.feed not in feeds.enabled():
            continue
        if state.attempted_at is None:
            detail[state.feed] = "not read yet"
        elif state.error:
            detail[state.feed] = f"failing since {_when(state.succeeded_at) if state.succeeded_at else 'the start'}"
        else:
            detail[state.feed] = f"ok, read {_when(state.succeeded_at)}"
    return detail


def _when(moment: datetime | None) -> str:
    return f"{moment:%d %b %H:%M}" if moment else "-"
