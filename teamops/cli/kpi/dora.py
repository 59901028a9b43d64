"""`teamops kpi dora`: deployment frequency, change lead time, change fail rate, failed deployment recovery time
and rework rate."""

from __future__ import annotations

from typing import Annotated

import typer

from teamops.cli.charts import show
from teamops.cli.kpi.window import LastOpt
from teamops.cli.options import ChartOpt, FormatOpt, ReposOpt, ServiceOpt, SinceOpt, TeamOpt, UntilOpt, fmt_value
from teamops.cli.state import state
from teamops.people.handles import check_filters
from teamops.reports.dora import dora_report

EnvOpt = Annotated[str | None, typer.Option("--env", help="The environment (default: [dora] environment).")]


def dora_cmd(
    ctx: typer.Context,
    repo: ReposOpt = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    last: LastOpt = None,
    env: EnvOpt = None,
    team: TeamOpt = None,
    service: ServiceOpt = None,
    by: Annotated[
        str | None, typer.Option("--by", help="service or team: the keys per [[services]] entry, or per team.")
    ] = None,
    fmt: FormatOpt = None,
    chart: ChartOpt = None,
) -> None:
    """DORA's five metrics for production deployments: how often, how fast, how often it breaks, how fast it
    heals, how much is unplanned rework.

    The last 12 weeks (of deployments) unless a range is given. Deployments come from release tags
    (`sync-commits`), pushed tags, GitHub and GitLab deployments, deploy workflow runs and `teamops deploy
    record`; each failed one says why. See docs/kpi.md for each definition.

    \b
    Examples:
      teamops kpi dora --last 6m --format markdown
      teamops kpi dora --by service      # each [[services]] entry of a monorepo
      teamops kpi dora --service api     # one of them, deployment by deployment
    """
    st = state(ctx)
    if by is not None:
        from teamops.reports.dora import dora_groups_report

        report = dora_groups_report(st.reader, st.config, by, since, until, last, env, repo)
        show(st.output(fmt_value(fmt)), report, chart)
        return
    check_filters(st.reader, None, team)
    report = dora_report(st.reader, st.config, since, until, last, env, team, repo, service)
    show(st.output(fmt_value(fmt)), report, chart)
