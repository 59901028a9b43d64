"""`teamops kpi prs` and `teamops kpi reviews`: the flow of pull requests, and who reviews how much."""

from __future__ import annotations

import typer

from teamops.cli.charts import show
from teamops.cli.kpi.window import LastOpt
from teamops.cli.options import (
    ChartOpt,
    FormatOpt,
    IncludeBotsOpt,
    PersonOpt,
    ReposOpt,
    SinceOpt,
    TeamOpt,
    UntilOpt,
    fmt_value,
)
from teamops.cli.state import state
from teamops.people.handles import check_filters
from teamops.reports.prs import prs_report, reviews_report


def prs_cmd(
    ctx: typer.Context,
    since: SinceOpt = None,
    until: UntilOpt = None,
    last: LastOpt = None,
    repo: ReposOpt = None,
    team: TeamOpt = None,
    person: PersonOpt = None,
    fmt: FormatOpt = None,
    chart: ChartOpt = None,
) -> None:
    """Pull-request flow per week: coding, pickup, review and deploy times (median and 85th percentile),
    pull requests merged, their size and how many merged without a review.

    The 12 weeks up to the latest merge unless a range is given; see docs/kpi.md for each stage.

    Example: teamops kpi prs --last 3m --repo 'acme/*'
    """
    st = state(ctx)
    check_filters(st.reader, person, team)
    out = st.output(fmt_value(fmt))
    show(out, prs_report(st.reader, st.config, since, until, last, repo, team, person, each=out.fmt == "json"), chart)


def reviews_cmd(
    ctx: typer.Context,
    since: SinceOpt = None,
    until: UntilOpt = None,
    last: LastOpt = None,
    repo: ReposOpt = None,
    fmt: FormatOpt = None,
    include_bots: IncludeBotsOpt = False,
) -> None:
    """Per person: reviews given on others' pull requests, how soon after being asked, approvals, and
    pull requests of their own; then who reviews whom.

    The 12 weeks up to the latest merge unless a range is given.

    Example: teamops kpi reviews --last 4w --format markdown
    """
    st = state(ctx)
    from teamops.people.bots import patterns

    bots = None if include_bots else patterns(st.config)
    st.output(fmt_value(fmt)).report(reviews_report(st.reader, since, until, last, repo, bots))
