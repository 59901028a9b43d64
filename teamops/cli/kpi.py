"""`teamops kpi`: the team's numbers in the terminal, and as JSON, CSV or Markdown with charts."""

from __future__ import annotations

from typing import Annotated

import typer

from teamops.cli.charts import mermaid, terminal_chart
from teamops.cli.options import (
    FormatOpt,
    LimitOpt,
    PersonOpt,
    RepoOpt,
    SinceOpt,
    SprintOpt,
    TeamOpt,
    UntilOpt,
    fmt_value,
    group_help,
)
from teamops.cli.output import Column, Output, Report, limited
from teamops.cli.state import AppState, state
from teamops.clock import now
from teamops.kpi.activity import ActivityFilter, activity, check_filters, empty_hint, notes
from teamops.kpi.burndown import Burndown, burndown
from teamops.kpi.flow import TaskFilter, cycle_time, efficiency
from teamops.kpi.summary import summarize
from teamops.kpi.velocity import sprint_velocity, weekly_completed
from teamops.kpi.windows import LatestBefore, Window, resolve
from teamops.store.commit_stats import ai_points_by_week
from teamops.store.commits import latest_commit_before
from teamops.store.sprints import current_sprint
from teamops.store.tasks import latest_done_before
from teamops.wording import count, number, percent

app = typer.Typer(
    help=group_help("KPI reports (default: summary).", "teamops kpi activity --last 4w"), invoke_without_command=True
)

LastOpt = Annotated[str | None, typer.Option("--last", help="A window ending now: 7d, 4w, 3m (instead of --since).")]

ACTIVITY_COLUMNS = [
    Column("person", "Person"),
    Column("team", "Team", drop=2),
    Column("commits", "Commits", numeric=True),
    Column("additions", "+Lines", numeric=True),
    Column("deletions", "-Lines", numeric=True),
    Column("active_days", "Days", numeric=True, drop=3),
    Column("ai_points", "AI pts", numeric=True),
    Column("ai_hours", "AI h", numeric=True, drop=4),
    Column("first_commit", "First", date=True, drop=5),
    Column("last_commit", "Last", date=True, drop=6),
]
EMPTY = "nothing to report yet: run `teamops sync-commits`, and `teamops sync-tasks` or `teamops task add`"


def window(
    since: str | None,
    until: str | None,
    last: str | None,
    default_weeks: int | None = None,
    latest_before: LatestBefore | None = None,
) -> Window:
    """The report's window from --since/--until/--last, or its default (see docs/kpi.md)."""
    return resolve(since, until, last, now(), default_weeks=default_weeks, latest_before=latest_before)


def activity_report(st: AppState, win: Window, person: str | None, team: str | None, repo: str | None) -> Report:
    flt = ActivityFilter(win.since, win.until, person, team, repo)
    rows = activity(st.reader, flt)
    return Report(
        name="activity",
        rows=[r.row() for r in rows],
        columns=ACTIVITY_COLUMNS,
        title=f"Commit activity, {win.label} (merges left out)",
        meta={**win.meta(), "person": person, "team": team, "repo": repo},
        empty="" if rows else empty_hint(st.reader, flt, win, now()),
        footer="\n".join(notes(rows)) or None,
    )


@app.callback()
def kpi_default(ctx: typer.Context, fmt: FormatOpt = None) -> None:
    """KPI reports; with no report named, the one-screen summary.

    \b
    Examples:
      teamops kpi                       # the summary of the last 4 weeks
      teamops kpi activity --last 3m
      teamops kpi burndown -f markdown >> "$GITHUB_STEP_SUMMARY"
    """
    if ctx.invoked_subcommand is None:
        render_summary(state(ctx), state(ctx).output(fmt_value(fmt)), None, None, None, None, None, None)


@app.command("activity")
def activity_cmd(
    ctx: typer.Context,
    since: SinceOpt = None,
    until: UntilOpt = None,
    last: LastOpt = None,
    person: PersonOpt = None,
    team: TeamOpt = None,
    repo: RepoOpt = None,
    limit: LimitOpt = None,
    fmt: FormatOpt = None,
) -> None:
    """Per person: commits (no merges), lines added and deleted, active days, AI points and hours.

    All of history unless a range is given.

    Example: teamops kpi activity --last 4w --format markdown
    """
    st = state(ctx)
    check_filters(st.reader, person, team)
    report = activity_report(st, window(since, until, last), person, team, repo)
    report.rows, report.more = limited(report.rows, limit)
    st.output(fmt_value(fmt)).report(report)


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


