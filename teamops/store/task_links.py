"""Read-only queries that put commits beside tasks: the texts that may name a task, and the tasks to compare."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from teamops.store.filters import Where

if TYPE_CHECKING:
    from teamops.store.reader import Reader


def commit_texts(db: Reader) -> list[tuple[int, str, str, float | None]]:
    """(repo id, sha, what may name a task: the message and its pull request's branch and title, AI hours)."""
    rows = db.execute(
        """
        SELECT c.repo_id, c.sha,
               c.message || COALESCE(char(10) || (SELECT group_concat(COALESCE(p.head_branch, '') || ' ' || p.title,
                   char(10)) FROM pr_commits pc JOIN pull_requests p ON p.repo_id = pc.repo_id AND p.number = pc.number
                   WHERE pc.repo_id = c.repo_id AND pc.sha = c.sha), ''),
               c.ai_hours
        FROM commits c WHERE c.is_merge = 0
        """
    ).fetchall()
    return [(int(r), str(s), str(t), h) for r, s, t, h in rows]


def task_refs(db: Reader) -> dict[str, int]:
    """Every name a task answers to (its key, the key in the tracker it was imported from, its id there, a key
    it had before it moved) → its id."""
    out: dict[str, int] = {}
    for tid, key, ext in db.execute("SELECT id, key, external_id FROM tasks WHERE removed_at IS NULL"):
        out[str(key).lower()] = int(tid)
        if ext:
            out.setdefault(str(ext).lower(), int(tid))
        if ":" in str(key):  # an imported task (`jira-csv:SHOP-1`) answers to its key in the tracker too
            out.setdefault(str(key).split(":", 1)[1].lower(), int(tid))
    for tid, old in db.execute(  # a key a task had before it moved (another project) still names it
        "SELECT e.task_id, e.old FROM task_events e JOIN tasks t ON t.id = e.task_id "
        "WHERE e.field = 'key' AND e.old IS NOT NULL AND t.removed_at IS NULL"
    ):
        out.setdefault(str(old).lower(), int(tid))
    return out


def finished_tasks(
    db: Reader, done: list[str], since: str | None, until: str | None, person_id: int | None, team: str | None
) -> list[dict[str, Any]]:
    """Tasks done in [since, until), with their Responsible, points, the latest suggestion and time in progress."""
    where = Where(f"t.status IN ({','.join('?' * len(done))})", "t.done_at IS NOT NULL", "t.removed_at IS NULL")
    where.params.extend(done)
    where.add("t.done_at >= ?", since, when=since).add("t.done_at < ?", until, when=until)
    who = "(SELECT r.person_id FROM task_roles r WHERE r.task_id = t.id AND r.role = 'R' AND r.person_id IS NOT NULL)"
    where.add(f"{who} = ?", person_id, when=person_id)
    where.add(f"(SELECT team FROM people WHERE id = {who}) = ?", team, when=team)
    rows = db.execute(
        f"""
        SELECT t.id, t.key, t.title, t.points,
               (SELECT s.points FROM task_suggestions s WHERE s.task_key = t.key ORDER BY s.id DESC LIMIT 1),
               ROUND((julianday(t.done_at) - julianday(t.started_at)) * 24, 1),
               p.handle, p.team
        FROM tasks t LEFT JOIN people p ON p.id = {who}
        WHERE {where.sql} ORDER BY t.done_at
        """,
        where.params,
    ).fetchall()
    keys = ("id", "key", "title", "points", "suggested", "in_progress_h", "person", "team")
    return [dict(zip(keys, r, strict=True)) for r in rows]


def hours_per_point_samples(db: Reader, done: list[str]) -> list[float]:
    """Hours in progress (started → done) per point of each finished task that has both."""
    rows = db.execute(
        f"SELECT (julianday(done_at) - julianday(started_at)) * 24 / points FROM tasks "
        f"WHERE status IN ({','.join('?' * len(done))}) AND points > 0 AND started_at IS NOT NULL "
        f"AND done_at > started_at AND removed_at IS NULL",
        done,
    ).fetchall()
    return [float(r[0]) for r in rows]
