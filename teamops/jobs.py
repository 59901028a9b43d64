"""Named jobs: teamops command lines run in order under a lock, each run and step recorded."""

from __future__ import annotations

import fcntl
import os
import shlex
import signal
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from teamops.config import Config
from teamops.errors import ConfigError, LockHeld, UsageError
from teamops.store.database import now_iso, transaction

if TYPE_CHECKING:
    from sqlite_utils import Database

    from teamops.store.reader import Reader


def builtin_jobs(cfg: Config) -> dict[str, list[str]]:
    """The jobs every install has when the config defines none."""
    nightly = ["sync-commits"]
    if cfg.clickup.list_ids or cfg.clickup.sprint_folder_ids or cfg.clickup.team_id:
        nightly.append("sync-tasks")
    nightly += ["analyze", "raci check --escalate", "notify send"]
    return {"nightly": nightly, "eod": ["remind eod"], "weekly": ["remind mastery", "gen-doc weekly"]}


def jobs_of(cfg: Config) -> dict[str, list[str]]:
    return {name: job.steps for name, job in cfg.jobs.items()} if cfg.jobs else builtin_jobs(cfg)


HOLDER_BYTES = 256  # the holder's line, written in one pwrite so a reader never sees half of it


@contextmanager
def job_lock(db_path: Path, job: str, wait: bool) -> Iterator[None]:
    """An flock beside the database: released by the kernel when the process ends, so never stale."""
    lock_path = Path(f"{db_path}.lock")
    if not lock_path.parent.is_dir():
        raise ConfigError(f"folder {lock_path.parent} does not exist", "create it or change --db")
    try:
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise ConfigError(
            f"cannot create the lock {lock_path}: {exc.strerror}",
            "the database's folder must be writable; or choose another with --db",
        ) from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            raise LockHeld(f"{_holder(fd)} holds the lock on {db_path}", "try later, or pass --wait") from None
        line = f"job {job!r} (pid {os.getpid()}, since {now_iso()})"
        os.pwrite(fd, line.encode()[:HOLDER_BYTES].ljust(HOLDER_BYTES), 0)
        yield
    finally:
        os.close(fd)


def _holder(fd: int) -> str:
    """Who holds the lock, as it wrote itself down; a holder that has only just taken it gets a moment."""
    for _ in range(50):
        text = os.pread(fd, HOLDER_BYTES, 0).decode("utf-8", "replace").strip()
        if text:
            return text
        time.sleep(0.01)
    return "another teamops run"


def lock_is_free(db_path: Path) -> bool:
    """No run holds the lock right now (so every run recorded as running was killed)."""
    try:
        fd = os.open(f"{db_path}.lock", os.O_RDWR)
    except OSError:
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(fd)
    return True


@dataclass
class StepResult:
    step: str
    status: str
    exit_code: int
    seconds: float
    error: str | None = None


@dataclass
class RunResult:
    job: str
    run_id: int
    status: str
    steps: list[StepResult] = field(default_factory=list)
    seconds: float = 0.0


def mark_abandoned(db: Database, lock_held_elsewhere: bool = True) -> int:
    """Runs left 'running' by a process that was killed, recorded as interrupted; returns how many runs.

    While this process holds the job lock, or nobody does, no run can be going on: every run still
    marked running was killed. Otherwise a run counts as killed when its process is gone.
    """
    rows = db.execute("SELECT id, pid FROM job_runs WHERE status = 'running' AND run_id IS NULL").fetchall()
    stale = [rid for rid, pid in rows if not lock_held_elsewhere or not _alive(pid)]
    if stale:
        marks = ",".join("?" * len(stale))
        with transaction(db):
            db.execute(
                "UPDATE job_runs SET status = 'interrupted', error = COALESCE(error, 'the process ended without "
                f"finishing (killed?)'), ended_at = COALESCE(ended_at, ?) WHERE status = 'running' "
                f"AND (id IN ({marks}) OR run_id IN ({marks}))",
                [now_iso(), *stale, *stale],
            )
    return len(stale)


def _alive(pid: int | None) -> bool:
    if not pid or pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class Interrupted(BaseException):
    """SIGTERM or Ctrl-C during a step."""


