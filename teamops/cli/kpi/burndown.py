"""`teamops kpi burndown`: remaining points per day of a sprint against the ideal line."""

from __future__ import annotations

import typer

from teamops.cli.charts import Series, mermaid, terminal_chart, wanted
from teamops.cli.options import ChartOpt, FormatOpt, SprintOpt, fmt_value
from teamops.cli.output import Column, Output, Report
from teamops.cli.state import AppState, state
from teamops.clock import now
from teamops.kpi.burndown import Burndown, burndown
from teamops.store.sprints import current_sprint
from teamops.wording import count, number


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
    data = burndown(st.reader, st.config, name, now())
    report = Report(
        name="burndown",
        rows=[d.row() for d in data.days],
        title=f"Burndown: {name} ({data.start} to {data.end})",
        columns=[
            Column("date", "Day"),
            Column("working_day", "Working"),
            Column("remaining", "Remaining", numeric=True),
            Column("ideal", "Ideal", numeric=True),
            Column("scope", "Scope", numeric=True),
            Column("unpointed_tasks", "Unpointed", numeric=True),
        ],
        meta=data.meta(),
        footer=burndown_footer(data),
    )
    labels = [d.date for d in data.days]
    # Remaining as bars: days still to come have none (a line cannot have gaps in Mermaid).
    bars = {"remaining": [d.remaining for d in data.days]}
    lines: Series = {"ideal": [d.ideal or 0.0 for d in data.days]}
    if out.fmt == "markdown":
        out.stdout.write(out.markdown(report))
        out.stdout.write(mermaid(f"Burndown {name}", [label[5:] for label in labels], bars, lines) + "\n")
        return
    out.report(report)
    if wanted(out.fmt, out.tty, chart):
        out.stdout.write(terminal_chart(f"Burndown: {name}", labels, bars, lines, out.color) + "\n")


def burndown_footer(data: Burndown) -> str:
    lines = [f"committed {number(data.committed)} points; {count(data.working_days_left, 'working day')} left"]
    if data.remaining is not None:
        lines.append(
            f"as of {data.as_of}: {number(data.remaining)} remaining vs {number(data.ideal_now)} ideal → {data.trend}"
        )
    for change in data.scope_changes:
        line = f"scope: {change['at'][:10]} {change['task']} {change['change']}"
        if change["change"] == "re-estimated":
            line += f" ({change['old'] or '-'} → {change['new'] or '-'})"
        lines.append(line)
    return "\n".join(lines)
