"""`teamops kpi`: the team's numbers in the terminal, and as JSON, CSV or Markdown with charts."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from teamops.cli.options import FormatOpt, PersonOpt, RepoOpt, SinceOpt, TeamOpt, UntilOpt, fmt_value
from teamops.cli.output import Column, Output, Report
from teamops.cli.state import AppState, state
from teamops.dates import range_bounds
from teamops.errors import UsageError

app = typer.Typer(help="KPI reports (default: summary).", invoke_without_command=True)

SprintOpt = Annotated[str | None, typer.Option("--sprint", help="A sprint (default: the active or last one).")]
LastOpt = Annotated[str | None, typer.Option("--last", help="A window ending now: 7d, 4w, 3m (instead of --since).")]

ACTIVITY_COLUMNS = [
    Column("person", "Person"),
    Column("team", "Team"),
    Column("commits", "Commits", numeric=True),
    Column("additions", "+Lines", numeric=True),
    Column("deletions", "-Lines", numeric=True),
    Column("active_days", "Active days", numeric=True),
    Column("ai_points", "AI points", numeric=True),
    Column("ai_hours", "AI hours", numeric=True),
    Column("first_commit", "First", date=True),
    Column("last_commit", "Last", date=True),
]
EMPTY = "nothing to report yet: run `teamops sync-commits`, and `teamops sync-tasks` or `teamops task add`"


def window(
    since: str | None, until: str | None, last: str | None, default_last: str | None = None
) -> tuple[str | None, str | None]:
    """UTC bounds from --since/--until or --last (a window ending now)."""
    if last and since:
        raise UsageError("give --last or --since, not both")
    lo, hi = range_bounds(last or since or default_last, until)
    if hi is None and (last or not since) and lo is not None:
        # A window ending now ends now even when TEAMOPS_NOW replays an earlier day.
        from teamops.clock import now_iso

        hi = now_iso()
    return lo, hi


def current_sprint(st: AppState) -> str | None:
    db = st.reader
    row = (
        db.execute("SELECT name FROM sprints WHERE status = 'active' ORDER BY start_date DESC LIMIT 1").fetchone()
        or db.execute("SELECT name FROM sprints WHERE status = 'closed' ORDER BY end_date DESC LIMIT 1").fetchone()
    )
    return row[0] if row else None


def activity_report(
    st: AppState, lo: str | None, hi: str | None, person: str | None, team: str | None, repo: str | None
) -> Report:
    from teamops.kpi.activity import ActivityFilter, activity

    rows = activity(st.reader, ActivityFilter(lo, hi, person, team, repo))
    notes = []
    unmapped = sum(1 for r in rows if not r["mapped"])
    if unmapped:
        notes.append(f"{unmapped} author(s) match nobody: see `teamops people unmapped`")
    not_estimated = sum(r["commits"] - r["estimated_commits"] for r in rows)
    if not_estimated:
        notes.append(f"{not_estimated:,} commit(s) have no estimate yet: run `teamops analyze`")
    return Report(
        name="activity",
        rows=rows,
        columns=ACTIVITY_COLUMNS,
        title="Commit activity (merges left out)",
        meta={"since": lo, "until": hi, "person": person, "team": team, "repo": repo},
        empty="no commits in this range yet: run `teamops sync-commits` first",
        footer="\n".join(notes) or None,
    )


@app.callback()
def kpi_default(ctx: typer.Context, fmt: FormatOpt = None) -> None:
    """KPI reports; with no report named, the one-screen summary."""
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
    fmt: FormatOpt = None,
) -> None:
    """Per person: commits (no merges), lines added and deleted, active days, AI points and hours.

    Example: teamops kpi activity --last 4w --format markdown
    """
    st = state(ctx)
    lo, hi = window(since, until, last)
    st.output(fmt_value(fmt)).report(activity_report(st, lo, hi, person, team, repo))


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
    """Committed vs completed points per sprint and the mean velocity; per ISO week without sprints."""
    from teamops.kpi.charts import mermaid, terminal_chart
    from teamops.kpi.flow import TaskFilter, ai_points_by_week, sprint_velocity, weekly_completed

    st = state(ctx)
    out = st.output(fmt_value(fmt))
    lo, hi = window(since, until, last)
    data = sprint_velocity(st.reader, st.config, team)
    ai_since = lo or window(None, None, "12w")[0]  # AI points: the last 12 weeks unless a range is given
    ai = ai_points_by_week(st.reader, ai_since, hi)
    if data["sprints"]:
        rows = data["sprints"]
        columns = [
            Column("sprint", "Sprint"),
            Column("start", "Start"),
            Column("end", "End"),
            Column("status", "Status"),
            Column("committed", "Committed", numeric=True),
            Column("completed", "Completed", numeric=True),
            Column("say_do", "Say/do", numeric=True),
            Column("unpointed_done", "Unpointed done", numeric=True),
        ]
        labels = [r["sprint"] for r in rows]
        series = {"committed": [r["committed"] for r in rows], "completed": [r["completed"] for r in rows]}
        footer = (
            f"velocity: {data['velocity']:g} points (mean of the last {data['velocity_sprints']} finished sprints)"
            if data["velocity"] is not None
            else "velocity: n/a until a sprint has finished"
        )
    else:
        rows = weekly_completed(st.reader, st.config, TaskFilter(lo, hi, None, person, team))
        columns = [
            Column("week", "Week"),
            Column("completed", "Completed", numeric=True),
            Column("tasks_done", "Tasks done", numeric=True),
            Column("unpointed_done", "Unpointed done", numeric=True),
        ]
        labels = [r["week"] for r in rows]
        series = {"completed": [r["completed"] for r in rows]}
        footer = "no sprints: completed points per ISO week"
    report = Report(
        name="velocity",
        rows=rows,
        columns=columns,
        title="Velocity",
        footer=footer,
        meta={
            "velocity": data["velocity"],
            "velocity_sprints": data["velocity_sprints"],
            "mode": "sprints" if data["sprints"] else "weeks",
            "ai_points_by_week": ai,
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
    """Remaining points per day of a sprint against the ideal line; scope changes listed."""
    from teamops.kpi.charts import mermaid, terminal_chart
    from teamops.kpi.flow import burndown

    st = state(ctx)
    out = st.output(fmt_value(fmt))
    name = sprint or current_sprint(st)
    if name is None:
        out.stdout.write("no sprints yet: `teamops sprint add` (or ClickUp sprint folders) make a burndown\n")
        return
    data = burndown(st.reader, st.config, name)
    days = data.pop("days")
    scope = data.pop("scope_changes")
    report = Report(
        name="burndown",
        rows=days,
        title=f"Burndown: {name} ({data['start']} to {data['end']})",
        columns=[
            Column("date", "Day"),
            Column("working_day", "Working"),
            Column("remaining", "Remaining", numeric=True),
            Column("ideal", "Ideal", numeric=True),
            Column("scope", "Scope", numeric=True),
            Column("unpointed_tasks", "Unpointed", numeric=True),
        ],
        meta={**data, "scope_changes": scope},
        footer=_burndown_footer(data, scope),
    )
    labels = [d["date"] for d in days]
    series = {"remaining": [d["remaining"] for d in days], "ideal": [d["ideal"] for d in days]}
    if out.fmt == "markdown":
        out.stdout.write(out.markdown(report))
        out.stdout.write(mermaid(f"Burndown {name}", [label[5:] for label in labels], series) + "\n")
        return
    out.report(report)
    if out.fmt == "table":
        out.stdout.write(terminal_chart(f"Burndown: {name}", labels, series, out.color) + "\n")


def _burndown_footer(data: dict[str, Any], scope: list[dict[str, Any]]) -> str:
    lines = [f"committed {data['committed']:g} points; {data['working_days_left']} working day(s) left"]
    if data["remaining"] is not None:
        lines.append(
            f"as of {data['as_of']}: {data['remaining']:g} remaining vs {data['ideal_now']:g} ideal → {data['trend']}"
        )
    for change in scope:
        lines.append(
            f"scope: {change['at'][:10]} {change['task']} {change['change']} ({change['old']} → {change['new']})"
        )
    return "\n".join(lines)


@app.command("efficiency")
def efficiency_cmd(
    ctx: typer.Context,
    sprint: SprintOpt = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    last: LastOpt = None,
    person: PersonOpt = None,
    team: TeamOpt = None,
    fmt: FormatOpt = None,
) -> None:
    """Flow efficiency (active ÷ active+waiting+blocked) of tasks finished in the last 12 weeks (or a range)."""
    from teamops.kpi.flow import TaskFilter, efficiency

    st = state(ctx)
    lo, hi = window(since, until, last, default_last=None if (since or sprint) else "12w")
    data = efficiency(st.reader, st.config, TaskFilter(lo, hi, sprint, person, team))
    rows = data.pop("rows")
    st.output(fmt_value(fmt)).report(
        Report(
            name="efficiency",
            rows=rows,
            title="Flow efficiency of finished tasks",
            columns=[
                Column("task", "Task"),
                Column("title", "Title"),
                Column("active_h", "Active h", numeric=True),
                Column("waiting_h", "Waiting h", numeric=True),
                Column("blocked_h", "Blocked h", numeric=True),
                Column("flow_efficiency", "Flow eff.", numeric=True),
                Column("estimate_h", "Est. h", numeric=True),
                Column("spent_h", "Spent h", numeric=True),
            ],
            meta={"since": lo, "until": hi, "sprint": sprint, "person": person, "team": team, **data},
            footer=f"flow efficiency {_pct(data['flow_efficiency'])} over {data['measured_tasks']} task(s); "
            f"estimate accuracy (spent ÷ estimated) {_num(data['estimate_accuracy'])}",
            empty="no finished tasks in this range",
        )
    )


def _num(value: float | None) -> str:
    return "n/a" if value is None else f"{value:g}"


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value * 100:.0f}%"


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

    Tasks finished in the last 12 weeks unless --since, --last or --sprint says otherwise.
    """
    from teamops.kpi.flow import TaskFilter, cycle_time

    st = state(ctx)
    lo, hi = window(since, until, last, default_last=None if (since or sprint) else "12w")
    data = cycle_time(st.reader, st.config, TaskFilter(lo, hi, sprint, person, team))
    st.output(fmt_value(fmt)).report(
        Report(
            name="cycle-time",
            rows=data["rows"],
            title="Cycle and lead time (days)",
            columns=[
                Column("metric", "Metric"),
                Column("tasks", "Tasks", numeric=True),
                Column("median_days", "Median", numeric=True),
                Column("p85_days", "85th pct", numeric=True),
                Column("mean_days", "Mean", numeric=True),
            ],
            meta={
                "since": lo,
                "until": hi,
                "sprint": sprint,
                "person": person,
                "team": team,
                "tasks": data["tasks"],
                "never_started": data["never_started"],
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
    """One screen: the sprint, velocity, flow efficiency, cycle time and activity (last 4 weeks by default)."""
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
    from teamops.kpi.flow import TaskFilter, burndown, cycle_time, efficiency, finished_tasks, sprint_velocity

    db = st.reader
    if (
        not db.execute("SELECT 1 FROM commits LIMIT 1").fetchone()
        and not db.execute("SELECT 1 FROM tasks LIMIT 1").fetchone()
    ):
        out.data({"report": "summary", "empty": True}, EMPTY)
        return
    lo, hi = window(since, until, last, default_last=None if (since or last) else "4w")
    name = sprint or current_sprint(st)
    sprint_data = None
    vel = sprint_velocity(db, st.config, team)
    if name:
        bd = burndown(db, st.config, name)
        bd.pop("days")
        velocity_row = next((s for s in vel["sprints"] if s["sprint"] == name), None)
        sprint_data = {
            **{
                k: bd[k]
                for k in (
                    "sprint",
                    "start",
                    "end",
                    "status",
                    "committed",
                    "remaining",
                    "ideal_now",
                    "trend",
                    "working_days_left",
                )
            },
            "completed": velocity_row["completed"] if velocity_row else 0.0,
            "say_do": velocity_row["say_do"] if velocity_row else None,
            "scope_changes": len(bd["scope_changes"]),
        }
    flt = TaskFilter(lo, hi, None, person, team)
    finished = finished_tasks(db, st.config, flt)
    eff = efficiency(db, st.config, flt, finished)
    eff.pop("rows")
    cyc = cycle_time(db, st.config, flt, finished)
    act = activity_report(st, lo, hi, person, team, None)
    payload = {
        "report": "summary",
        "since": lo,
        "until": hi,
        "sprint": sprint_data,
        "velocity": {"points": vel["velocity"], "sprints": vel["velocity_sprints"]},
        "efficiency": {k: eff[k] for k in ("tasks", "flow_efficiency", "estimate_accuracy")},
        "cycle_time": {
            r["metric"]: {"median_days": r["median_days"], "p85_days": r["p85_days"], "tasks": r["tasks"]}
            for r in cyc["rows"]
        },
        "activity": act.rows,
    }
    if out.fmt == "json":
        out.data(payload, "")
        return
    facts = _facts(payload)
    if out.fmt == "csv":
        out.report(
            Report(
                name="summary",
                rows=[{"metric": k, "value": v} for k, v in facts],
                columns=[Column("metric", "metric"), Column("value", "value")],
            )
        )
        return
    out.report(
        Report(
            name="summary",
            rows=[{"metric": k, "value": v} for k, v in facts],
            title="Team summary",
            columns=[Column("metric", "Metric"), Column("value", "Value")],
        )
    )
    out.report(act)


def _facts(p: dict[str, Any]) -> list[tuple[str, Any]]:
    facts: list[tuple[str, Any]] = []
    s = p["sprint"]
    if s:
        facts += [
            ("sprint", f"{s['sprint']} ({s['start']} to {s['end']}, {s['status']})"),
            ("committed / completed", f"{s['committed']:g} / {s['completed']:g} points"),
            ("say/do", _pct(s["say_do"])),
            (
                "burndown",
                f"{s['remaining']:g} remaining vs {s['ideal_now']:g} ideal: {s['trend']}"
                if s["remaining"] is not None
                else "not started",
            ),
            ("working days left", s["working_days_left"]),
        ]
    facts.append(
        (
            "velocity",
            f"{p['velocity']['points']:g} points (last {p['velocity']['sprints']} sprints)"
            if p["velocity"]["points"] is not None
            else "n/a (no finished sprints)",
        )
    )
    window_text = f"{(p['since'] or 'start')[:10]} to {(p['until'] or 'now')[:10]}"
    facts.append(
        (
            "flow efficiency",
            f"{_pct(p['efficiency']['flow_efficiency'])} over "
            f"{p['efficiency']['tasks']} finished task(s), {window_text}",
        )
    )
    acc = p["efficiency"]["estimate_accuracy"]
    facts.append(("estimate accuracy", f"{acc:g} (spent ÷ estimated hours)" if acc is not None else "n/a"))
    for metric in ("cycle_time", "lead_time"):
        c = p["cycle_time"][metric]
        value = (
            f"median {c['median_days']:g} d, 85th pct {c['p85_days']:g} d ({c['tasks']} tasks)" if c["tasks"] else "n/a"
        )
        facts.append((metric.replace("_", " "), value))
    return facts
