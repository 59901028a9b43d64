"""`teamops kpi`: the team's numbers in the terminal, and as JSON, CSV or Markdown with charts."""

from __future__ import annotations

import typer

from teamops.cli.options import FormatOpt, IncludeBotsOpt, fmt_value, group_help
from teamops.cli.state import state

app = typer.Typer(
    help=group_help("KPI reports (default: summary).", "teamops kpi activity --last 4w"), invoke_without_command=True
)

# One module per report, imported only when that report runs (or help lists it): a report pays for
# its own queries and records, not for every other report's.
LOCATED_COMMANDS = {
    "activity": "teamops.cli.kpi.activity:activity_cmd",
    "velocity": "teamops.cli.kpi.velocity:velocity_cmd",
    "burndown": "teamops.cli.kpi.burndown:burndown_cmd",
    "efficiency": "teamops.cli.kpi.flow:efficiency_cmd",
    "cycle-time": "teamops.cli.kpi.flow:cycle_time_cmd",
    "dora": "teamops.cli.kpi.dora:dora_cmd",
    "incidents": "teamops.cli.kpi.incidents:incidents_cmd",
    "prs": "teamops.cli.kpi.prs:prs_cmd",
    "reviews": "teamops.cli.kpi.prs:reviews_cmd",
    "estimates": "teamops.cli.kpi.estimates:estimates_cmd",
    "ai": "teamops.cli.kpi.ai:ai_cmd",
    "summary": "teamops.cli.kpi.summary:summary_cmd",
}


@app.callback()
def kpi_default(ctx: typer.Context, fmt: FormatOpt = None, include_bots: IncludeBotsOpt = False) -> None:
    """KPI reports; with no report named, the one-screen summary.

    \b
    Examples:
      teamops kpi                       # the summary of the last 4 weeks
      teamops kpi activity --last 3m
      teamops kpi burndown -f markdown >> "$GITHUB_STEP_SUMMARY"
    """
    if ctx.invoked_subcommand is None:
        from teamops.cli.kpi.summary import render_summary  # the report's own module, as for `kpi summary`

        out = state(ctx).output(fmt_value(fmt))
        render_summary(state(ctx), out, None, None, None, None, None, None, include_bots=include_bots)
