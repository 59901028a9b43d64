"""Commit activity per person: commits, lines, active days, first and last commit."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from teamops.dates import parse_iso
from teamops.kpi.windows import Window, suggest_last
from teamops.people.handles import person_id
from teamops.records import ReportRow
from teamops.store.commit_stats import activity_ends, activity_groups, commit_filter, repo_groups, span, week_groups
from teamops.store.filters import Where
from teamops.store.people import handles_by_id
from teamops.wording import count

if TYPE_CHECKING:
    from teamops.store.reader import Reader


@dataclass
class ActivityFilter:
    """Which commits count: a UTC range (since inclusive, until exclusive), person, team, repositories."""

    since: str | None = None
    until: str | None = None
    person: str | None = None
    team: str | None = None
    repos: list[int] | None = None  # None: all
    bots: list[str] = field(default_factory=list)  # emails of bots to leave out (teamops.people.bots)

    def where(self, db: Reader, *, timed: bool = True) -> Where:
        pid = person_id(db, self.person) if self.person else None
        if timed:
            return commit_filter(self.since, self.until, pid, self.team, self.repos, self.bots)
        return commit_filter(None, None, pid, self.team, self.repos, self.bots)


@dataclass
class ActivityRow(ReportRow):
    """One person's (or one unmapped author's) commits in the range, as the report shows them."""

    person: str
    mapped: bool
    name: str | None
    team: str | None
    commits: int
    additions: int
    deletions: int
    active_days: int
    first_commit: str | None
    last_commit: str | None
    first_day: str | None  # the author's own calendar day, as active days count them
    last_day: str | None
    counts_missing: int
    ai_points: float
    ai_hours: float
    estimated_commits: int
    assisted_commits: int = 0  # co-written by an AI assistant (kpi ai)

    @property
    def who(self) -> str:
        """How a person reads in a sentence: the handle, or an unmapped author's name."""
        return self.person if self.mapped else str(self.name or self.person)


@dataclass
class HistorySpan:
    """What is stored for a filter, whatever the time range: for hints when a range is empty."""

    commits: int
    first: str | None
    last: str | None


def history_span(db: Reader, flt: ActivityFilter) -> HistorySpan:
    """Non-merge commits matching the filter's person, team and repo, and their first and last time."""
    return HistorySpan(*span(db, flt.where(db, timed=False)))


def _row(handle: str | None, name: str | None, team: str | None, email: str | None, m: tuple[Any, ...]) -> ActivityRow:
    n, adds, dels, days, missing, pts, hrs, est, assisted, first, last, author, first_day, last_day = m
    return ActivityRow(
        person=handle or f"(unmapped) {author} <{email}>",
        mapped=handle is not None,
        name=name or author,
        team=team,
        commits=n,
        additions=adds,
        deletions=dels,
        active_days=days,
        first_commit=first,
        last_commit=last,
        first_day=first_day,
        last_day=last_day,
        counts_missing=missing or 0,
        ai_points=pts or 0,
        ai_hours=round(hrs or 0.0, 1),
        estimated_commits=est,
        assisted_commits=int(assisted or 0),
    )


def activity(db: Reader, flt: ActivityFilter) -> list[ActivityRow]:
    """One row per person (and per unmapped author), merges left out, most commits first.

    Two aggregates — people, then unmapped authors — each reading the covering index in its own
    order, so a million commits take a fraction of a second.
    """
    where = flt.where(db)
    by_date = bool(flt.since)
    people = handles_by_id(db)
    rows: list[ActivityRow] = []
    mapped = activity_groups(db, where, "c.person_id", "c.person_id IS NOT NULL", by_date)
    for pid, *ends in activity_ends(db, where, "idx_commits_person_authored", "c.person_id = ids.value", list(mapped)):
        handle, name, team = people.get(pid, (None, None, None))
        rows.append(_row(handle or f"#{pid}", name, team, None, (*mapped[pid], *ends)))
    if not flt.person and not flt.team:
        unmapped = activity_groups(db, where, "c.author_email", "c.person_id IS NULL", by_date)
        by_email = "c.person_id IS NULL AND c.author_email = ids.value"
        for email, *ends in activity_ends(db, where, "idx_commits_activity", by_email, list(unmapped)):
            rows.append(_row(None, None, None, email, (*unmapped[email], *ends)))
    rows.sort(key=lambda r: (not r.mapped, -r.commits, r.person))
    return rows


