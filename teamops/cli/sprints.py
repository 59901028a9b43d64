"""`teamops sprint`: sprints, their commitment and scope changes."""

from __future__ import annotations

from typing import Annotated

import typer

from teamops.cli.options import FormatOpt, fmt_value, group_help
from teamops.cli.state import state
from teamops.reports.model import Column, Report
from teamops.wording import count
from teamops.work.sprints import add_sprint, close_sprint, list_sprints, scope_changes, sprint_row, start_sprint

app = typer.Typer(
    help=group_help(
        "Sprints and their commitment.", 'teamops sprint add "Sprint 7" --start 2026-11-02 --end 2026-11-13'
    ),
    no_args_is_help=True,
)


@app.command("add")
def sprint_add(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Sprint name, e.g. 'Sprint 7'.")],
    start: Annotated[str, typer.Option("--start", help="First day, YYYY-MM-DD.")],
    end: Annotated[str, typer.Option("--end", help="Last day, YYYY-MM-DD.")],
    team: Annotated[str | None, typer.Option("--team", help="The team it belongs to.")] = None,
) -> None:
    """Create a planned sprint.

    \b
    Example:
      teamops sprint add "Sprint 7" --start 2026-11-02 --end 2026-11-13
    """

    st = state(ctx)
    add_sprint(st.db, name, start, end, team)
    st.output().message(f"sprint {name!r}: {start} to {end}, planned")


@app.command("start")
def sprint_start(ctx: typer.Context, name: Annotated[str, typer.Argument(help="Sprint name.")]) -> None:
    """Start a sprint: its tasks and points now are the commitment.

    \b
    Example:
      teamops sprint start "Sprint 7"
    """

    st = state(ctx)
    n = start_sprint(st.db, name)
    st.output().message(f"sprint {name!r} started with {count(n, 'committed task')}")


@app.command("close")
def sprint_close(ctx: typer.Context, name: Annotated[str, typer.Argument(help="Sprint name.")]) -> None:
    """Close an active sprint.

    \b
    Example:
      teamops sprint close "Sprint 7"
    """

    st = state(ctx)
    close_sprint(st.db, name)
    st.output().message(f"sprint {name!r} closed")


@app.command("list")
def sprint_list(ctx: typer.Context, fmt: FormatOpt = None) -> None:
    """Sprints with status, tasks, committed and completed points.

    \b
    Example:
      teamops sprint list
    """

    st = state(ctx)
    st.output(fmt_value(fmt)).report(
        Report(
            name="sprints",
            rows=list_sprints(st.reader, st.config),
            columns=[
                Column("name", "Sprint"),
                Column("start", "Start"),
                Column("end", "End"),
                Column("status", "Status"),
                Column("tasks", "Tasks", numeric=True),
                Column("committed_points", "Committed", numeric=True),
                Column("completed_points", "Completed", numeric=True),
            ],
            empty="no sprints: add one with `teamops sprint add NAME --start DATE --end DATE`",
        )
    )


@app.command("show")
def sprint_show(
    ctx: typer.Context, name: Annotated[str, typer.Argument(help="Sprint name.")], fmt: FormatOpt = None
) -> None:
    """A sprint's scope changes since it started: tasks added, removed and re-estimated.

    \b
    Example:
      teamops sprint show "Sprint 7"
    """

    st = state(ctx)
    sprint = sprint_row(st.reader, name)
    st.output(fmt_value(fmt)).report(
        Report(
            name="sprint-scope",
            rows=scope_changes(st.reader, name),
            title=f"{name}: {sprint['start_date']} to {sprint['end_date']} ({sprint['status']}) — scope changes",
            columns=[
                Column("at", "When"),
                Column("task", "Task"),
                Column("title", "Title", cut=True),
                Column("change", "Change"),
                Column("old", "Old", cut=True),
                Column("new", "New", cut=True),
                Column("by", "By"),
            ],
            meta={"sprint": name, "status": sprint["status"], "started_at": sprint["started_at"]},
            empty="no scope changes" if sprint["started_at"] else "not started yet: no commitment to change",
        )
    )
