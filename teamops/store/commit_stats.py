"""Read-only aggregates over commits for the reports, shaped to run on the covering indexes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from teamops.store.filters import Where
from teamops.store.views import iso_week

if TYPE_CHECKING:
    from teamops.store.reader import Reader

MEASURES = """
    COUNT(*), COALESCE(SUM(c.additions), 0), COALESCE(SUM(c.deletions), 0), COUNT(DISTINCT c.author_day),
    SUM(c.stats_missing), SUM(c.ai_points), SUM(c.ai_hours), COUNT(c.ai_points)
"""


def commit_filter(
    since: str | None,
    until: str | None,
    person_id: int | None,
    team: str | None,
    repo_ids: list[int] | None,
    bots: list[str] | None = None,
) -> Where:
    """Non-merge commits in a UTC range, of a person, a team or some repositories (None: all), without the
    unmapped authors whose emails `bots` lists."""
    where = (
        Where("c.is_merge = 0")
        .add("c.authored_at >= ?", since, when=since)
        .add("c.authored_at < ?", until, when=until)
        .add("c.person_id = ?", person_id, when=person_id)
        .add("c.person_id IN (SELECT id FROM people WHERE team = ?)", team, when=team)
        .add(
            "(c.person_id IS NOT NULL OR c.author_email NOT IN (SELECT value FROM json_each(?)))",
            json.dumps(bots),
            when=bool(bots),
        )
    )
    return where if repo_ids is None else where.within("c.repo_id", repo_ids)


def span(db: Reader, where: Where) -> tuple[int, str | None, str | None]:
    """How many commits match, and their first and last time."""
    n, first, last = db.execute(
        f"SELECT COUNT(*), MIN(c.authored_at), MAX(c.authored_at) FROM commits c WHERE {where.sql}", where.params
    ).fetchone()
    return int(n), first, last


def activity_groups(db: Reader, where: Where, key: str, extra: str, by_date: bool) -> dict[Any, list[Any]]:
    """Measures per person (key c.person_id) or per unmapped author (c.author_email), and their commits an AI
    assistant co-wrote.

    A window reads its range from the date index; all of history reads the covering index.
    """
    source = "commits c INDEXED BY idx_commits_authored" if by_date else "commits c"
    sql = f"SELECT {key}, {MEASURES}, SUM(c.assisted) FROM {source} WHERE {where.sql} AND {extra} GROUP BY {key}"
    return {k: m for k, *m in db.execute(sql, where.params)}


def repo_groups(db: Reader, where: Where) -> list[tuple[Any, ...]]:
    """Per repository: (name, the measures, people or authors, first and last commit), most commits first."""
    return db.execute(
        f"""
        SELECT r.name, {MEASURES}, COUNT(DISTINCT COALESCE(CAST(c.person_id AS TEXT), c.author_email)),
               MIN(c.authored_at), MAX(c.authored_at)
        FROM commits c JOIN repos r ON r.id = c.repo_id
        WHERE {where.sql} GROUP BY c.repo_id ORDER BY 2 DESC, r.name
        """,
        where.params,
    ).fetchall()


def activity_ends(db: Reader, where: Where, index: str, match: str, keys: list[Any]) -> Iterator[tuple[Any, ...]]:
    """(key, first commit, last commit, latest author name, the author's own day of the first and of the
    last commit): index seeks per key, not work on every commit."""
    one = f"FROM commits c INDEXED BY {index} WHERE {match} AND {where.sql}"
    yield from db.execute(
        f"SELECT ids.value, (SELECT MIN(c.authored_at) {one}), (SELECT MAX(c.authored_at) {one}), "
        f"(SELECT c.author_name {one} ORDER BY c.authored_at DESC LIMIT 1), "
        f"(SELECT c.author_day {one} ORDER BY c.authored_at LIMIT 1), "
        f"(SELECT c.author_day {one} ORDER BY c.authored_at DESC LIMIT 1) FROM json_each(?) ids",
        [*where.params, *where.params, *where.params, *where.params, *where.params, json.dumps(keys)],
    )


def week_groups(db: Reader, where: Where) -> list[tuple[Any, ...]]:
    """Per ISO week of the authored time: (week, the measures, people or authors), oldest first."""
    return db.execute(
        f"""
        SELECT {iso_week("c.authored_at")} AS week, {MEASURES},
               COUNT(DISTINCT COALESCE(CAST(c.person_id AS TEXT), c.author_email))
        FROM commits c WHERE {where.sql} GROUP BY week ORDER BY week
        """,
        where.params,
    ).fetchall()


def ai_points_by_week(db: Reader, since: str | None, until: str | None) -> list[dict[str, Any]]:
    """AI points of commits per person per ISO week, from the estimates that count."""
    where = Where("c.is_merge = 0", "c.ai_points IS NOT NULL")
    where.add("c.authored_at >= ?", since, when=since).add("c.authored_at < ?", until, when=until)
    rows = db.execute(
        f"""
        SELECT {iso_week("c.authored_at")} AS week,
               COALESCE(p.handle, '(unmapped)'), SUM(c.ai_points), COUNT(c.ai_points)
        FROM commits c LEFT JOIN people p ON p.id = c.person_id
        WHERE {where.sql} GROUP BY week, 2 ORDER BY week, 2
        """,
        where.params,
    ).fetchall()
    return [{"week": w, "person": who, "ai_points": pts, "commits": n} for w, who, pts, n in rows]


def commits_for_doc(
    db: Reader,
    since: str | None,
    until: str | None,
    repo_ids: list[int] | None,
    shas: list[str] | None = None,
    repo_id: int | None = None,
) -> list[tuple[Any, ...]]:
    """(repo, sha, person or author, subject, AI points, +lines, -lines, files) of a range's commits, in
    order: by time, or exactly these commits of one repository."""
    where = commit_filter(since, until, None, None, repo_ids)
    if shas is not None:
        where.add("c.repo_id = ?", repo_id).add("c.sha IN (SELECT value FROM json_each(?))", json.dumps(shas))
    return db.execute(
        f"""
        SELECT r.name, c.sha, COALESCE(p.handle, c.author_name), substr(c.message, 1, instr(c.message || char(10),
               char(10)) - 1), c.ai_points, c.additions, c.deletions, c.files
        FROM commits c JOIN repos r ON r.id = c.repo_id LEFT JOIN people p ON p.id = c.person_id
        WHERE {where.sql} ORDER BY c.authored_at
        """,
        where.params,
    ).fetchall()