def run_job(
    db: Database,
    job: str,
    steps: list[str],
    run_step: Callable[[list[str]], tuple[int, str | None]],
    *,
    continue_on_error: bool = False,
    on_step: Callable[[StepResult], None] | None = None,
) -> RunResult:
    """Run steps in order; a failed step stops the job unless continue_on_error. Exit 1 is a finding."""
    started = time.monotonic()
    with transaction(db):
        cur = db.execute(
            "INSERT INTO job_runs (job, status, pid, started_at) VALUES (?, 'running', ?, ?)",
            [job, os.getpid(), now_iso()],
        )
    run_id = int(cur.lastrowid or 0)
    result = RunResult(job, run_id, "ok")
    previous = signal.signal(signal.SIGTERM, _raise_interrupted)
    try:
        for position, step in enumerate(steps, 1):
            try:
                args = shlex.split(step)
            except ValueError as exc:
                raise UsageError(f"job {job!r}: step {step!r} cannot be read: {exc}") from None
            t0 = time.monotonic()
            with transaction(db):
                sid = int(
                    db.execute(
                        "INSERT INTO job_runs (run_id, job, step, position, status, pid, started_at) "
                        "VALUES (?, ?, ?, ?, 'running', ?, ?)",
                        [run_id, job, step, position, os.getpid(), now_iso()],
                    ).lastrowid
                    or 0
                )
            try:
                code, error = run_step(args)
            except (KeyboardInterrupt, Interrupted):
                _finish(db, sid, StepResult(step, "interrupted", 130, time.monotonic() - t0, "interrupted"))
                result.steps.append(StepResult(step, "interrupted", 130, time.monotonic() - t0, "interrupted"))
                result.status = "interrupted"
                break
            status = "ok" if code == 0 else ("findings" if code == 1 else "failed")
            step_result = StepResult(step, status, code, time.monotonic() - t0, error)
            _finish(db, sid, step_result)
            result.steps.append(step_result)
            if on_step:
                on_step(step_result)
            if status == "failed":
                result.status = "failed"
                if not continue_on_error:
                    for later in steps[position:]:
                        result.steps.append(StepResult(later, "skipped", 0, 0.0))
                    break
    finally:
        signal.signal(signal.SIGTERM, previous)
        result.seconds = time.monotonic() - started
        failed = [s for s in result.steps if s.status in ("failed", "interrupted")]
        with transaction(db):
            db.execute(
                "UPDATE job_runs SET status = ?, ended_at = ?, seconds = ?, error = ?, exit_code = ? WHERE id = ?",
                [
                    result.status,
                    now_iso(),
                    round(result.seconds, 3),
                    "; ".join(f"{s.step}: {s.error or s.status}" for s in failed) or None,
                    {"ok": 0, "failed": 1, "interrupted": 130}.get(result.status, 1),
                    run_id,
                ],
            )
    return result


def _raise_interrupted(signum: int, frame: Any) -> None:
    raise Interrupted()


def _finish(db: Database, sid: int, s: StepResult) -> None:
    with transaction(db):
        db.execute(
            "UPDATE job_runs SET status = ?, exit_code = ?, error = ?, ended_at = ?, seconds = ? WHERE id = ?",
            [s.status, s.exit_code, s.error, now_iso(), round(s.seconds, 3), sid],
        )


def count_runs(db: Reader, job: str | None) -> int:
    """Runs recorded (of one job, or all)."""
    sql = "SELECT COUNT(*) FROM job_runs WHERE run_id IS NULL" + (" AND job = ?" if job else "")
    return int(db.execute(sql, [job] if job else []).fetchone()[0])


def history(db: Reader, job: str | None, limit: int) -> list[dict[str, Any]]:
    where, params = ["run_id IS NULL"], []
    if job:
        where.append("job = ?")
        params.append(job)
    runs = db.execute(
        f"SELECT id, job, status, started_at, seconds, error FROM job_runs WHERE {' AND '.join(where)} "
        "ORDER BY id DESC LIMIT ?",
        [*params, limit or -1],
    ).fetchall()
    out = []
    for rid, name, status, started, seconds, error in runs:
        steps = db.execute(
            "SELECT step, status, seconds FROM job_runs WHERE run_id = ? ORDER BY position", [rid]
        ).fetchall()
        out.append(
            {
                "run": rid,
                "job": name,
                "status": status,
                "started_at": started,
                "seconds": seconds,
                "steps": [f"{s} ({st})" for s, st, _ in steps],
                "error": error,
            }
        )
    return out
