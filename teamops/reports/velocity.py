"""Velocity as a report: committed and completed points per sprint, or per ISO week without sprints."""

from __future__ import annotations

from typing import TYPE_CHECKING

from teamops.clock import now
from teamops.kpi.flow import TaskFilter
from teamops.kpi.velocity import sprint_velocity, weekly_completed
from teamops.reports.model import Chart, Column, Report, Series
from teamops.reports.window import window
from teamops.store.commit_stats import ai_points_by_week
from teamops.store.commits import latest_commit_before
from teamops.wording import count, number

if TYPE_CHECKING:
    from teamops.config import Config
    from teamops.store.reader import Reader


SPRINT_COLUMNS = [
    Column("sprint", "Sprint"),
    Column("start", "Start"),
    Column("end", "End"),
    Column("status", "Status"),
    Column("committed", "Committed", numeric=True),
    Column("completed", "Completed", numeric=True),
    Column("say_do", "Say/do", numeric=True, percent=True),
    Column("unpointed_done", "Unpointed done", numeric=True),
]


WEEK_COLUMNS = [
    Column("week", "Week"),
    Column("completed", "Completed", numeric=True),
    Column("tasks_done", "Tasks done", numeric=True),
    Column("unpointed_done", "Unpointed done", numeric=True),
]


def velocity_report(
    db: Reader,
    cfg: Config,
    since: str | None = None,
    until: str | None = None,
    last: str | None = None,
    team: str | None = None,
    person: str | None = None,
) -> Report:
    """Velocity per sprint (per ISO week without sprints), with its chart and AI points per week in `meta`."""
    win = window(since, until, last)
    vel = sprint_velocity(db, cfg, now(), team)
    # AI points: the last 12 weeks (of activity) unless a range is given.
    ai_win = win if win.since else window(None, until, None, 12, lambda m: latest_commit_before(db, m))
    if vel.sprints:
        rows = [s.row() for s in vel.sprints]
        labels = [s.sprint for s in vel.sprints]
        series: dict[str, list[float | None]] = {
            "committed": [s.committed for s in vel.sprints],
            "completed": [s.completed for s in vel.sprints],
        }
        footer = (
            f"velocity: {number(vel.velocity)} points "
            f"(mean of the last {count(vel.velocity_sprints, 'finished sprint')})"
            if vel.velocity is not None
            else "velocity: n/a until a sprint has finished"
        )
        title, columns = "Velocity by sprint", SPRINT_COLUMNS
    else:
        weeks = weekly_completed(db, cfg, TaskFilter(win.since, win.until, None, person, team))
        rows = [w.row() for w in weeks]
        labels = [w.week for w in weeks]
        series = {"completed": [w.completed for w in weeks]}
        footer, title, columns = (
            "no sprints: completed points per ISO week",
            f"Velocity by ISO week, {win.label}",
            WEEK_COLUMNS,
        )
    # Sprints: committed as bars, completed as a line; weeks: completed as bars. The same in both charts.
    lines: Series = {}
    if "committed" in series:
        bars, lines = {"committed": series["committed"]}, {"completed": [v or 0.0 for v in series["completed"]]}
    else:
        bars = {"completed": series["completed"]}
    return Report(
        name="velocity",
        rows=rows,
        columns=columns,
        title=title,
        footer=footer,
        meta={
            "velocity": vel.velocity,
            "velocity_sprints": vel.velocity_sprints,
            "mode": "sprints" if vel.sprints else "weeks",
            "ai_points_since": ai_win.since,
            "ai_points_until": ai_win.until,
            "ai_points_by_week": ai_points_by_week(db, ai_win.since, ai_win.until),
        },
        empty="no finished work yet: sprints or done tasks are needed",
        chart=Chart("Velocity", labels, bars, lines),
    )
