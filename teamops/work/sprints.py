"""Sprints: dates, the commitment snapshot taken at the start, and scope changes after it."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from teamops.clock import now_iso
from teamops.config import Config
from teamops.errors import InvalidInput
from teamops.store import sprints as store
from teamops.store.database import transaction

if TYPE_CHECKING:
    from sqlite_utils import Database

    from teamops.store.reader import Reader


def sprint_row(db: Reader, name: str) -> dict[str, Any]:
    found = store.sprint_by_name(db, name)
    if found is None:
        raise InvalidInput(f"no sprint {name!r}", "see `teamops sprint list`")
    return found


def add_sprint(db: Database, name: str, start: str, end: str, team: str | None = None) -> int:
    name = name.strip()
    if not name:
        raise InvalidInput("a sprint needs a name")
    try:
        first, last = date.fromisoformat(start), date.fromisoformat(end)
    except ValueError:
        raise InvalidInput("--start and --end must be dates (YYYY-MM-DD)") from None
    if not (first.year >= 1900 and last.year <= 2999):
        raise InvalidInput("sprint dates must lie between 1900 and 2999")
    if last < first:
        raise InvalidInput(f"sprint {name!r} ends ({end}) before it starts ({start})")
    with transaction(db):
        if store.sprint_by_name(db, name):
            raise InvalidInput(f"sprint {name!r} already exists")
        return store.save_sprint(db, name, start, end, team)


def start_sprint(db: Database, name: str, at: str | None = None, estimated: bool = False) -> int:
    """Record the commitment: the sprint's tasks and their points at this moment."""
    sprint = sprint_row(db, name)
    if sprint["status"] != "planned":
        raise InvalidInput(f"sprint {name!r} is {sprint['status']}; only a planned sprint can start")
    with transaction(db):
        return store.save_start(db, sprint["id"], at or now_iso(), estimated)


def close_sprint(db: Database, name: str) -> None:
    sprint = sprint_row(db, name)
    if sprint["status"] != "active":
        raise InvalidInput(f"sprint {name!r} is {sprint['status']}; only an active sprint can close")
    with transaction(db):
        store.save_closed(db, sprint["id"])


def list_sprints(db: Reader, cfg: Config) -> list[dict[str, Any]]:
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
        for r in store.sprint_rows(db, cfg.tasks.done_statuses)
    ]


def scope_changes(db: Reader, name: str) -> list[dict[str, Any]]:
    """Tasks added, removed or re-estimated after the sprint started."""
    sprint = sprint_row(db, name)
    if not sprint["started_at"]:
        return []
    out = []
    for at, tid, title, fld, old, new, actor in store.scope_events(db, sprint):
        change = "re-estimated" if fld == "points" else ("added" if new == name else "removed")
        out.append({"at": at, "task": f"#{tid}", "title": title, "change": change, "old": old, "new": new, "by": actor})
    return out
