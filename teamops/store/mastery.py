"""The mastery_items table: growth goals per person, written only here."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from teamops.clock import now_iso
from teamops.store.database import transaction
from teamops.store.filters import Where

if TYPE_CHECKING:
    from sqlite_utils import Database

    from teamops.store.reader import Reader


@dataclass
class MasteryItem:
    """One item as `mastery list` shows it."""

    id: int
    person: str
    title: str
    due: str | None
    every: str | None
    status: str
    notes: str | None
    done_at: str | None
    previous: int | None
    person_id: int = 0

    def row(self) -> dict[str, Any]:
        data = dict(vars(self))
        data.pop("person_id")
        return data


SELECT = (
    "SELECT m.id, p.handle, m.title, m.due_date, m.every, m.status, m.notes, m.done_at, m.previous_id, m.person_id "
    "FROM mastery_items m JOIN people p ON p.id = m.person_id"
)


def save_item(db: Database, person_id: int, title: str, due: str | None, notes: str | None, every: str | None) -> int:
    with transaction(db):
        cur = db.execute(
            "INSERT INTO mastery_items (person_id, title, notes, due_date, every, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [person_id, title, notes, due, every, now_iso()],
        )
    return int(cur.lastrowid or 0)


def item(db: Reader, item_id: int) -> MasteryItem | None:
    row = db.execute(f"{SELECT} WHERE m.id = ?", [item_id]).fetchone()
    return MasteryItem(*row) if row else None


def save_done(db: Database, done: MasteryItem, next_due: str | None) -> int | None:
    """Mark done; with a next due date, the same item again as a new pending one. Returns its id."""
    stamp = now_iso()
    with transaction(db):
        db.execute("UPDATE mastery_items SET status = 'done', done_at = ? WHERE id = ?", [stamp, done.id])
        if next_due is None:
            return None
        cur = db.execute(
            "INSERT INTO mastery_items (person_id, title, notes, due_date, every, previous_id, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            [done.person_id, done.title, done.notes, next_due, done.every, done.id, stamp],
        )
    return int(cur.lastrowid or 0)


def save_dropped(db: Database, item_id: int) -> None:
    with transaction(db):
        db.execute("UPDATE mastery_items SET status = 'dropped', dropped_at = ? WHERE id = ?", [now_iso(), item_id])


def items(db: Reader, person_id: int | None = None, status: str | None = None) -> list[MasteryItem]:
    """Pending first by due date, then the rest."""
    where = Where().add("m.person_id = ?", person_id, when=person_id).add("m.status = ?", status, when=status)
    rows = db.execute(
        f"{SELECT} WHERE {where.sql} ORDER BY m.status != 'pending', m.due_date IS NULL, m.due_date, m.id",
        where.params,
    ).fetchall()
    return [MasteryItem(*r) for r in rows]


def due_by(db: Reader, person_id: int, last_day: str) -> list[MasteryItem]:
    """A person's pending items due on or before a day, soonest first."""
    rows = db.execute(
        f"{SELECT} WHERE m.person_id = ? AND m.status = 'pending' AND m.due_date IS NOT NULL AND m.due_date <= ? "
        "ORDER BY m.due_date",
        [person_id, last_day],
    ).fetchall()
    return [MasteryItem(*r) for r in rows]
