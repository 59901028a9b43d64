"""`teamops kpi estimates`: suggested against given points, commit-estimated hours against time in progress."""

from __future__ import annotations

import typer

from teamops.cli.kpi.window import LastOpt, latest_done
from teamops.cli.options import FormatOpt, PersonOpt, SinceOpt, TeamOpt, UntilOpt, fmt_value
from teamops.cli.state import state
from teamops.kpi.estimates import MIN_CALIBRATION, estimates
from teamops.people.handles import check_filters, person_id
from teamops.reports.model import Column, Report
from teamops.reports.window import window
from teamops.wording import count


def estimates_cmd(
    ctx: typer.Context,
    since: SinceOpt = None,
    until: UntilOpt = None,
    last: LastOpt = None,
    person: PersonOpt = None,
    team: TeamOpt = None,
    fmt: FormatOpt = None,
) -> None:
    """Per person and team: how far suggested points were from the points given, and the hours their
    commits were estimated at from the hours the tasks were in progress; the team's own hours per point.

    Commits are linked to tasks by [tasks] link_patterns (CU-abc, SHOP-12, #12). The 12 weeks up to
    the latest finished task unless a range is given.

    Example: teamops kpi estimates --last 3m --format markdown
    """
    st = state(ctx)
    check_filters(st.reader, person, team)
    out = st.output(fmt_value(fmt))
    win = window(since, until, last, 12, latest_done(st))
    pid = person_id(st.reader, person) if person else None
    data = estimates(st.reader, st.config, win.since, win.until, pid, team)
    linked = sum(1 for t in data.tasks if t.commits)
    lines = [f"{count(len(data.tasks), 'finished task')}, {linked:,} with linked commits"]
    if data.hours_per_point is not None:
        lines.append(
            f"hours per point, the team's own (median time in progress of {data.calibrated_on:,} tasks): "
            f"{data.hours_per_point:g}; the commit estimates imply {data.heuristic_hours_per_point or 0:g}"
        )
    else:
        lines.append(f"hours per point: needs {MIN_CALIBRATION} finished tasks with points and a time in progress")
    out.report(
        Report(
            name="estimates",
            rows=[g.row() for g in data.groups],
            columns=[
                Column("group", "Group", drop=3),
                Column("name", "Name"),
                Column("tasks", "Tasks", numeric=True),
                Column("points_mae", "Points error", numeric=True, decimals=2),
                Column("commit_hours", "Commit h", numeric=True, drop=2),
                Column("in_progress_h", "In progress h", numeric=True, drop=1),
                Column("hours_ratio", "Estimated ÷ actual", numeric=True, decimals=2),
            ],
            title=f"Estimates against actuals, {win.label}",
            meta={**win.meta(), "person": person, "team": team, **data.meta()},
            footer="\n".join(lines),
            empty="" if data.tasks else "no task finished in this window",
        )
    )
