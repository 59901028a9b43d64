"""The options and default windows every report shares."""

from __future__ import annotations

from typing import Annotated

import typer

from teamops.cli.state import AppState
from teamops.clock import now
from teamops.kpi.windows import LatestBefore, Window, resolve
from teamops.store.tasks import latest_done_before

LastOpt = Annotated[str | None, typer.Option("--last", help="A window ending now: 7d, 4w, 3m (instead of --since).")]


def window(
    since: str | None,
    until: str | None,
    last: str | None,
    default_weeks: int | None = None,
    latest_before: LatestBefore | None = None,
) -> Window:
    """The report's window from --since/--until/--last, or its default (see docs/kpi.md)."""
    return resolve(since, until, last, now(), default_weeks=default_weeks, latest_before=latest_before)


def latest_done(st: AppState) -> LatestBefore:
    return lambda moment: latest_done_before(st.reader, moment)
