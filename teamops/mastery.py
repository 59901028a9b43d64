"""Personal-mastery items: growth goals per person, with due dates, recurrence and history."""

from __future__ import annotations

from calendar import monthrange
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from teamops.errors import InvalidInput
from teamops.people import person_id
from teamops.store.database import now_iso, transaction

if TYPE_CHECKING:
    from sqlite_utils import Database

    from teamops.store.reader import Reader


def _check_date(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        raise InvalidInput(f"due date {value!r} is not YYYY-MM-DD") from None


def next_due(due: str, every: str) -> str:
    """The next occurrence: a week later, or the same day next month (clamped to its length)."""
    day = date.fromisoformat(due)
    if every == "week":
        return (day + timedelta(days=7)).isoformat()
    year, month = (day.year + 1, 1) if day.month == 12 else (day.year, day.month + 1)
    return date(year, month, min(day.day, monthrange(year, month)[1])).isoformat()


def assign(db: Database, handle: str, title: str, due: str | None, notes: str | None, every: str | None) -> int:
    if not title.strip():
        raise InvalidInput("a mastery item needs a title")
    if every not in (None, "week", "month"):
        raise InvalidInput(f"--every must be week or month, not {every!r}")
    due = _check_date(due)
    if every and not due:
        raise InvalidInput("a recurring item needs a first --due date")
    pid = person_id(db, handle)
    with transaction(db):
        cur = db.execute(
            "INSERT INTO mastery_items (person_id, title, notes, due_date, every, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [pid, title.strip(), notes, due, every, now_iso()],
        )
    return int(cur.lastrowid or 0)


def _item(db: Database, item_id: int) -> tuple[Any, ...]:
    row = db.execute(
        "SELECT id, person_id, title, notes, due_date, every, status FROM mastery_items WHERE id = ?", [item_id]
    ).fetchone()
    if row is None:
        raise InvalidInput(f"no mastery item #{item_id}", "see `teamops mastery list`")
    return tuple(row)


def complete(db: Database, item_id: int) -> int | None:
    """Mark done; a recurring item rolls forward as a new pending item. Returns the new item's id."""
    _, pid, title, notes, due, every, status = _item(db, item_id)
    if status != "pending":
        raise InvalidInput(f"mastery item #{item_id} is {status}, not pending")
    stamp = now_iso()
    with transaction(db):
        db.execute("UPDATE mastery_items SET status = 'done', done_at = ? WHERE id = ?", [stamp, item_id])
        if every and due:
            cur = db.execute(
                "INSERT INTO mastery_items (person_id, title, notes, due_date, every, previous_id, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                [pid, title, notes, next_due(due, every), every, item_id, stamp],
            )
            return int(cur.lastrowid or 0)
    return None


def drop(db: Database, item_id: int) -> None:
    status = _item(db, item_id)[6]
    if status != "pending":
        raise InvalidInput(f"mastery item #{item_id} is {status}, not pending")
    with transaction(db):
        db.execute("UPDATE mastery_items SET status = 'dropped', dropped_at = ? WHERE id = ?", [now_iso(), item_id])


def items(db: Reader, handle: str | None = None, status: str | None = None) -> list[dict[str, Any]]:
    where: list[str] = ["1 = 1"]
    params: list[Any] = []
    if handle:
        where.append("m.person_id = ?")
        params.append(person_id(db, handle))
    if status is not None:
        if status not in ("pending", "done", "dropped"):
            raise InvalidInput(f"--status must be pending, done or dropped, not {status!r}")
        where.append("m.status = ?")
        params.append(status)
    rows = db.execute(
        "SELECT m.id, p.handle, m.title, m.due_date, m.every, m.status, m.notes, m.done_at, m.previous_id "
        f"FROM mastery_items m JOIN people p ON p.id = m.person_id WHERE {' AND '.join(where)} "
        "ORDER BY m.status != 'pending', m.due_date IS NULL, m.due_date, m.id",
        params,
    ).fetchall()
    keys = ("id", "person", "title", "due", "every", "status", "notes", "done_at", "previous")
    return [dict(zip(keys, r, strict=True)) for r in rows]
