"""The point_models and task_suggestions tables, written only here: what suggestions learned, and what they said."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from teamops.clock import now_iso
from teamops.store.database import transaction

if TYPE_CHECKING:
    from sqlite_utils import Database

    from teamops.store.reader import Reader

CHOICE_COLUMNS = ("method", "k", "held_out_mae", "median_mae", "tasks", "digest")


def stored_choice(db: Reader, digest: str) -> tuple[Any, ...] | None:
    """The learner chosen for a history with this digest, as CHOICE_COLUMNS (None: not chosen yet)."""
    return db.execute(
        f"SELECT {', '.join(CHOICE_COLUMNS)} FROM point_models WHERE digest = ? ORDER BY id DESC LIMIT 1", [digest]
    ).fetchone()


def save_choice(db: Database, values: tuple[Any, ...]) -> None:
    """Record a learner chosen (CHOICE_COLUMNS' values)."""
    with transaction(db):
        db.execute(
            f"INSERT INTO point_models ({', '.join(CHOICE_COLUMNS)}, trained_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [*values, now_iso()],
        )


def cached_suggestion(db: Reader, key: str, model: str, version: str, examples: str) -> tuple[float, str] | None:
    """(points, rationale) already suggested for a task by this model, prompt and examples."""
    row = db.execute(
        "SELECT points, rationale FROM task_suggestions WHERE task_key = ? AND model = ? AND prompt_version = ? "
        "AND examples = ?",
        [key, model, version, examples],
    ).fetchone()
    return (float(row[0]), str(row[1] or "")) if row else None


def save_suggestions(
    db: Database,
    model: str,
    version: str,
    rows: Iterable[tuple[str, str, float, str | None, int, int, float]],
) -> None:
    """What was suggested, once per task, model, prompt and examples: (task key, examples digest, points,
    rationale, tokens in, tokens out, cost)."""
    with transaction(db):
        db.conn.executemany(
            "INSERT OR IGNORE INTO task_suggestions (task_key, model, prompt_version, examples, points, rationale, "
            "tokens_in, tokens_out, cost_usd, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (key, model, version, ex, pts, why, tin, tout, cost, now_iso())
                for key, ex, pts, why, tin, tout, cost in rows
            ],
        )
