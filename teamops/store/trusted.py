"""A database file from elsewhere (a restored snapshot) holds only what teamops's own migrations create.

Triggers and views run code when rows are written or read; a file we did not write could carry one
that deletes or rewrites data. Every object must be one that some migration step creates, with the
same SQL; views are compared by name and dropped (opening the file creates them from the current
definitions).
"""

from __future__ import annotations

import re
import sqlite3
from functools import cache

from teamops.errors import InvalidInput
from teamops.store.migrations import MIGRATIONS
from teamops.store.views import VIEWS

SQLITE_INTERNAL = re.compile(r"^sqlite_(sequence|stat\d)$")
NOT_NULL_REPORT = re.compile(r"^NULL value in ([A-Za-z_][A-Za-z0-9_]*)\.([A-Za-z_][A-Za-z0-9_]*)$")


def _normal(sql: str | None) -> str:
    return " ".join((sql or "").split())


def _objects(conn: sqlite3.Connection) -> set[tuple[str, str, str]]:
    return {
        (str(kind), str(name), _normal(sql))
        for kind, name, sql in conn.execute("SELECT type, name, sql FROM sqlite_master WHERE type != 'view'")
    }


@cache
def known_objects() -> frozenset[tuple[str, str, str]]:
    """Every (type, name, SQL) a database has after any prefix of the migrations: files of older versions pass."""
    from teamops.store.database import database_class

    conn = sqlite3.connect(":memory:", isolation_level=None)
    db = database_class()(conn, execute_plugins=False)
    db.execute("CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
    seen = _objects(conn)
    for _, fn in MIGRATIONS:
        fn(db)
        seen |= _objects(conn)
    conn.close()
    return frozenset(seen)


def check_schema(conn: sqlite3.Connection, what: str, *, drop_views: bool = True) -> None:
    """Refuse any table, index, trigger or view that teamops's migrations do not create; drop the views
    (unless only reading: then none is read).

    The caller opens `conn` with trusted_schema = OFF."""
    known = known_objects()
    for kind, name, sql in sorted(_objects(conn)):
        if SQLITE_INTERNAL.match(name) or (kind, name, sql) in known:
            continue
        raise InvalidInput(
            f"{what} holds a {kind} teamops does not create ({name[:60]!r}): refused",
            "restore a state that teamops saved, or start over by deleting the state branch",
        )
    if not _has_migrations(conn) or conn.execute("SELECT 1 FROM _migrations LIMIT 1").fetchone() is None:
        raise InvalidInput(f"{what} is not a teamops database (no migrations recorded): refused")
    for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'view'").fetchall():
        if name not in VIEWS:
            raise InvalidInput(
                f"{what} holds a view teamops does not create ({str(name)[:60]!r}): refused",
                "restore a state that teamops saved, or start over by deleting the state branch",
            )
        if drop_views:
            conn.execute(f'DROP VIEW "{name}"')


def _has_migrations(conn: sqlite3.Connection) -> bool:
    return (
        conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_migrations'").fetchone() is not None
    )


def check_sound(conn: sqlite3.Connection, what: str) -> None:
    """SQLite's integrity check, without its false reports: SQLite 3.40 reports NULLs in a NOT NULL
    column of a WITHOUT ROWID table that declares it before its key (deployment_commits) where there
    are none; such a report stands only when a query finds the NULL."""
    for (problem,) in conn.execute("PRAGMA integrity_check").fetchall():
        if problem == "ok":
            return
        found = NOT_NULL_REPORT.match(str(problem))
        if found and found.group(1) in _tables(conn):
            table, column = found.groups()
            if conn.execute(f'SELECT 1 FROM "{table}" WHERE "{column}" IS NULL LIMIT 1').fetchone() is None:
                continue
        raise InvalidInput(f"{what} is not a sound SQLite file ({str(problem)[:120]})")


def _tables(conn: sqlite3.Connection) -> set[str]:
    return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
