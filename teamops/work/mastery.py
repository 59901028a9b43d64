"""Personal-mastery items: growth goals per person, with due dates, recurrence and history."""

from __future__ import annotations

from calendar import monthrange
from datetime import date, timedelta
from typing import TYPE_CHECKING

from teamops.errors import InvalidInput
from teamops.people.handles import person_id
from teamops.store.mastery import MasteryItem, item, save_done, save_dropped, save_item
from teamops.store.mastery import items as list_items

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
    return save_item(db, person_id(db, handle), title.strip(), due, notes, every)


def _pending(db: Reader, item_id: int) -> MasteryItem:
    found = item(db, item_id)
    if found is None:
        raise InvalidInput(f"no mastery item #{item_id}", "see `teamops mastery list`")
    if found.status != "pending":
        raise InvalidInput(f"mastery item #{item_id} is {found.status}, not pending")
    return found


def complete(db: Database, item_id: int) -> int | None:
    """Mark done; a recurring item rolls forward as a new pending item. Returns the new item's id."""
    done = _pending(db, item_id)
    following = next_due(done.due, done.every) if done.every and done.due else None
    return save_done(db, done, following)


def drop(db: Database, item_id: int) -> None:
    save_dropped(db, _pending(db, item_id).id)


def items(db: Reader, handle: str | None = None, status: str | None = None) -> list[MasteryItem]:
    if status is not None and status not in ("pending", "done", "dropped"):
        raise InvalidInput(f"--status must be pending, done or dropped, not {status!r}")
    return list_items(db, person_id(db, handle) if handle else None, status)
