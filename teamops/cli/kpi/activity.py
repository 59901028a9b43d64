"""`teamops kpi activity`: commits, lines, active days and AI estimates per person."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from teamops.cli.charts import show
from teamops.cli.kpi.window import LastOpt, window
from teamops.cli.options import (
    ChartOpt,
    FormatOpt,
    LimitOpt,
    PersonOpt,
    ReposOpt,
    SinceOpt,
    TeamOpt,
    UntilOpt,
    fmt_value,
)
from teamops.cli.state import state
from teamops.clock import now
from teamops.errors import UsageError
from teamops.handles import check_filters, repos_of
from teamops.kpi.activity import ActivityFilter, activity, activity_by_repo, activity_by_week, empty_hint, notes
from teamops.kpi.windows import Window

if TYPE_CHECKING:
    from teamops.store.reader import Reader
from teamops.render.model import Chart, Column, Report, limited

ACTIVITY_COLUMNS = [
    Column("person", "Person", wrap=True),
    Column("team", "Team", drop=3),
    Column("commits", "Commits", numeric=True),
    Column("additions", "+Lines", numeric=True, drop=4),
    Column("deletions", "-Lines", numeric=True, drop=5),
    Column("active_days", "Days", numeric=True, drop=6),
    Column("ai_points", "AI pts", numeric=True, drop=1),
    Column("ai_hours", "AI h", numeric=True, drop=7),
    # Days count the author's own calendar days; First and Last are those days too (JSON: also the UTC times).
    Column("first_day", "First", date=True, drop=9),
    Column("last_day", "Last", date=True, drop=8),
]


REPO_COLUMNS = [
    Column("repo", "Repository", wrap=True),
    Column("commits", "Commits", numeric=True),
    Column("additions", "+Lines", numeric=True, drop=4),
    Column("deletions", "-Lines", numeric=True, drop=5),
    Column("people", "People", numeric=True, drop=3),
    Column("active_days", "Days", numeric=True, drop=6),
    Column("ai_points", "AI pts", numeric=True, drop=1),
    Column("first_commit", "First", date=True, drop=8),
    Column("last_commit", "Last", date=True, drop=7),
]


WEEK_COLUMNS = [
    Column("week", "Week"),
    Column("commits", "Commits", numeric=True),
    Column("additions", "+Lines", numeric=True, drop=3),
    Column("deletions", "-Lines", numeric=True, drop=4),
    Column("people", "People", numeric=True, drop=2),
    Column("active_days", "Days", numeric=True, drop=5),
    Column("ai_points", "AI pts", numeric=True, drop=1),
]


def activity_report(
    db: Reader, win: Window, person: str | None, team: str | None, repo: list[str] | None, by: str = "person"
) -> Report:
    flt = ActivityFilter(win.since, win.until, person, team, repos_of(db, repo))
    if by == "week":
        weeks = activity_by_week(db, flt)
        labels = [w.week for w in weeks]
        return Report(
            name="activity",
            rows=[w.row() for w in weeks],
            columns=WEEK_COLUMNS,
            title=f"Commit activity by ISO week, {win.label} (merges left out)",
            meta={**win.meta(), "by": "week", "person": person, "team": team, "repo": repo},
            empty="" if weeks else empty_hint(db, flt, win, now()),
            chart=Chart(
                "Commits per week",
                labels,
                {"commits": [float(w.commits) for w in weeks]},
                {"people": [float(w.people) for w in weeks]},
                y_label="Commits",
                lines_secondary=True,
            ),
        )
    if by == "repo":
        per_repo = activity_by_repo(db, flt)
        return Report(
            name="activity",
            rows=[r.row() for r in per_repo],
            columns=REPO_COLUMNS,
            title=f"Commit activity by repository, {win.label} (merges left out)",
            meta={**win.meta(), "by": "repo", "person": person, "team": team, "repo": repo},
            empty="" if per_repo else empty_hint(db, flt, win, now()),
        )
    rows = activity(db, flt)
    return Report(
        name="activity",
        rows=[r.row() for r in rows],
        columns=ACTIVITY_COLUMNS,
        title=f"Commit activity, {win.label} (merges left out)",
        meta={**win.meta(), "person": person, "team": team, "repo": repo},
        empty="" if rows else empty_hint(db, flt, win, now()),
        footer="\n".join(notes(rows)) or None,
    )


def activity_cmd(
    ctx: typer.Context,
    since: SinceOpt = None,
    until: UntilOpt = None,
    last: LastOpt = None,
    person: PersonOpt = None,
    team: TeamOpt = None,
    repo: ReposOpt = None,
    by: Annotated[str, typer.Option("--by", help="One row per person (default), per repo or per ISO week.")] = "person",
    limit: LimitOpt = None,
    fmt: FormatOpt = None,
    chart: ChartOpt = None,
) -> None:
    """Per person (or --by repo, --by week): commits (no merges), lines, active days, AI points and hours.

    All of history unless a range is given.

    Example: teamops kpi activity --last 4w --format markdown
    """
    st = state(ctx)
    check_filters(st.reader, person, team)
    if by not in ("person", "repo", "week"):
        raise UsageError(f"--by takes person, repo or week, not {by!r}")
    report = activity_report(st.reader, window(since, until, last), person, team, repo, by)
    report.rows, report.more = limited(report.rows, limit)
    show(st.output(fmt_value(fmt)), report, chart)
