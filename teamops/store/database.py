"""Open the one SQLite file: pragmas, named migrations, and the idempotent shape (views, indexes)."""

from __future__ import annotations

import sqlite3
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from teamops.clock import now_iso as clock_now
from teamops.errors import DamagedStore, StoreError
from teamops.store.migrations import MIGRATIONS
from teamops.store.views import VIEWS, view_sql

if TYPE_CHECKING:
    from sqlite_utils import Database

    from teamops.store.reader import Reader

BUSY_TIMEOUT_MS = 10_000
# What SQLite says of a file whose pages are damaged (text that is not UTF-8 included).
DAMAGED = ("malformed", "corrupt", "disk I/O", "Could not decode")


def now_iso() -> str:
    """UTC now (or TEAMOPS_NOW), as stored everywhere in the database."""

    return clock_now()


def database_class() -> type[Database]:
    """sqlite-utils' Database, imported without numpy: sqlite-utils imports numpy whenever it is installed
    (to store numpy values, which teamops never has), which costs a writing command 0.1 s."""
    if "sqlite_utils.db" not in sys.modules and "numpy" not in sys.modules:
        sys.modules["numpy"] = None  # type: ignore[assignment]  # `import numpy` fails at once inside sqlite-utils
        try:
            import sqlite_utils.db  # noqa: F401
        finally:
            del sys.modules["numpy"]
    from sqlite_utils import Database

    return Database


def open_database(path: Path | str, *, create: bool = True) -> Database:
    """A ready database: WAL, busy timeout, foreign keys, every migration applied, shape ensured."""
    path = Path(path)
    if not create and not path.exists():
        raise StoreError(f"no database at {path}", "run `teamops sync-commits` or `teamops init`")
    if path.exists() and path.is_dir():
        raise StoreError(f"{path} is a folder, not a database file")
    if not path.parent.exists():
        raise StoreError(f"folder {path.parent} does not exist", "create it or change --db")
    try:
        # check_same_thread=False: a sync hands batches to one writer thread; never concurrently.
        conn = sqlite3.connect(
            str(path),
            timeout=BUSY_TIMEOUT_MS / 1000,
            isolation_level=None,
            check_same_thread=False,
        )
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        # Triggers and views never call functions with side effects, whoever wrote the file.
        conn.execute("PRAGMA trusted_schema = OFF")
        _wal(conn)
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = ON")
        db = database_class()(conn, execute_plugins=False)  # no sqlite-utils plugin runs on our connection
        migrate(db, path)
    except sqlite3.DatabaseError as exc:
        if "locked" in str(exc) or "busy" in str(exc) or "full" in str(exc):
            raise  # said as what it is (cli/app.py): busy, or a full disk while the schema was made
        if any(sign in str(exc) for sign in DAMAGED):
            raise DamagedStore(
                f"{path} is damaged ({exc})",
                "restore it with `teamops state restore` or from a backup, or start a new --db",
            ) from None
        raise StoreError(f"{path} is not a usable SQLite database: {exc}") from None
    return db


def _wal(conn: sqlite3.Connection) -> None:
    """WAL mode, set once per file. Switching takes an exclusive lock, and SQLite answers "locked" at once,
    without its busy handler, when another process opens the new file at the same moment: wait and retry,
    within the busy timeout, as for any write."""
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    delay = 0.005
    while True:
        try:
            if conn.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                conn.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() + delay > deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 0.1)


def applied_migrations(db: Database) -> list[str]:
    db.execute("CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
    return [row[0] for row in db.execute("SELECT name FROM _migrations ORDER BY rowid").fetchall()]


def migrate(db: Database, path: Path) -> list[str]:
    """Apply pending migrations, each in its own transaction; refuse a database from the future."""
    known = [name for name, _ in MIGRATIONS]
    done = applied_migrations(db)
    unknown = [name for name in done if name not in known]
    if unknown:
        raise StoreError(
            f"{path} was written by a newer teamops (migration {unknown[-1]!r} is unknown here)",
            "upgrade teamops; the database was left untouched",
        )
    applied: list[str] = []
    for name, fn in MIGRATIONS:
        if name in done:
            continue
        with transaction(db):
            # Another process may have applied it while we waited for the write lock.
            if db.execute("SELECT 1 FROM _migrations WHERE name = ?", [name]).fetchone():
                continue
            fn(db)
            db.execute("INSERT INTO _migrations (name, applied_at) VALUES (?, ?)", [name, now_iso()])
            applied.append(name)
    ensure_shape(db, force=bool(applied))
    return applied


def ensure_shape(db: Database, force: bool = False) -> None:
    """(Re)create the views that make the file pleasant in Datasette: nothing is written when they are as
    they should be; otherwise they are rebuilt under the write lock, so processes opening a new file at
    the same moment never trip over each other's views."""

    def stale() -> list[str]:
        existing = dict(db.execute("SELECT name, sql FROM sqlite_master WHERE type = 'view'").fetchall())
        return [name for name in VIEWS if force or existing.get(name) != view_sql(name)]

    if not stale():
        return
    with transaction(db):
        for name in stale():  # again under the lock: another process may have just built them
            db.execute(f"DROP VIEW IF EXISTS {name}")
            db.execute(view_sql(name))


@contextmanager
def transaction(db: Database) -> Iterator[None]:
    """One explicit write transaction: a batch and its cursor land together or not at all."""
    conn = db.conn
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def counts(db: Reader) -> tuple[int, int, int]:
    """(migrations applied, commits, merges stored), for `doctor` and `init`."""
    migrations = int(db.execute("SELECT COUNT(*) FROM _migrations").fetchone()[0])
    n, merges = db.execute(
        "SELECT COUNT(*) - COALESCE(SUM(is_merge), 0), COALESCE(SUM(is_merge), 0) FROM commits"
    ).fetchone()
    return migrations, int(n), int(merges)
