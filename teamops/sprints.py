"""Sprints: dates, the commitment snapshot taken at the start, and scope changes after it."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from teamops.config import Config
from teamops.errors import InvalidInput
from teamops.store.database import now_iso, transaction

if TYPE_CHECKING:
    from sqlite_utils import Database

    from teamops.store.reader import Reader


def sprint_row(db: Reader, name: str) -> dict[str, Any]:
    row = db.execute(
        "SELECT id, name, start_date, end_date, status, started_at, closed_at, team, start_event_id FROM sprints "
        "WHERE name = ?",
        [name],
    ).fetchone()
    if row is None:
        raise InvalidInput(f"no sprint {name!r}", "see `teamops sprint list`")
    keys = ("id", "name", "start_date", "end_date", "status", "started_at", "closed_at", "team", "start_event_id")
    return dict(zip(keys, row, strict=True))


def add_sprint(db: Database, name: str, start: str, end: str, team: str | None = None) -> int:
    name = name.strip()
    if not name:
        raise InvalidInput("a sprint needs a name")
    try:
        first, last = date.fromisoformat(start), date.fromisoformat(end)
    except ValueError:
        raise InvalidInput("--start and --end must be dates (YYYY-MM-DD)") from None
    if last < first:
        raise InvalidInput(f"sprint {name!r} ends ({end}) before it starts ({start})")
    with transaction(db):
        if db.execute("SELECT 1 FROM sprints WHERE name = ?", [name]).fetchone():
            raise InvalidInput(f"sprint {name!r} already exists")
        cur = db.execute(
            "INSERT INTO sprints (name, start_date, end_date, team, created_at) VALUES (?, ?, ?, ?, ?)",
            [name, start, end, team, now_iso()],
        )
    return int(cur.lastrowid or 0)


def start_sprint(db: Database, name: str, at: str | None = None, estimated: bool = False) -> int:
    """Record the commitment: the sprint's tasks and their points at this moment."""
    sprint = sprint_row(db, name)
    if sprint["status"] != "planned":
        raise InvalidInput(f"sprint {name!r} is {sprint['status']}; only a planned sprint can start")
    at = at or now_iso()
    with transaction(db):
        cur = db.execute(
            "INSERT INTO sprint_tasks (sprint_id, task_id, committed_points, snapshot_at, estimated) "
            "SELECT ?, id, points, ?, ? FROM tasks WHERE sprint_id = ? AND removed_at IS NULL",
            [sprint["id"], at, int(estimated), sprint["id"]],
        )
        db.execute(
            "UPDATE sprints SET status = 'active', started_at = ?, "
            "start_event_id = (SELECT COALESCE(MAX(id), 0) FROM task_events) WHERE id = ?",
            [at, sprint["id"]],
        )
    return cur.rowcount


def close_sprint(db: Database, name: str) -> None:
    sprint = sprint_row(db, name)
    if sprint["status"] != "active":
        raise InvalidInput(f"sprint {name!r} is {sprint['status']}; only an active sprint can close")
    with transaction(db):
        db.execute("UPDATE sprints SET status = 'closed', closed_at = ? WHERE id = ?", [now_iso(), sprint["id"]])


def list_sprints(db: Reader, cfg: Config) -> list[dict[str, Any]]:
    done = cfg.tasks.done_statuses
    marks = ",".join("?" * len(done))
    rows = db.execute(
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
    return [
        {
            "name": r[1],
            "start": r[2],
            "end": r[3],
            "status": r[4],
            "team": r[5],
            "tasks": r[6],
            "committed_points": r[7] if r[8] else None,
            "completed_points": r[9] or 0,
        }
        for r in rows
    ]


def scope_changes(db: Reader, name: str) -> list[dict[str, Any]]:
    """Tasks added, removed or re-estimated after the sprint started."""
    sprint = sprint_row(db, name)
    if not sprint["started_at"]:
        return []
    end = sprint["closed_at"] or "9999"
    # After the start: events recorded after it (exact within a second), else, for a sprint whose
    # start was taken from ClickUp's dates, events dated after it.
    after = "e.id > ?" if sprint["start_event_id"] is not None else "e.at > ?"
    rows = db.execute(
        f"""
        SELECT e.at, t.id, t.title, e.field, e.old, e.new, e.actor FROM task_events e JOIN tasks t ON t.id = e.task_id
        WHERE {after} AND e.at <= ? AND (
            (e.field = 'sprint' AND (e.old = ? OR e.new = ?))
            OR (e.field = 'points' AND e.old IS NOT NULL AND (t.sprint_id = ? OR e.task_id IN
                (SELECT task_id FROM sprint_tasks WHERE sprint_id = ?)))
        )
        ORDER BY e.id
        """,
        [
            sprint["start_event_id"] if sprint["start_event_id"] is not None else sprint["started_at"],
            end,
            name,
            name,
            sprint["id"],
            sprint["id"],
        ],
    ).fetchall()
    out = []
    for at, tid, title, fld, old, new, actor in rows:
        change = "re-estimated" if fld == "points" else ("added" if new == name else "removed")
        out.append(
            {
                "at": at,
                "task": f"#{tid}",
                "title": title,
                "change": change,
                "old": old,
                "new": new,
                "by": actor,
            }
        )
    return out
