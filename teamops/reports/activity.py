"""Commit activity as reports: per person, per repository, per ISO week (`kpi activity`, the site)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from teamops.clock import now
from teamops.kpi.activity import (
    ActivityFilter,
    activity,
    activity_by_repo,
    activity_by_week,
    bots_left_out,
    empty_hint,
    notes,
)
from teamops.kpi.windows import Window
from teamops.people.handles import repos_of
from teamops.reports.model import Chart, Column, Report

if TYPE_CHECKING:
    from teamops.people.bots import Bots
    from teamops.store.reader import Reader


ACTIVITY_COLUMNS = [
    Column("person", "Person", wrap=True),
    Column("team", "Team", drop=3),
    Column("commits", "Commits", numeric=True),
    Column("additions", "+Lines", numeric=True, drop=4),
    Column("deletions", "-Lines", numeric=True, drop=5),
    Column("active_days", "Days", numeric=True, drop=6),
    Column("ai_points", "AI pts", numeric=True, drop=1),
    Column("ai_hours", "AI h", numeric=True, drop=7),
    Column("assisted_commits", "AI-assisted", numeric=True, drop=10),
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
    db: Reader,
    win: Window,
    person: str | None,
    team: str | None,
    repo: list[str] | None,
    by: str = "person",
    bots: Bots | None = None,
) -> Report:
    """Activity per person, repository or week; the `bots` (teamops.people.bots.find) are left out and counted in
    one footer line, None keeps them in."""
    flt = ActivityFilter(win.since, win.until, person, team, repos_of(db, repo), bots.emails if bots else [])
    accounts, commits = bots_left_out(db, flt) if bots else (0, 0)
    left_out = bots.line(accounts, commits) if bots else None
    shown = {"bots_left_out": {"accounts": accounts, "commits": commits} if bots else None}
    if by == "week":
        weeks = activity_by_week(db, flt)
        labels = [w.week for w in weeks]
        return Report(
            name="activity",
            rows=[w.row() for w in weeks],
            columns=WEEK_COLUMNS,
            title=f"Commit activity by ISO week, {win.label} (merges left out)",
            meta={**win.meta(), "by": "week", "person": person, "team": team, "repo": repo, **shown},
            empty="" if weeks else empty_hint(db, flt, win, now()),
            footer=left_out,
            chart=Chart(
                "Commits per week",
                labels,
                {"commits": [float(w.commits) for w in weeks]},
                {"people": [float(w.people) for w in weeks]},
                y_label="Commits",
                lines_other_unit=True,
            ),
        )
    if by == "repo":
        per_repo = activity_by_repo(db, flt)
        return Report(
            name="activity",
            rows=[r.row() for r in per_repo],
            columns=REPO_COLUMNS,
            title=f"Commit activity by repository, {win.label} (merges left out)",
            meta={**win.meta(), "by": "repo", "person": person, "team": team, "repo": repo, **shown},
            empty="" if per_repo else empty_hint(db, flt, win, now()),
            footer=left_out,
        )
    rows = activity(db, flt)
    return Report(
        name="activity",
        rows=[r.row() for r in rows],
        columns=ACTIVITY_COLUMNS,
        title=f"Commit activity, {win.label} (merges left out)",
        meta={**win.meta(), "person": person, "team": team, "repo": repo, **shown},
        empty="" if rows else empty_hint(db, flt, win, now()),
        footer="\n".join([*notes(rows), *([left_out] if left_out else [])]) or None,
    )
