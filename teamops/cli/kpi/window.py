"""The --last option every report shares, and the latest finished task as a default window's anchor."""

from __future__ import annotations

from typing import Annotated

import typer

from teamops.cli.state import AppState
from teamops.kpi.windows import LatestBefore
from teamops.store.tasks import latest_done_before

LastOpt = Annotated[str | None, typer.Option("--last", help="A window ending now: 7d, 4w, 3m (instead of --since).")]


def latest_done(st: AppState) -> LatestBefore:
    return lambda moment: latest_done_before(st.reader, moment)
