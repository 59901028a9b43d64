"""`teamops kpi ai`: how much of the work AI assistants co-wrote, and how it compares with the rest."""

from __future__ import annotations

from typing import Annotated

import typer

from teamops.cli.charts import show
from teamops.cli.kpi.window import LastOpt
from teamops.cli.options import ChartOpt, FormatOpt, ReposOpt, SinceOpt, UntilOpt, fmt_value
from teamops.cli.state import state


def ai_cmd(
    ctx: typer.Context,
    repo: ReposOpt = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    last: LastOpt = None,
    by: Annotated[str, typer.Option("--by", help="week, person, team, repo or assistant.")] = "week",
    compare: Annotated[
        bool, typer.Option("--compare", help="Assisted work beside the rest: flow, size, review, quality.")
    ] = False,
    usage: Annotated[
        bool,
        typer.Option(
            "--usage",
            help="The assistants' own usage reports (GitHub Copilot's: [github] copilot_orgs) by week, person or team.",
        ),
    ] = False,
    fmt: FormatOpt = None,
    chart: ChartOpt = None,
) -> None:
    """The share of commits, changed lines and merged pull requests an AI assistant co-wrote, found from the marks
    assistants leave (trailers, authors, footers, labels; docs/kpi.md lists them), per week, person, team,
    repository or assistant; with --compare, assisted work beside the rest on the same window, each side with
    its sample size (no causal claim). With --usage, what the assistants' own reports count (GitHub Copilot's:
    people active, prompts, lines suggested and added in the editor, suggestions accepted), beside, never mixed in.

    \b
    Examples:
      teamops kpi ai --last 3m
      teamops kpi ai --by assistant -f json
      teamops kpi ai --compare
      teamops kpi ai --usage --by person
    """
    from teamops.reports.ai import ai_report

    st = state(ctx)
    report = ai_report(st.reader, st.config, since, until, last, repo, by, compare, usage)
    show(st.output(fmt_value(fmt)), report, chart)
