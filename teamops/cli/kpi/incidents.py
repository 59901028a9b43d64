"""`teamops kpi incidents`: the window's incidents, their recovery, and the deployment each failed."""

from __future__ import annotations

import typer

from teamops.cli.charts import show
from teamops.cli.kpi.window import LastOpt
from teamops.cli.options import FormatOpt, ReposOpt, SinceOpt, UntilOpt, fmt_value
from teamops.cli.state import state
from teamops.reports.incidents import incidents_report


def incidents_cmd(
    ctx: typer.Context,
    repo: ReposOpt = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    last: LastOpt = None,
    fmt: FormatOpt = None,
) -> None:
    """Incidents opened in the window (recorded with `teamops incident`, and incident tasks): when each was
    resolved, how long it took, and which deployment it failed (docs/kpi.md, "Incidents").

    Example: teamops kpi incidents --last 3m -f json
    """
    st = state(ctx)
    show(st.output(fmt_value(fmt)), incidents_report(st.reader, st.config, since, until, last, repo), None)