@dataclass
class RepoActivityRow(ReportRow):
    """One repository's commits in the range (merges left out)."""

    repo: str
    commits: int
    additions: int
    deletions: int
    active_days: int  # distinct authors' own days with a commit
    people: int  # people, and authors nobody matches
    first_commit: str | None
    last_commit: str | None
    counts_missing: int
    ai_points: float
    ai_hours: float
    estimated_commits: int


def activity_by_repo(db: Reader, flt: ActivityFilter) -> list[RepoActivityRow]:
    """One row per repository, most commits first: where the work of the filtered people went."""
    rows = []
    for name, n, adds, dels, days, missing, pts, hrs, est, people, first, last in repo_groups(db, flt.where(db)):
        rows.append(
            RepoActivityRow(
                str(name), n, adds, dels, days, people, first, last, missing or 0, pts or 0, round(hrs or 0.0, 1), est
            )
        )
    return rows


@dataclass
class WeekActivityRow(ReportRow):
    """One ISO week's commits in the range (merges left out): the weekly trend."""

    week: str
    commits: int
    additions: int
    deletions: int
    people: int  # people, and authors nobody matches, with a commit that week
    active_days: int  # distinct calendar days (the authors' own) with a commit
    ai_points: float
    estimated_commits: int


def activity_by_week(db: Reader, flt: ActivityFilter) -> list[WeekActivityRow]:
    """One row per ISO week, oldest first: every week of the range (or from the first commit to the last),
    those without a commit as zeros, so a trend reads as time passed."""
    found = {
        str(week): WeekActivityRow(str(week), n, adds, dels, people, days, round(pts or 0, 1), est)
        for week, n, adds, dels, days, _missing, pts, _hrs, est, people in week_groups(db, flt.where(db))
    }
    if not found:
        return []
    first = _monday(flt.since) if flt.since else _week_start(min(found))
    last = _monday(flt.until, before=True) if flt.until else _week_start(max(found))
    rows, day = [], first
    while day <= last:
        year, week, _ = day.isocalendar()
        key = f"{year}-W{week:02d}"
        rows.append(found.get(key) or WeekActivityRow(key, 0, 0, 0, 0, 0, 0, 0))
        day += timedelta(days=7)
    return rows


def _monday(stamp: str, before: bool = False) -> date:
    """The Monday of the week a UTC time falls in (`before`: of the last moment before it, for an exclusive end)."""
    moment = parse_iso(stamp) - (timedelta(microseconds=1) if before else timedelta(0))
    day = moment.date()
    return day - timedelta(days=day.weekday())


def _week_start(week: str) -> date:
    year, number = week.split("-W")
    return date.fromisocalendar(int(year), int(number), 1)


def bots_left_out(db: Reader, flt: ActivityFilter) -> tuple[int, int]:
    """(bot accounts, their commits) the filter leaves out of its range."""
    if not flt.bots:
        return 0, 0
    everyone = ActivityFilter(flt.since, flt.until, flt.person, flt.team, flt.repos)
    where = everyone.where(db).add(
        "c.person_id IS NULL AND c.author_email IN (SELECT value FROM json_each(?))", json.dumps(flt.bots)
    )
    accounts, commits = db.execute(
        f"SELECT COUNT(DISTINCT c.author_email), COUNT(*) FROM commits c WHERE {where.sql}", where.params
    ).fetchone()
    return int(accounts), int(commits)


def notes(rows: list[ActivityRow]) -> list[str]:
    """What a reader should know about the rows: authors nobody matches, commits without estimates."""
    out = []
    unmapped = sum(1 for r in rows if not r.mapped)
    if unmapped:
        verb = "matches" if unmapped == 1 else "match"
        out.append(f"{count(unmapped, 'author')} {verb} nobody: see `teamops people unmapped`")
    not_estimated = sum(r.commits - r.estimated_commits for r in rows)
    if not_estimated:
        out.append(f"{count(not_estimated, 'commit')} without an estimate yet: run `teamops analyze`")
    return out


def empty_hint(db: Reader, flt: ActivityFilter, win: Window, now: datetime) -> str:
    """Why a range shows no commits, and how to see the ones there are."""
    found = history_span(db, flt)
    if not found.commits or not found.first or not found.last:
        if flt.person or flt.team or flt.repos is not None:
            return "no commits match these filters"
        return "no commits yet: run `teamops sync-commits`"
    who = f" by {flt.person}" if flt.person else (f" of team {flt.team}" if flt.team else "")
    return (
        f"no commits{who} {win.phrase}; {count(found.commits, 'commit')}{who} stored, "
        f"{found.first[:10]} to {found.last[:10]}: try --last {suggest_last(found.last, now)}"
    )
