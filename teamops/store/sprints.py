"""The sprints and sprint_tasks tables, written only here: dates, status and the commitment snapshot."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from teamops.clock import now_iso

if TYPE_CHECKING:
    from sqlite_utils import Database

    from teamops.store.reader import Reader

SPRINT_KEYS = ("id", "name", "start_date", "end_date", "status", "started_at", "closed_at", "team", "start_event_id")


def sprint_by_name(db: Reader, name: str) -> dict[str, Any] | None:
    row = db.execute(
        "SELECT id, name, start_date, end_date, status, started_at, closed_at, team, start_event_id FROM sprints "
        "WHERE name = ?",
        [name],
    ).fetchone()
    return dict(zip(SPRINT_KEYS, row, strict=True)) if row else None


def sprint_ids(db: Reader) -> dict[str, int]:
    return {name: int(sid) for sid, name in db.execute("SELECT id, name FROM sprints")}


def save_sprint(db: Database, name: str, start: str, end: str, team: str | None) -> int:
    cur = db.execute(
        "INSERT INTO sprints (name, start_date, end_date, team, created_at) VALUES (?, ?, ?, ?, ?)",
        [name, start, end, team, now_iso()],
    )
    return int(cur.lastrowid or 0)


def save_synced_sprint(db: Database, source: str, name: str, start: str, end: str, external_id: str) -> None:
    """A sprint from a tracker: created, or its dates kept current."""
    db.execute(
        "INSERT INTO sprints (name, start_date, end_date, source, external_id, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET "
        "start_date = excluded.start_date, end_date = excluded.end_date, external_id = excluded.external_id",
        [name, start, end, source, external_id, now_iso()],
    )


def save_start(db: Database, sprint_id: int, at: str, estimated: bool) -> int:
    """The commitment: the sprint's tasks and their points now; and the last task event before it."""
    cur = db.execute(
        "INSERT INTO sprint_tasks (sprint_id, task_id, committed_points, snapshot_at, estimated) "
        "SELECT ?, id, points, ?, ? FROM tasks WHERE sprint_id = ? AND removed_at IS NULL",
        [sprint_id, at, int(estimated), sprint_id],
    )
    db.execute(
        "UPDATE sprints SET status = 'active', started_at = ?, "
        "start_event_id = (SELECT COALESCE(MAX(id), 0) FROM task_events) WHERE id = ?",
        [at, sprint_id],
    )
    return cur.rowcount


def save_started_from_history(db: Database, sprint_id: int, at: str, rows: list[tuple[int, float | None]]) -> int:
    """The commitment a tracker's history gives: the tasks in the sprint at its start, with their points then.
    Scope changes after it are the events dated after the start (no event id: the history is older)."""
    for task_id, points in rows:
        db.execute(
            "INSERT OR REPLACE INTO sprint_tasks (sprint_id, task_id, committed_points, snapshot_at, estimated) "
            "VALUES (?, ?, ?, ?, 0)",
            [sprint_id, task_id, points, at],
        )
    db.execute(
        "UPDATE sprints SET status = 'active', started_at = ?, start_event_id = NULL WHERE id = ?", [at, sprint_id]
    )
    return len(rows)


def save_closed(db: Database, sprint_id: int, at: str | None = None) -> None:
    db.execute("UPDATE sprints SET status = 'closed', closed_at = ? WHERE id = ?", [at or now_iso(), sprint_id])


def synced_sprints(db: Reader, source: str) -> list[tuple[str, str, str, str]]:
    """(name, start, end, status) of the sprints that come from a tracker."""
    return db.execute(
        "SELECT name, start_date, end_date, status FROM sprints WHERE source = ? ORDER BY start_date", [source]
    ).fetchall()


def sprint_rows(db: Reader, done: list[str]) -> list[tuple[Any, ...]]:
    """Every sprint with its task count, committed points (and how many committed) and completed points."""
    marks = ",".join("?" * len(done))
    return db.execute(
        f"""
        SELECT s.id, s.name, s.start_date, s.end_date, s.status, s.team,
            (SELECT COUNT(*) FROM tasks t WHERE t.sprint_id = s.id AND t.removed_at IS NULL),
            (SELECT SUM(committed_points) FROM sprint_tasks st WHERE st.sprint_id = s.id),
            (SELECT COUNT(*) FROM sprint_tasks st WHERE st.sprint_id = s.id),
            (SELECT SUM(t.points) FROM tasks t WHERE t.sprint_id = s.id AND t.removed_at IS NULL
                AND t.status IN ({marks}) AND substr(t.done_at, 1, 10) <= s.end_date)
        FROM sprints s ORDER BY s.start_date, s.id
        """,
        done,
    ).fetchall()


def scope_events(db: Reader, sprint: dict[str, Any]) -> list[tuple[Any, ...]]:
    """(at, task, title, field, old, new, actor) of the events that changed a started sprint's scope.

    After the start means recorded after it (exact within a second); for a sprint whose start was
    taken from ClickUp's dates, dated after it.
    """
    end = sprint["closed_at"] or "9999"
    after = "e.id > ?" if sprint["start_event_id"] is not None else "e.at > ?"
    start = sprint["start_event_id"] if sprint["start_event_id"] is not None else sprint["started_at"]
    return db.execute(
        f"""
        SELECT e.at, t.id, t.title, e.field, e.old, e.new, e.actor FROM task_events e JOIN tasks t ON t.id = e.task_id
        WHERE {after} AND e.at <= ? AND (
            (e.field = 'sprint' AND (e.old = ? OR e.new = ?))
            OR (e.field = 'points' AND e.old IS NOT NULL AND (t.sprint_id = ? OR e.task_id IN
                (SELECT task_id FROM sprint_tasks WHERE sprint_id = ?)))
        )
        ORDER BY e.id
        """,
        [start, end, sprint["name"], sprint["name"], sprint["id"], sprint["id"]],
    ).fetchall()


def any_started(db: Reader) -> bool:
    return db.execute("SELECT 1 FROM sprints WHERE status != 'planned' LIMIT 1").fetchone() is not None


def current_sprint(db: Reader) -> str | None:
    """The active sprint, else the last closed one."""
    row = (
        db.execute("SELECT name FROM sprints WHERE status = 'active' ORDER BY start_date DESC LIMIT 1").fetchone()
        or db.execute("SELECT name FROM sprints WHERE status = 'closed' ORDER BY end_date DESC LIMIT 1").fetchone()
    )
    return row[0] if row else None
