"""`teamops kpi incidents`: the window's incidents, their recovery, and the deployment each failed."""

from __future__ import annotations

import typer

from teamops.cli.charts import show
from teamops.cli.kpi.window import LastOpt
from teamops.cli.options import FormatOpt, ReposOpt, ServiceOpt, SinceOpt, TeamOpt, UntilOpt, fmt_value
from teamops.cli.state import state
from teamops.reports.incidents import incidents_report


def incidents_cmd(
    ctx: typer.Context,
    repo: ReposOpt = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    last: LastOpt = None,
    team: TeamOpt = None,
    service: ServiceOpt = None,
    fmt: FormatOpt = None,
) -> None:
    """Incidents opened in the window (recorded with `teamops incident`, and incident tasks): when each was
    resolved, how long it took, and which deployment it failed (docs/kpi.md, "Incidents"). With --team or
    --service, the incidents whose failed deployment is the team's (it shipped their work) or the service's.

    \b
    Examples:
      teamops kpi incidents --last 3m -f json
      teamops kpi incidents --service api
    """
    from teamops.people.handles import check_filters

    st = state(ctx)
    check_filters(st.reader, None, team)
    report = incidents_report(st.reader, st.config, since, until, last, repo, team, service)
    show(st.output(fmt_value(fmt)), report, None)
