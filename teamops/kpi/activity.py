"""Commit activity per person: commits, lines, active days, first and last commit."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from teamops.people import person_id

if TYPE_CHECKING:
    from teamops.store.reader import Reader


@dataclass
class ActivityFilter:
    """Which commits count: a UTC range (since inclusive, until exclusive), person, team, repo."""

    since: str | None = None
    until: str | None = None
    person: str | None = None
    team: str | None = None
    repo: str | None = None


def _filters(db: Reader, flt: ActivityFilter, *, timed: bool = True) -> tuple[list[str], list[Any]]:
    """WHERE conditions for non-merge commits matching the filter (and its time range when `timed`)."""
    where = ["c.is_merge = 0"]
    params: list[Any] = []
    if timed and flt.since:
        where.append("c.authored_at >= ?")
        params.append(flt.since)
    if timed and flt.until:
        where.append("c.authored_at < ?")
        params.append(flt.until)
    if flt.person:
        where.append("c.person_id = ?")
        params.append(person_id(db, flt.person))
    if flt.team:
        where.append("c.person_id IN (SELECT id FROM people WHERE team = ?)")
        params.append(flt.team)
    if flt.repo:
        where.append("c.repo_id IN (SELECT id FROM repos WHERE name = ? OR path = ? OR github = ?)")
        params += [flt.repo, flt.repo, flt.repo]
    return where, params


@dataclass
class HistorySpan:
    """What is stored for a filter, whatever the time range: for hints when a range is empty."""

    commits: int
    first: str | None
    last: str | None


def history_span(db: Reader, flt: ActivityFilter) -> HistorySpan:
    """Non-merge commits matching the filter's person, team and repo, and their first and last time."""
    where, params = _filters(db, flt, timed=False)
    n, first, last = db.execute(
        f"SELECT COUNT(*), MIN(c.authored_at), MAX(c.authored_at) FROM commits c WHERE {' AND '.join(where)}",
        params,
    ).fetchone()
    return HistorySpan(int(n), first, last)


def latest_commit_before(db: Reader, moment: str) -> str | None:
    """The newest non-merge commit time before a moment: one seek on the date index."""
    row = db.execute(
        "SELECT authored_at FROM commits INDEXED BY idx_commits_authored WHERE authored_at < ? AND is_merge = 0 "
        "ORDER BY authored_at DESC LIMIT 1",
        [moment],
    ).fetchone()
    return row[0] if row else None


def activity(db: Reader, flt: ActivityFilter) -> list[dict[str, Any]]:
    """One row per person (and per unmapped author), merges left out, most commits first.

    Two aggregates — people, then unmapped authors — each reading the covering index in its own
    order, so a million commits take a fraction of a second.
    """
    where, params = _filters(db, flt)
    measures = """
        COUNT(*), COALESCE(SUM(c.additions), 0), COALESCE(SUM(c.deletions), 0), COUNT(DISTINCT c.author_day),
        SUM(c.stats_missing), SUM(c.ai_points), SUM(c.ai_hours), COUNT(c.ai_points)
    """
    cond = " AND ".join(where)
    # A window reads its range from the date index; all of history reads the covering index.
    source = "commits c INDEXED BY idx_commits_authored" if flt.since else "commits c"
    people = {
        pid: (handle, name, team) for pid, handle, name, team in db.execute("SELECT id, handle, name, team FROM people")
    }
    rows: list[dict[str, Any]] = []

    def row(handle: str | None, name: str | None, team: str | None, email: str | None, m: tuple[Any, ...]) -> None:
        n, adds, dels, days, missing, pts, hrs, est, first, last, author = m
        rows.append(
            {
                "person": handle or f"(unmapped) {author} <{email}>",
                "mapped": handle is not None,
                "name": name or author,
                "team": team,
                "commits": n,
                "additions": adds,
                "deletions": dels,
                "active_days": days,
                "first_commit": first,
                "last_commit": last,
                "counts_missing": missing or 0,
                "ai_points": pts or 0,
                "ai_hours": round(hrs or 0.0, 1),
                "estimated_commits": est,
            }
        )

    def group(key: str, extra: str) -> dict[Any, list[Any]]:
        return {
            k: m
            for k, *m in db.execute(
                f"SELECT {key}, {measures} FROM {source} WHERE {cond} AND {extra} GROUP BY {key}", params
            )
        }

    def ends(index: str, match: str, keys: list[Any]) -> Iterator[tuple[Any, str, str, str]]:
        """First and last commit and latest name: index seeks per key, not work on every commit."""
        one = f"FROM commits c INDEXED BY {index} WHERE {match} AND {cond}"
        yield from db.execute(
            f"SELECT ids.value, (SELECT MIN(c.authored_at) {one}), (SELECT MAX(c.authored_at) {one}), "
            f"(SELECT c.author_name {one} ORDER BY c.authored_at DESC LIMIT 1) FROM json_each(?) ids",
            [*params, *params, *params, json.dumps(keys)],
        )

    mapped = group("c.person_id", "c.person_id IS NOT NULL")
    for pid, first, last, author in ends("idx_commits_person_authored", "c.person_id = ids.value", list(mapped)):
        handle, name, team = people.get(pid, (None, None, None))
        row(handle or f"#{pid}", name, team, None, (*mapped[pid], first, last, author))
    if not flt.person and not flt.team:
        unmapped = group("c.author_email", "c.person_id IS NULL")
        by_email = "c.person_id IS NULL AND c.author_email = ids.value"
        for email, first, last, author in ends("idx_commits_activity", by_email, list(unmapped)):
            row(None, None, None, email, (*unmapped[email], first, last, author))
    rows.sort(key=lambda r: (not r["mapped"], -r["commits"], r["person"]))
    return rows
