"""Read-only access for reports: a bare sqlite3 connection when the file is already up to date.

Opening the full store (sqlite-utils, migrations, view and people upkeep) costs more than most
report queries; a report only needs it when something has to be written first.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Any, Protocol

from teamops.errors import StoreError
from teamops.store.database import BUSY_TIMEOUT_MS
from teamops.store.migrations import MIGRATIONS
from teamops.store.views import VIEWS, view_sql

# The sync_state row whose cursor is the digest of the config's [[people]] last upserted.
PEOPLE_STATE = "config:people"


class Reader(Protocol):
    """What report code needs from a database: both sqlite3.Connection and sqlite-utils' Database fit."""

    def execute(self, sql: str, parameters: Any = ..., /) -> sqlite3.Cursor: ...


def open_reader(path: Path, people_digest: str | None = None) -> sqlite3.Connection | None:
    """A query-only connection, or None when the file needs migrating, its views or people refreshing."""
    if not path.is_file():
        return None
    # A file (or folder) nobody may write, as a CI artifact or a read-only mount, is opened as it
    # is: immutable, so SQLite needs no -shm or -wal beside it and never tries to write one.
    writable = os.access(path, os.W_OK) and os.access(path.parent, os.W_OK)
    if writable:
        conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
    else:
        uri = f"{path.resolve().as_uri()}?mode=ro&immutable=1"
        conn = sqlite3.connect(uri, uri=True, isolation_level=None)
    try:
        conn.execute("PRAGMA trusted_schema = OFF")
        if _current(conn, people_digest):
            conn.execute("PRAGMA query_only = ON")
            return conn
    except sqlite3.DatabaseError:
        pass  # the full open explains what is wrong with the file
    conn.close()
    if not writable:
        raise StoreError(
            f"{path} is read-only and must be upgraded or refreshed before it can be read",
            "run any teamops command once where the file can be written (or copy it somewhere writable)",
        )
    return None


def _current(conn: sqlite3.Connection, people_digest: str | None) -> bool:
    applied = [row[0] for row in conn.execute("SELECT name FROM _migrations ORDER BY rowid")]
    if applied != [name for name, _ in MIGRATIONS]:
        return False
    views = dict(conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'view'").fetchall())
    if any(views.get(name) != view_sql(name) for name in VIEWS):
        return False
    if people_digest is not None:
        row = conn.execute("SELECT cursor FROM sync_state WHERE source = ?", [PEOPLE_STATE]).fetchone()
        if row is None or row[0] != people_digest:
            return False
    return True
