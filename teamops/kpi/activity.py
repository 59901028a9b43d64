"""Commit activity per person: commits, lines, active days, first and last commit."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlite_utils import Database

from teamops.people import person_id


@dataclass
class ActivityFilter:
    """Which commits count: a UTC range (since inclusive, until exclusive), person, team, repo."""

    since: str | None = None
    until: str | None = None
    person: str | None = None
    team: str | None = None
    repo: str | None = None


def activity(db: Database, flt: ActivityFilter) -> list[dict[str, Any]]:
    """One row per person (and per unmapped author), merges left out, most commits first."""
    where = ["c.is_merge = 0"]
    params: list[Any] = []
    if flt.since:
        where.append("c.authored_at >= ?")
        params.append(flt.since)
    if flt.until:
        where.append("c.authored_at < ?")
        params.append(flt.until)
    if flt.person:
        where.append("c.person_id = ?")
        params.append(person_id(db, flt.person))
    if flt.team:
        where.append("p.team = ?")
        params.append(flt.team)
    if flt.repo:
        where.append("c.repo_id IN (SELECT id FROM repos WHERE name = ? OR path = ? OR github = ?)")
        params += [flt.repo, flt.repo, flt.repo]
    sql = f"""
        SELECT
            p.handle,
            COALESCE(p.name, MAX(c.author_name)),
            p.team,
            CASE WHEN p.id IS NULL THEN c.author_email END AS unmapped_email,
            COUNT(*),
            COALESCE(SUM(c.additions), 0),
            COALESCE(SUM(c.deletions), 0),
            COUNT(DISTINCT c.author_day),
            MIN(c.authored_at),
            MAX(c.authored_at),
            SUM(c.stats_missing),
            SUM(c.ai_points),
            SUM(c.ai_hours),
            COUNT(c.ai_points)
        FROM commits c
        LEFT JOIN people p ON p.id = c.person_id
        WHERE {" AND ".join(where)}
        GROUP BY p.id, unmapped_email
        ORDER BY p.id IS NULL, COUNT(*) DESC, p.handle, unmapped_email
    """
    rows = []
    for row in db.execute(sql, params):
        handle, name, team, email, n, adds, dels, days, first, last, missing, pts, hrs, est = row
        rows.append(
            {
                "person": handle or f"(unmapped) {name} <{email}>",
                "mapped": handle is not None,
                "name": name,
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
    return rows
