"""Which repositories a commit sync covers (flags, else the config, else here), and syncing them side by side.

Each worker thread has its own connection to the file and its own clients; the sources share one
rate budget per token. One repository failing is its own result: the others go on.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from teamops.errors import TeamopsError
from teamops.sources import Source, SyncOptions, Target, configured_target, kind, parse_repo_arg
from teamops.sync.result import SyncResult

if TYPE_CHECKING:
    from sqlite_utils import Database

    from teamops.config import Config

ProgressFor = Callable[[str], AbstractContextManager[Any]]


class _Stopped(Exception):
    """The run was interrupted: a worker stops at its next page (what it stored stays)."""


def sync_targets(cfg: Config, repo_args: list[str] | None, branches: list[str] | None) -> list[Target]:
    """`--repo` values, else `[[repos]]`, else the clone in the current folder (patterns not yet expanded)."""
    chosen = list(branches or [])
    if repo_args:
        return [parse_repo_arg(value, chosen) for value in repo_args]
    if cfg.repos:
        return [configured_target(cfg, rc, chosen) for rc in cfg.repos]
    return [parse_repo_arg(str(Path.cwd()), chosen)]


class Sources:
    """The kinds a run uses, each made once on first use and shared by the run's workers."""

    def __init__(self, cfg: Config) -> None:
        self.cfg = cfg
        self._made: dict[str, Source] = {}
        self._lock = threading.Lock()

    def get(self, name: str) -> Source:
        with self._lock:
            if name not in self._made:
                self._made[name] = kind(name)(self.cfg)  # type: ignore[call-arg]
            return self._made[name]


def expand(db: Database, sources: Sources, targets: list[Target]) -> list[Target]:
    """Patterns as the repositories they name now; each repository once, in the order first named."""
    seen: set[tuple[str, str]] = set()
    out: list[Target] = []
    for target in targets:
        for found in sources.get(target.kind).expand(db, target):
            key = (found.kind, found.locator.lower())
            if key not in seen:
                seen.add(key)
                out.append(found)
    return out


def database_file(db: Database) -> str | None:
    """The file a connection has open; None for an in-memory database (which one thread must write)."""
    for _, name, file in db.execute("PRAGMA database_list").fetchall():
        if name == "main":
            return str(file) or None
    return None


def sync_all(
    db: Database,
    targets: list[Target],
    sources: Sources,
    progress_for: ProgressFor,
    opts: SyncOptions,
    concurrency: int = 1,
) -> Iterator[SyncResult]:
    """Sync each repository, `concurrency` at a time, yielding each result as soon as it is done."""
    path = database_file(db)
    if concurrency <= 1 or len(targets) <= 1 or path is None:
        for target in targets:
            yield _sync_one(db, sources, target, opts, progress_for, None, isolate=len(targets) > 1)
        return
    from teamops.store.database import open_database

    stop = threading.Event()
    local = threading.local()
    opened: list[Database] = []
    lock = threading.Lock()

    def work(target: Target) -> SyncResult:
        conn = getattr(local, "db", None)
        if conn is None:
            conn = local.db = open_database(path)
            with lock:
                opened.append(conn)
        return _sync_one(conn, sources, target, opts, progress_for, stop, isolate=True)

    pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="teamops-sync")
    futures: list[Future[SyncResult]] = [pool.submit(work, t) for t in targets]
    try:
        for future in as_completed(futures):
            yield future.result()
    finally:
        stop.set()
        pool.shutdown(wait=True, cancel_futures=True)
        for conn in opened:
            conn.conn.close()


def _sync_one(
    db: Database,
    sources: Sources,
    target: Target,
    opts: SyncOptions,
    progress_for: ProgressFor,
    stop: threading.Event | None,
    *,
    isolate: bool,
) -> SyncResult:
    """One repository: its result, or (among several) its failure as a result, so the others go on."""
    label = target.locator if kind(target.kind).remote else Path(target.locator).name
    try:
        with progress_for(f"commits {label}") as shown:
            return sources.get(target.kind).sync(db, target, opts, _watched(shown, stop))
    except _Stopped:
        return SyncResult(repo=label, error="interrupted", exit_code=130)
    except TeamopsError as exc:
        if not isolate:
            raise
        return SyncResult(repo=label, error=str(exc), exit_code=exc.exit_code)
    except sqlite3.OperationalError as exc:
        if not isolate:
            raise
        return SyncResult(repo=label, error=f"the database: {exc}", exit_code=75)


def _watched(shown: Callable[[int, int | None], None] | None, stop: threading.Event | None) -> Any:
    """The progress callback a source reports to: it also ends a worker once the run is stopped."""
    if stop is None:
        return shown

    def report(advance: int, total: int | None) -> None:
        if stop.is_set():
            raise _Stopped
        if shown is not None:
            shown(advance, total)

    return report
