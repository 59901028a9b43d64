"""`teamops kpi burndown`: remaining points per day of a sprint against the ideal line."""

from __future__ import annotations

import typer

from teamops.cli.charts import show
from teamops.cli.options import ChartOpt, FormatOpt, SprintOpt, fmt_value
from teamops.cli.output import Output
from teamops.cli.state import AppState, state
from teamops.reports.burndown import burndown_report
from teamops.store.sprints import current_sprint


def burndown_cmd(ctx: typer.Context, sprint: SprintOpt = None, fmt: FormatOpt = None, chart: ChartOpt = None) -> None:
    """Remaining points per day of a sprint against the ideal line; scope changes listed.

    Example: teamops kpi burndown --sprint "Sprint 7" --format markdown
    """
    st = state(ctx)
    render_burndown(st, st.output(fmt_value(fmt)), sprint, chart)


def render_burndown(st: AppState, out: Output, sprint: str | None, chart: bool | None = None) -> None:
    """The burndown of a sprint (default: the active or last one) in the output's format, with its chart."""
    name = sprint or current_sprint(st.reader)
    if name is None:
        out.data(
            {"report": "burndown", "sprint": None, "rows": []},
            "no sprints yet: `teamops sprint add` (or ClickUp sprint folders) make a burndown",
        )
        return
    show(out, burndown_report(st.reader, st.config, name), chart)
