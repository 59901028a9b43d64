"""`teamops kpi efficiency` and `cycle-time`: how finished tasks flowed, from their history."""

from __future__ import annotations

import typer

from teamops.cli.kpi.window import LastOpt, latest_done
from teamops.cli.options import FormatOpt, LimitOpt, PersonOpt, SinceOpt, SprintOpt, TeamOpt, UntilOpt, fmt_value
from teamops.cli.state import state
from teamops.kpi.flow import TaskFilter, cycle_time, efficiency, flow_phrase
from teamops.people.handles import check_filters
from teamops.reports.model import Column, Report, limited
from teamops.reports.window import window
from teamops.wording import number


def efficiency_cmd(
    ctx: typer.Context,
    sprint: SprintOpt = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    last: LastOpt = None,
    person: PersonOpt = None,
    team: TeamOpt = None,
    limit: LimitOpt = None,
    fmt: FormatOpt = None,
) -> None:
    """Flow efficiency (active ÷ active+waiting+blocked) of finished tasks, and estimate accuracy.

    Tasks finished in the last 12 weeks (of activity) unless --since, --last or --sprint says otherwise.

    Example: teamops kpi efficiency --last 4w --team web
    """
    st = state(ctx)
    check_filters(st.reader, person, team)
    win = window(since, until, last, None if sprint else 12, latest_done(st))
    data = efficiency(st.reader, st.config, TaskFilter(win.since, win.until, sprint, person, team))
    rows, more = limited([r.row() for r in data.rows], limit)
    st.output(fmt_value(fmt)).report(
        Report(
            name="efficiency",
            rows=rows,
            more=more,
            title=f"Flow efficiency of tasks finished {win.label}" + (f" in {sprint}" if sprint else ""),
            columns=[
                Column("task", "Task"),
                Column("title", "Title", cut=True),
                Column("active_h", "Active h", numeric=True),
                Column("waiting_h", "Waiting h", numeric=True),
                Column("blocked_h", "Blocked h", numeric=True),
                Column("flow_efficiency", "Flow eff.", numeric=True, percent=True),
                Column("estimate_h", "Est. h", numeric=True, drop=1),
                Column("spent_h", "Spent h", numeric=True, drop=1),
            ],
            meta={**win.meta(), "sprint": sprint, "person": person, "team": team, **data.totals()},
            footer=f"flow efficiency {flow_phrase(data.flow_efficiency, data.tasks, data.measured_tasks)}; "
            f"estimate accuracy (spent ÷ estimated) {number(data.estimate_accuracy)}",
            empty=f"no tasks finished {win.label}",
        )
    )


def cycle_time_cmd(
    ctx: typer.Context,
    sprint: SprintOpt = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    last: LastOpt = None,
    person: PersonOpt = None,
    team: TeamOpt = None,
    fmt: FormatOpt = None,
) -> None:
    """Cycle time (in progress → done) and lead time (created → done): median and 85th percentile.

    Tasks finished in the last 12 weeks (of activity) unless --since, --last or --sprint says otherwise.

    Example: teamops kpi cycle-time --sprint "Sprint 7"
    """
    st = state(ctx)
    check_filters(st.reader, person, team)
    win = window(since, until, last, None if sprint else 12, latest_done(st))
    data = cycle_time(st.reader, st.config, TaskFilter(win.since, win.until, sprint, person, team))
    st.output(fmt_value(fmt)).report(
        Report(
            name="cycle-time",
            rows=[r.row() for r in data.rows] if data.tasks else [],
            empty=f"no tasks finished {win.label}",
            title=f"Cycle and lead time (days) of tasks finished {win.label}",
            columns=[
                Column("metric", "Metric"),
                Column("tasks", "Tasks", numeric=True),
                Column("median_days", "Median", numeric=True),
                Column("p85_days", "85th pct", numeric=True),
                Column("mean_days", "Mean", numeric=True),
            ],
            meta={
                **win.meta(),
                "sprint": sprint,
                "person": person,
                "team": team,
                "tasks": data.tasks,
                "never_started": data.never_started,
            },
        )
    )
