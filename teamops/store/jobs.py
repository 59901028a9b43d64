"""The job_runs table: one row per run and one per step, written only here."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from teamops.clock import now_iso
from teamops.store.database import transaction

if TYPE_CHECKING:
    from sqlite_utils import Database

    from teamops.store.reader import Reader

EXIT_OF_RUN = {"ok": 0, "failed": 1, "interrupted": 130}


def save_run_start(db: Database, job: str) -> int:
    with transaction(db):
        cur = db.execute(
            "INSERT INTO job_runs (job, status, pid, started_at) VALUES (?, 'running', ?, ?)",
            [job, os.getpid(), now_iso()],
        )
    return int(cur.lastrowid or 0)


def save_step_start(db: Database, run_id: int, job: str, step: str, position: int) -> int:
    with transaction(db):
        cur = db.execute(
            "INSERT INTO job_runs (run_id, job, step, position, status, pid, started_at) "
            "VALUES (?, ?, ?, ?, 'running', ?, ?)",
            [run_id, job, step, position, os.getpid(), now_iso()],
        )
    return int(cur.lastrowid or 0)


def save_step_end(db: Database, step_id: int, status: str, exit_code: int, error: str | None, seconds: float) -> None:
    with transaction(db):
        db.execute(
            "UPDATE job_runs SET status = ?, exit_code = ?, error = ?, ended_at = ?, seconds = ? WHERE id = ?",
            [status, exit_code, error, now_iso(), round(seconds, 3), step_id],
        )


def save_run_end(db: Database, run_id: int, status: str, seconds: float, error: str | None) -> None:
    with transaction(db):
        db.execute(
            "UPDATE job_runs SET status = ?, ended_at = ?, seconds = ?, error = ?, exit_code = ? WHERE id = ?",
            [status, now_iso(), round(seconds, 3), error, EXIT_OF_RUN.get(status, 1), run_id],
        )


def running_runs(db: Reader) -> list[tuple[int, int | None]]:
    """(run id, pid) of the runs recorded as still running."""
    return [
        (r[0], r[1]) for r in db.execute("SELECT id, pid FROM job_runs WHERE status = 'running' AND run_id IS NULL")
    ]


def save_interrupted(db: Database, run_ids: list[int]) -> None:
    """Runs (and their steps) whose process ended without finishing them."""
    if not run_ids:
        return
    marks = ",".join("?" * len(run_ids))
    with transaction(db):
        db.execute(
            "UPDATE job_runs SET status = 'interrupted', error = COALESCE(error, 'the process ended without "
            f"finishing (killed?)'), ended_at = COALESCE(ended_at, ?) WHERE status = 'running' "
            f"AND (id IN ({marks}) OR run_id IN ({marks}))",
            [now_iso(), *run_ids, *run_ids],
        )


def count_runs(db: Reader, job: str | None) -> int:
    """Runs recorded (of one job, or all)."""
    sql = "SELECT COUNT(*) FROM job_runs WHERE run_id IS NULL" + (" AND job = ?" if job else "")
    return int(db.execute(sql, [job] if job else []).fetchone()[0])


def runs(db: Reader, job: str | None, limit: int) -> list[dict[str, Any]]:
    """The newest runs first (limit 0: all), each with its steps."""
    sql = "SELECT id, job, status, started_at, seconds, error FROM job_runs WHERE run_id IS NULL"
    params: list[Any] = []
    if job:
        sql += " AND job = ?"
        params.append(job)
    found = db.execute(sql + " ORDER BY id DESC LIMIT ?", [*params, limit or -1]).fetchall()
    out = []
    for rid, name, status, started, seconds, error in found:
        steps = db.execute("SELECT step, status FROM job_runs WHERE run_id = ? ORDER BY position", [rid]).fetchall()
        out.append(
            {
                "run": rid,
                "job": name,
                "status": status,
                "started_at": started,
                "seconds": seconds,
                "steps": [f"{s} ({st})" for s, st in steps],
                "error": error,
            }
        )
    return out
