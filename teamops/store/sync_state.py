"""The per-source cursor table: where each sync stopped, so the next one resumes or skips."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from teamops.store.database import now_iso

if TYPE_CHECKING:
    from sqlite_utils import Database


@dataclass
class SyncState:
    """Progress of one source (a repo branch, a ClickUp list, ...)."""

    source: str
    status: str = "idle"
    head: str | None = None
    target: str | None = None
    cursor: str | None = None
    etag: str | None = None
    items: int = 0
    requests_used: int = 0
    rate_limit_remaining: int | None = None
    last_run_at: str | None = None
    last_success_at: str | None = None
    details: dict[str, Any] = field(default_factory=dict)


COLUMNS = [
    "source",
    "status",
    "head",
    "target",
    "cursor",
    "etag",
    "items",
    "requests_used",
    "rate_limit_remaining",
    "last_run_at",
    "last_success_at",
    "details",
]


def load_state(db: Database, source: str) -> SyncState:
    row = db.execute(f"SELECT {', '.join(COLUMNS)} FROM sync_state WHERE source = ?", [source]).fetchone()
    if row is None:
        return SyncState(source)
    values = dict(zip(COLUMNS, row, strict=True))
    values["details"] = json.loads(values["details"] or "{}")
    return SyncState(**values)


def save_state(db: Database, state: SyncState) -> None:
    """Upsert a state; call inside the transaction that wrote the data it describes."""
    state.last_run_at = now_iso()
    values = [getattr(state, c) for c in COLUMNS]
    values[COLUMNS.index("details")] = json.dumps(state.details, sort_keys=True)
    placeholders = ", ".join("?" for _ in COLUMNS)
    updates = ", ".join(f"{c} = excluded.{c}" for c in COLUMNS[1:])
    db.execute(
        f"INSERT INTO sync_state ({', '.join(COLUMNS)}) VALUES ({placeholders}) "
        f"ON CONFLICT(source) DO UPDATE SET {updates}",
        values,
    )
