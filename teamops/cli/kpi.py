"""`teamops kpi`: team reports in the terminal and as JSON, CSV or Markdown."""

from __future__ import annotations

import typer

from teamops.cli.options import (
    FormatOpt,
    PersonOpt,
    RepoOpt,
    SinceOpt,
    TeamOpt,
    UntilOpt,
    fmt_value,
)
from teamops.cli.output import Column, Report
from teamops.cli.state import state
from teamops.dates import range_bounds

app = typer.Typer(help="KPI reports (default: activity).", invoke_without_command=True)

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


def activity_report(
    ctx: typer.Context,
    since: str | None,
    until: str | None,
    person: str | None,
    team: str | None,
    repo: str | None,
) -> Report:
    from teamops.kpi.activity import ActivityFilter, activity

    st = state(ctx)
    lo, hi = range_bounds(since, until)
    rows = activity(st.db, ActivityFilter(lo, hi, person, team, repo))
    unmapped = sum(1 for r in rows if not r["mapped"])
    notes = []
    if unmapped:
        notes.append(f"{unmapped} author(s) match nobody: see `teamops people unmapped`")
    not_estimated = sum(r["commits"] - r["estimated_commits"] for r in rows)
    if not_estimated:
        notes.append(f"{not_estimated:,} commit(s) have no estimate yet: run `teamops analyze`")
    footer = "\n".join(notes) or None
    return Report(
        name="activity",
        rows=rows,
        columns=ACTIVITY_COLUMNS,
        title="Commit activity (merges left out)",
        meta={"since": lo, "until": hi, "person": person, "team": team, "repo": repo},
        empty="no commits in this range yet: run `teamops sync-commits` first",
        footer=footer,
    )


@app.callback()
def kpi_default(ctx: typer.Context, fmt: FormatOpt = None) -> None:
    """KPI reports; with no report named, the activity report."""
    if ctx.invoked_subcommand is None:
        state(ctx).output(fmt_value(fmt)).report(activity_report(ctx, None, None, None, None, None))


@app.command("activity")
def activity_cmd(
    ctx: typer.Context,
    since: SinceOpt = None,
    until: UntilOpt = None,
    person: PersonOpt = None,
    team: TeamOpt = None,
    repo: RepoOpt = None,
    fmt: FormatOpt = None,
) -> None:
    """Per person: commits (no merges), lines added and deleted, active days, first and last commit.

    Example: teamops kpi activity --since 4w --format markdown
    """
    state(ctx).output(fmt_value(fmt)).report(activity_report(ctx, since, until, person, team, repo))
