"""The options and default windows every report shares."""

from __future__ import annotations

from typing import Annotated

import typer

from teamops.cli.state import AppState
from teamops.kpi.windows import LatestBefore
from teamops.reports.window import window  # noqa: F401  (the commands' windows, with their options)
from teamops.store.tasks import latest_done_before

LastOpt = Annotated[str | None, typer.Option("--last", help="A window ending now: 7d, 4w, 3m (instead of --since).")]


def latest_done(st: AppState) -> LatestBefore:
    return lambda moment: latest_done_before(st.reader, moment)
