"""Read-only queries over tasks and sprints for the reports: velocity, burndown, flow and cycle time."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from teamops.store.filters import Where
from teamops.store.views import iso_week

if TYPE_CHECKING:
    from teamops.store.reader import Reader

FINISHED_KEYS = (
    "id",
    "title",
    "created_at",
    "started_at",
    "done_at",
    "estimate_hours",
    "spent_hours",
    "points",
    "done_day",
    "cycle_days",
    "lead_days",
)


def _in(values: list[str]) -> str:
    return ",".join("?" * len(values))


def task_filter(
    since: str | None, until: str | None, sprint: str | None, person: str | None, team: str | None
) -> Where:
    """Tasks done in a UTC range, of a sprint, or with a person (or a team's person) Responsible."""
    return (
        Where("t.removed_at IS NULL")
        .add("t.done_at >= ?", since, when=since)
        .add("t.done_at < ?", until, when=until)
        .add("t.sprint_id = (SELECT id FROM sprints WHERE name = ?)", sprint, when=sprint)
        .add(
            "t.id IN (SELECT r.task_id FROM task_roles r JOIN people p ON p.id = r.person_id "
            "WHERE r.role = 'R' AND p.handle = ?)",
            person,
            when=person,
        )
        .add(
            "t.id IN (SELECT r.task_id FROM task_roles r JOIN people p ON p.id = r.person_id "
            "WHERE r.role = 'R' AND p.team = ?)",
            team,
            when=team,
        )
    )


def committed_by_sprint(db: Reader) -> dict[int, tuple[float | None, int, int]]:
    """sprint → (committed points, estimated snapshots, committed tasks): one aggregate for all sprints."""
    rows = db.execute(
        "SELECT sprint_id, SUM(committed_points), SUM(estimated), COUNT(*) FROM sprint_tasks GROUP BY sprint_id"
    )
    return {sid: (pts, est, n) for sid, pts, est, n in rows}


def done_by_sprint(db: Reader, done: list[str]) -> dict[int, tuple[float, int, int]]:
    """sprint → (completed points, tasks done, unpointed done) by each sprint's end."""
    rows = db.execute(
        f"""
        SELECT t.sprint_id, COALESCE(SUM(t.points), 0), COUNT(*), SUM(t.points IS NULL)
        FROM tasks t JOIN sprints s ON s.id = t.sprint_id
        WHERE t.removed_at IS NULL AND t.status IN ({_in(done)}) AND t.done_at < date(s.end_date, '+1 day')
        GROUP BY t.sprint_id
        """,
        done,
    )
    return {sid: (pts, n, unpointed) for sid, pts, n, unpointed in rows}


def started_sprints(db: Reader, team: str | None) -> list[tuple[int, str, str, str, str]]:
    """(id, name, start, end, status) of the sprints that have started, in order."""
    where = Where("s.status != 'planned'").add("s.team = ?", team, when=team)
    return db.execute(
        f"SELECT s.id, s.name, s.start_date, s.end_date, s.status FROM sprints s WHERE {where.sql} "
        "ORDER BY s.start_date, s.id",
        where.params,
    ).fetchall()


def weekly_done(db: Reader, where: Where, done: list[str]) -> list[tuple[str, float, int, int]]:
    """(ISO week, completed points, tasks done, unpointed done) by done_at."""
    return db.execute(
        f"""
        SELECT {iso_week("t.done_at")} AS week, COALESCE(SUM(t.points), 0), COUNT(*), SUM(t.points IS NULL)
        FROM tasks t WHERE {where.sql} AND t.status IN ({_in(done)}) AND t.done_at IS NOT NULL
        GROUP BY week ORDER BY week
        """,
        [*where.params, *done],
    ).fetchall()


# Every event that moves a task in or out of a sprint's burndown.
SPRINT_EVENTS = """
SELECT at, task_id, field, new FROM task_events
WHERE field IN ('created', 'status', 'points', 'sprint', 'removed') AND task_id IN (
    SELECT id FROM tasks WHERE sprint_id = :id UNION SELECT task_id FROM sprint_tasks WHERE sprint_id = :id
    UNION SELECT task_id FROM task_events WHERE field = 'sprint' AND (old = :name OR new = :name))
ORDER BY id
"""


def sprint_events(db: Reader, sprint_id: int, name: str) -> list[tuple[str, int, str, str | None]]:
    return db.execute(SPRINT_EVENTS, {"id": sprint_id, "name": name}).fetchall()


def committed_tasks(db: Reader, sprint_id: int) -> set[int]:
    return {r[0] for r in db.execute("SELECT task_id FROM sprint_tasks WHERE sprint_id = ?", [sprint_id])}


def commitment(db: Reader, sprint_id: int) -> float | None:
    """The committed points, or None when the sprint has no snapshot."""
    pts, n = db.execute(
        "SELECT SUM(committed_points), COUNT(*) FROM sprint_tasks WHERE sprint_id = ?", [sprint_id]
    ).fetchone()
    return pts if n else None


def finished(db: Reader, where: Where, done: list[str]) -> list[dict[str, Any]]:
    """Done tasks with their done time and cycle and lead times in days (SQL's julianday)."""
    rows = db.execute(
        f"SELECT t.id, t.title, t.created_at, t.started_at, t.done_at, t.estimate_hours, t.spent_hours, t.points, "
        f"julianday(t.done_at), julianday(t.done_at) - julianday(t.started_at), "
        f"julianday(t.done_at) - julianday(t.created_at) "
        f"FROM tasks t WHERE {where.sql} AND t.status IN ({_in(done)}) AND t.done_at IS NOT NULL ORDER BY t.done_at",
        [*where.params, *done],
    ).fetchall()
    return [dict(zip(FINISHED_KEYS, r, strict=True)) for r in rows]


def status_minutes(db: Reader, ids_json: str) -> list[tuple[int, str, int]]:
    """(task, status, minutes) from ClickUp's time in status; the ids travel as one JSON array, so a
    query-only connection can run this (no temp table)."""
    return db.execute(
        "SELECT task_id, status, minutes FROM task_status_times WHERE task_id IN (SELECT value FROM json_each(?))",
        [ids_json],
    ).fetchall()


def status_changes(db: Reader, ids_json: str) -> list[tuple[int, str, float]]:
    """(task, new status, julian day) of every status event of the tasks, in order."""
    return db.execute(
        "SELECT task_id, new, julianday(at) FROM task_events WHERE field = 'status' "
        "AND task_id IN (SELECT value FROM json_each(?)) ORDER BY task_id, id",
        [ids_json],
    ).fetchall()
