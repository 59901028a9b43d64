"""Named jobs: teamops command lines run in order under a lock, each run and step recorded."""

from __future__ import annotations

import fcntl
import os
import re
import shlex
import signal
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from teamops.clock import now_iso
from teamops.config import Config
from teamops.errors import ConfigError, LockHeld, UsageError
from teamops.messages.message import Message, code, data, rich
from teamops.store.jobs import (
    running_runs,
    save_interrupted,
    save_run_end,
    save_run_start,
    save_step_end,
    save_step_start,
)

if TYPE_CHECKING:
    from sqlite_utils import Database


def builtin_jobs(cfg: Config) -> dict[str, list[str]]:
    """The jobs every install has when the config defines none."""
    nightly = ["sync-commits"]
    if cfg.clickup.list_ids or cfg.clickup.sprint_folder_ids or cfg.clickup.team_id:
        nightly.append("sync-tasks")
    nightly += ["analyze", "raci check --escalate", "notify send"]
    eod = ["remind eod"]
    if cfg.notify.routes.get("review_reminder"):
        eod.append("remind reviews")
    return {"nightly": nightly, "eod": eod, "weekly": ["remind mastery", "gen-doc weekly"]}


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
        try:
            yield
        finally:
            # Still holding it: the next holder's contenders must not read this run as theirs.
            os.pwrite(fd, b" " * HOLDER_BYTES, 0)
    finally:
        os.close(fd)


def _holder(fd: int) -> str:
    """Who holds the lock, as it wrote itself down; a holder that has only just taken it gets a moment
    (an empty line, or one left by a run that was killed, is not the holder yet)."""
    for _ in range(50):
        text = os.pread(fd, HOLDER_BYTES, 0).decode("utf-8", "replace").strip()
        if text and _holder_running(text):
            return text
        time.sleep(0.01)
    return "another teamops run"


def _holder_running(holder: str) -> bool:
    """The process a holder line names still exists (a killed run leaves its line behind)."""
    match = re.search(r"\(pid (\d+)", holder)
    if not match:
        return True
    try:
        os.kill(int(match[1]), 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True
    return True


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
    stale = [rid for rid, pid in running_runs(db) if not lock_held_elsewhere or not _alive(pid)]
    save_interrupted(db, stale)
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
    result = RunResult(job, save_run_start(db, job), "ok")
    previous = signal.signal(signal.SIGTERM, _raise_interrupted)
    try:
        for position, step in enumerate(steps, 1):
            step_result = _run_step(db, result, step, position, run_step)
            result.steps.append(step_result)
            if step_result.status == "interrupted":
                result.status = "interrupted"
                break
            if on_step:
                on_step(step_result)
            if step_result.status == "failed":
                result.status = "failed"
                if not continue_on_error:
                    result.steps += [StepResult(later, "skipped", 0, 0.0) for later in steps[position:]]
                    break
    finally:
        signal.signal(signal.SIGTERM, previous)
        result.seconds = time.monotonic() - started
        failed = [s for s in result.steps if s.status in ("failed", "interrupted")]
        error = "; ".join(f"{s.step}: {s.error or s.status}" for s in failed) or None
        save_run_end(db, result.run_id, result.status, result.seconds, error)
    return result


def _run_step(
    db: Database, run: RunResult, step: str, position: int, run_step: Callable[[list[str]], tuple[int, str | None]]
) -> StepResult:
    """One step, recorded before it starts and when it ends: exit 0 ok, 1 findings, else failed."""
    try:
        args = shlex.split(step)
    except ValueError as exc:
        raise UsageError(f"job {run.job!r}: step {step!r} cannot be read: {exc}") from None
    t0 = time.monotonic()
    step_id = save_step_start(db, run.run_id, run.job, step, position)
    try:
        code, error = run_step(args)
    except (KeyboardInterrupt, Interrupted):
        code, error = 130, "interrupted"
        status = "interrupted"
    else:
        status = "ok" if code == 0 else ("findings" if code == 1 else "failed")
    outcome = StepResult(step, status, code, time.monotonic() - t0, error)
    save_step_end(db, step_id, status, code, error, outcome.seconds)
    return outcome


def _raise_interrupted(signum: int, frame: Any) -> None:
    raise Interrupted()


def failure_message(result: RunResult) -> Message:
    """The job_failed notification: which steps failed, and where to look."""
    failed = [s.step for s in result.steps if s.status == "failed"]
    return Message(
        kind="job_failed",
        key=f"job_failed:{result.job}:{result.run_id}",
        title=f"teamops job {result.job} failed",
        body=rich(
            f"{'Step' if len(failed) == 1 else 'Steps'} failed: ",
            data(", ".join(failed)),
            ". See ",
            code(f"teamops job history --job {result.job}"),
            ".",
        ),
        fields={"job": result.job, "run": str(result.run_id), "failed": ", ".join(failed)},
        severity="critical",
    )


def step_table(result: RunResult) -> str:
    """The run as Markdown for a CI job summary: a heading and one row per step."""
    lines = [
        f"## teamops job `{result.job}`: {result.status} in {result.seconds:.1f} s",
        "",
        "| step | status | seconds |",
        "|---|---|---:|",
    ]
    lines += [f"| `{s.step}` | {s.status} | {s.seconds:.1f} |" for s in result.steps]
    return "\n".join(lines)
