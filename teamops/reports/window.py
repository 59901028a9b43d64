"""The window a report covers: from --since/--until/--last, or its default moved back to the data."""

from __future__ import annotations

from teamops.clock import now
from teamops.kpi.windows import LatestBefore, Window, resolve


def window(
    since: str | None,
    until: str | None,
    last: str | None,
    default_weeks: int | None = None,
    latest_before: LatestBefore | None = None,
) -> Window:
    """The report's window from --since/--until/--last, or its default (see docs/kpi.md)."""
    return resolve(since, until, last, now(), default_weeks=default_weeks, latest_before=latest_before)
