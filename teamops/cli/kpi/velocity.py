"""`teamops kpi velocity`: committed and completed points per sprint, or per ISO week."""

from __future__ import annotations

import typer

from teamops.cli.charts import show
from teamops.cli.kpi.window import LastOpt
from teamops.cli.options import ChartOpt, FormatOpt, PersonOpt, SinceOpt, TeamOpt, UntilOpt, fmt_value
from teamops.cli.state import state
from teamops.people.handles import check_filters
from teamops.reports.velocity import velocity_report


def velocity_cmd(
    ctx: typer.Context,
    since: SinceOpt = None,
    until: UntilOpt = None,
    last: LastOpt = None,
    team: TeamOpt = None,
    person: PersonOpt = None,
    fmt: FormatOpt = None,
    chart: ChartOpt = None,
) -> None:
    """Committed vs completed points per sprint and the mean velocity; per ISO week without sprints.

    Example: teamops kpi velocity --format markdown
    """
    st = state(ctx)
    check_filters(st.reader, person, team)
    show(st.output(fmt_value(fmt)), velocity_report(st.reader, st.config, since, until, last, team, person), chart)