@app.command("velocity")
def velocity_cmd(
    ctx: typer.Context,
    since: SinceOpt = None,
    until: UntilOpt = None,
    last: LastOpt = None,
    team: TeamOpt = None,
    person: PersonOpt = None,
    fmt: FormatOpt = None,
) -> None:
    """Committed vs completed points per sprint and the mean velocity; per ISO week without sprints.

    Example: teamops kpi velocity --format markdown
    """
    st = state(ctx)
    check_filters(st.reader, person, team)
    out = st.output(fmt_value(fmt))
    win = window(since, until, last)
    vel = sprint_velocity(st.reader, st.config, now(), team)
    # AI points: the last 12 weeks (of activity) unless a range is given.
    ai_win = win if win.since else window(None, until, None, 12, lambda m: latest_commit_before(st.reader, m))
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
        weeks = weekly_completed(st.reader, st.config, TaskFilter(win.since, win.until, None, person, team))
        rows = [w.row() for w in weeks]
        labels = [w.week for w in weeks]
        series = {"completed": [w.completed for w in weeks]}
        footer, title, columns = (
            "no sprints: completed points per ISO week",
            f"Velocity by ISO week, {win.label}",
            WEEK_COLUMNS,
        )
    report = Report(
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
            "ai_points_by_week": ai_points_by_week(st.reader, ai_win.since, ai_win.until),
        },
        empty="no finished work yet: sprints or done tasks are needed",
    )
    if out.fmt == "markdown" and rows:
        out.stdout.write(out.markdown(report))
        bars = {"committed": series["committed"]} if "committed" in series else {}
        out.stdout.write(mermaid("Velocity", labels, {"completed": series["completed"]}, bars) + "\n")
        return
    out.report(report)
    if out.fmt == "table" and rows:
        out.stdout.write(terminal_chart("Velocity", labels, series, out.color) + "\n")


@app.command("burndown")
def burndown_cmd(ctx: typer.Context, sprint: SprintOpt = None, fmt: FormatOpt = None) -> None:
    """Remaining points per day of a sprint against the ideal line; scope changes listed.

    Example: teamops kpi burndown --sprint "Sprint 7" --format markdown
    """
    st = state(ctx)
    render_burndown(st, st.output(fmt_value(fmt)), sprint)


def render_burndown(st: AppState, out: Output, sprint: str | None) -> None:
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
    series = {"remaining": [d.remaining for d in data.days], "ideal": [d.ideal for d in data.days]}
    if out.fmt == "markdown":
        out.stdout.write(out.markdown(report))
        out.stdout.write(mermaid(f"Burndown {name}", [label[5:] for label in labels], series) + "\n")
        return
    out.report(report)
    if out.fmt == "table":
        out.stdout.write(terminal_chart(f"Burndown: {name}", labels, series, out.color) + "\n")


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


def latest_done(st: AppState) -> LatestBefore:
    return lambda moment: latest_done_before(st.reader, moment)


@app.command("efficiency")
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
            footer=f"flow efficiency {percent(data.flow_efficiency)} over {count(data.measured_tasks, 'task')}; "
            f"estimate accuracy (spent ÷ estimated) {number(data.estimate_accuracy)}",
            empty=f"no tasks finished {win.label}",
        )
    )


@app.command("cycle-time")
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
            rows=[r.row() for r in data.rows],
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


@app.command("summary")
def summary_cmd(
    ctx: typer.Context,
    sprint: SprintOpt = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    last: LastOpt = None,
    person: PersonOpt = None,
    team: TeamOpt = None,
    fmt: FormatOpt = None,
) -> None:
    """One screen: commits, people and AI points, and the sprint, velocity, flow and cycle time when there are tasks.

    The last 4 weeks, or the 4 weeks up to the latest activity when nothing happened since.

    Example: teamops kpi summary --last 2w --team web
    """
    st = state(ctx)
    render_summary(st, st.output(fmt_value(fmt)), sprint, since, until, last, person, team)


def render_summary(
    st: AppState,
    out: Output,
    sprint: str | None,
    since: str | None,
    until: str | None,
    last: str | None,
    person: str | None,
    team: str | None,
) -> None:
    check_filters(st.reader, person, team)
    summary = summarize(
        st.reader, st.config, now(), since=since, until=until, last=last, sprint=sprint, person=person, team=team
    )
    if summary.empty:
        out.data({"report": "summary", "empty": True, "rows": []}, EMPTY)
        return
    if out.fmt == "json":
        out.data(summary.to_json(), "")
        return
    facts = Report(
        name="summary",
        rows=[{"metric": k, "value": v} for k, v in summary.facts()],
        title=f"Team summary, {summary.window.label}",
        columns=[Column("metric", "Metric"), Column("value", "Value", cut=True)],
        footer=summary.note,
    )
    out.report(facts)
    if out.fmt == "csv":
        return
    act = activity_report(st, summary.window, person, team, None)
    if summary.activity:
        act.rows = [r.row() for r in summary.activity]
        out.report(act)
