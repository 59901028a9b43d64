"""`teamops kpi activity`: commits, lines, active days and AI estimates per person."""

from __future__ import annotations

from typing import Annotated

import typer

from teamops.cli.charts import show
from teamops.cli.kpi.window import LastOpt
from teamops.cli.options import (
    ChartOpt,
    FormatOpt,
    IncludeBotsOpt,
    LimitOpt,
    PersonOpt,
    ReposOpt,
    SinceOpt,
    TeamOpt,
    UntilOpt,
    fmt_value,
)
from teamops.cli.state import state
from teamops.errors import UsageError
from teamops.people.bots import find as find_bots
from teamops.people.handles import check_filters
from teamops.reports.activity import activity_report
from teamops.reports.model import limited
from teamops.reports.window import window


def activity_cmd(
    ctx: typer.Context,
    since: SinceOpt = None,
    until: UntilOpt = None,
    last: LastOpt = None,
    person: PersonOpt = None,
    team: TeamOpt = None,
    repo: ReposOpt = None,
    by: Annotated[str, typer.Option("--by", help="One row per person (default), per repo or per ISO week.")] = "person",
    limit: LimitOpt = None,
    fmt: FormatOpt = None,
    chart: ChartOpt = None,
    include_bots: IncludeBotsOpt = False,
) -> None:
    """Per person (or --by repo, --by week): commits (no merges), lines, active days, AI points and hours.

    All of history unless a range is given.

    Example: teamops kpi activity --last 4w --format markdown
    """
    st = state(ctx)
    check_filters(st.reader, person, team)
    if by not in ("person", "repo", "week"):
        raise UsageError(f"--by takes person, repo or week, not {by!r}")
    bots = None if include_bots else find_bots(st.reader, st.config)
    report = activity_report(st.reader, window(since, until, last), person, team, repo, by, bots)
    report.rows, report.more = limited(report.rows, limit)
    show(st.output(fmt_value(fmt)), report, chart)
