"""Merge shard databases (one per matrix job of a sharded backfill) into one file, exactly.

Rows are matched by their natural keys, never by id: a repository by its key, a commit by repository and sha,
a deployment by repository, source and name, an incident by its source and its id there (one recorded by hand
by its repository, title and opening), a person by any identity (else the handle). Merging a file twice leaves
the same rows as merging it once. Each file is checked first (a teamops database of this very schema, intact,
holding nothing teamops does not create) and merged in one transaction: all of it or none.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from teamops.errors import InvalidInput
from teamops.store.database import transaction
from teamops.store.migrations import MIGRATIONS
from teamops.store.trusted import check_schema, check_sound

if TYPE_CHECKING:
    from sqlite_utils import Database

# Pull-request tables keyed by repository and number (and what else makes a row unique).
PULL_TABLES = ("pull_requests", "pr_reviews", "pr_review_requests", "pr_commits")
# Tables a sync writes, which a merge copies; any other table with rows in a shard is left (and said).
MERGED = (
    "repos",
    "commits",
    "commits_fts",
    "deployments",
    "deployment_commits",
    "incidents",
    "assistant_days",
    "assistant_users",
    "sync_state",
    "estimates",
    *PULL_TABLES,
)
KEPT_BY_PEOPLE = ("people", "identities")
SYNC_KEY = re.compile(r"^([a-z_-]+):(\d+)(:.*)?$")  # sync_state sources that name a repository by id
BY_REPO = ("tags", "delivery", "pulls", "pulls-inferred")  # besides each source kind's own cursors
ASSISTS = "assists"  # AI assists are found again in the merged file, not copied (and their cursor neither)


@dataclass
class Merged:
    """What merging one file added (rows already present are not counted)."""

    path: str
    repos: int = 0
    commits: int = 0
    deployments: int = 0
    incidents: int = 0
    people: int = 0
    estimates: int = 0
    left: list[str] = field(default_factory=list)  # tables with rows a merge does not copy


def check_shard(path: Path) -> None:
    """Refuse a file that is not an intact teamops database of exactly this schema version."""
    if not path.is_file():
        raise InvalidInput(f"no database file at {path}")
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None)
    except sqlite3.Error as exc:
        raise InvalidInput(f"{path} cannot be opened: {exc}") from None
    try:
        conn.execute("PRAGMA trusted_schema = OFF")
        check_sound(conn, str(path))
        check_schema(conn, str(path), drop_views=False)
        done = [r[0] for r in conn.execute("SELECT name FROM _migrations ORDER BY rowid")]
    except sqlite3.DatabaseError as exc:
        raise InvalidInput(f"{path} is not a usable SQLite database: {exc}") from None
    finally:
        conn.close()
    ours = [name for name, _ in MIGRATIONS]
    if done != ours:
        newer = [n for n in done if n not in ours]
        why = f"written by a newer teamops ({newer[-1]})" if newer else f"at schema {done[-1] if done else 'none'}"
        raise InvalidInput(
            f"{path} is {why}, not this teamops's schema ({ours[-1]}): refused",
            "open it once with this teamops version (any command brings it up to date), then merge",
        )


def merge_file(db: Database, path: Path) -> Merged:
    """Copy one shard's synced rows into `db` in one transaction."""
    check_shard(path)
    result = Merged(str(path))
    conn = db.conn
    conn.execute("ATTACH DATABASE ? AS shard", [str(path)])
    try:
        with transaction(db):
            _merge(db, result)
    finally:
        conn.execute("DETACH DATABASE shard")
    return result


def _columns(db: Database, table: str, leave: tuple[str, ...] = ("id",)) -> list[str]:
    """A table's stored columns (generated ones and `leave` aside)."""
    rows = db.execute(f"PRAGMA table_xinfo({table})").fetchall()
    return [r[1] for r in rows if r[6] == 0 and r[1] not in leave]


def _added(db: Database, table: str, sql: str) -> int:
    """Rows one statement added to a table of the main file."""
    before = db.execute(f"SELECT COUNT(*) FROM main.{table}").fetchone()[0]
    db.execute(sql)
    return int(db.execute(f"SELECT COUNT(*) FROM main.{table}").fetchone()[0] - before)


def _merge(db: Database, result: Merged) -> None:
    ex = db.execute
    cols = _columns(db, "repos")
    result.repos = _added(
        db,
        "repos",
        f"INSERT INTO main.repos ({', '.join(cols)}) SELECT {', '.join(cols)} FROM shard.repos WHERE true "
        "ON CONFLICT (key) DO UPDATE SET default_branch = COALESCE(repos.default_branch, excluded.default_branch), "
        "path = COALESCE(repos.path, excluded.path)",
    )
    ex("DROP TABLE IF EXISTS temp.repo_map")
    ex(
        "CREATE TEMP TABLE repo_map AS SELECT s.id AS src, m.id AS dst FROM shard.repos s "
        "JOIN main.repos m ON m.key = s.key"
    )
    _merge_people(db, result)

    ccols = _columns(db, "commits", ("id", "repo_id", "person_id"))
    top = ex("SELECT COALESCE(MAX(id), 0) FROM main.commits").fetchone()[0]
    ex(
        f"INSERT INTO main.commits (repo_id, person_id, {', '.join(ccols)}) "
        f"SELECT rm.dst, pm.dst, {', '.join('c.' + c for c in ccols)} FROM shard.commits c "
        "JOIN repo_map rm ON rm.src = c.repo_id LEFT JOIN person_map pm ON pm.src = c.person_id "
        "ORDER BY rm.dst, c.authored_at "
        "ON CONFLICT (repo_id, sha) DO UPDATE SET parents = excluded.parents, is_merge = excluded.is_merge, "
        "additions = excluded.additions, deletions = excluded.deletions, files_changed = excluded.files_changed, "
        "files = excluded.files, stats_missing = 0 "
        "WHERE commits.stats_missing = 1 AND excluded.stats_missing = 0"
    )
    ex("INSERT INTO commits_fts (rowid, message) SELECT id, message FROM main.commits WHERE id > ?", [top])
    result.commits = ex("SELECT COUNT(*) FROM main.commits WHERE id > ?", [top]).fetchone()[0]

    dcols = _columns(db, "deployments", ("id", "repo_id"))
    result.deployments = _added(
        db,
        "deployments",
        f"INSERT INTO main.deployments (repo_id, {', '.join(dcols)}) "
        f"SELECT rm.dst, {', '.join('d.' + c for c in dcols)} FROM shard.deployments d "
        "JOIN repo_map rm ON rm.src = d.repo_id WHERE true ON CONFLICT (repo_id, source, name) DO NOTHING",
    )
    ex(
        "INSERT OR IGNORE INTO main.deployment_commits (deployment_id, repo_id, sha) "
        "SELECT md.id, rm.dst, dc.sha FROM shard.deployment_commits dc "
        "JOIN shard.deployments sd ON sd.id = dc.deployment_id JOIN repo_map rm ON rm.src = dc.repo_id "
        "JOIN main.deployments md ON md.repo_id = rm.dst AND md.source = sd.source AND md.name = sd.name "
        "ORDER BY rm.dst, dc.sha"
    )

    icols = _columns(db, "incidents", ("id", "repo_id"))
    result.incidents = _added(
        db,
        "incidents",
        f"INSERT INTO main.incidents (repo_id, {', '.join(icols)}) "
        f"SELECT rm.dst, {', '.join('i.' + c for c in icols)} FROM shard.incidents i "
        "LEFT JOIN repo_map rm ON rm.src = i.repo_id "
        "WHERE i.external_id IS NOT NULL OR NOT EXISTS (SELECT 1 FROM main.incidents m WHERE m.external_id IS NULL "
        "AND m.source = i.source AND m.title = i.title AND m.opened_at = i.opened_at AND m.repo_id IS rm.dst) "
        "ORDER BY i.opened_at, i.id ON CONFLICT (source, external_id) DO NOTHING",
    )

    # An assistant's reports: the latest read of a day wins, and with it that day's accounts.
    ex(
        "DELETE FROM main.assistant_users WHERE EXISTS (SELECT 1 FROM shard.assistant_users s WHERE "
        "s.assistant = assistant_users.assistant AND s.scope = assistant_users.scope AND s.day = assistant_users.day "
        "AND s.synced_at > assistant_users.synced_at)"
    )
    for table, keys in (("assistant_days", 3), ("assistant_users", 4)):
        cols = _columns(db, table, ())
        updates = ", ".join(f"{c} = excluded.{c}" for c in cols[keys:])
        ex(
            f"INSERT INTO main.{table} ({', '.join(cols)}) SELECT {', '.join(cols)} FROM shard.{table} WHERE true "
            f"ON CONFLICT ({', '.join(cols[:keys])}) DO UPDATE SET {updates} "
            f"WHERE excluded.synced_at > {table}.synced_at"
        )

    ecols = _columns(db, "estimates", ("id", "commit_id", "repo_id"))
    result.estimates = _added(
        db,
        "estimates",
        f"INSERT OR IGNORE INTO main.estimates (commit_id, repo_id, {', '.join(ecols)}) "
        f"SELECT mc.id, rm.dst, {', '.join('e.' + c for c in ecols)} FROM shard.estimates e "
        "JOIN repo_map rm ON rm.src = e.repo_id JOIN main.commits mc ON mc.repo_id = rm.dst AND mc.sha = e.sha",
    )

    for table in PULL_TABLES:
        cols = _columns(db, table, ("id", "repo_id", "person_id"))
        person = ", person_id" if table == "pull_requests" else ""
        mapped = ", (SELECT dst FROM person_map WHERE src = t.person_id)" if person else ""
        ex(
            f"INSERT OR IGNORE INTO main.{table} (repo_id{person}, {', '.join(cols)}) "
            f"SELECT rm.dst{mapped}, {', '.join('t.' + c for c in cols)} FROM shard.{table} t "
            "JOIN repo_map rm ON rm.src = t.repo_id"
        )
    _merge_sync_state(db)
    for (table,) in ex(
        "SELECT name FROM shard.sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
        "AND name NOT LIKE '%_fts%' AND name != '_migrations' ORDER BY name"
    ).fetchall():
        if table in MERGED or table in KEPT_BY_PEOPLE or table == ASSISTS:
            continue
        if ex(f'SELECT 1 FROM shard."{table}" LIMIT 1').fetchone():
            result.left.append(table)


def _merge_people(db: Database, result: Merged) -> None:
    """Each shard person is the main file's person with one of their identities (else their handle), or new."""
    ex = db.execute
    ex("DROP TABLE IF EXISTS temp.person_map")
    ex("CREATE TEMP TABLE person_map (src INTEGER PRIMARY KEY, dst INTEGER NOT NULL)")
    pcols = _columns(db, "people")
    for src, handle in ex("SELECT id, handle FROM shard.people ORDER BY id").fetchall():
        row = (
            ex(
                "SELECT m.person_id FROM shard.identities s "
                "JOIN main.identities m ON m.kind = s.kind AND m.value = s.value "
                "WHERE s.person_id = ? ORDER BY m.person_id LIMIT 1",
                [src],
            ).fetchone()
            or ex("SELECT id FROM main.people WHERE handle = ?", [handle]).fetchone()
        )
        if row is None:
            cur = ex(
                f"INSERT INTO main.people ({', '.join(pcols)}) "
                f"SELECT {', '.join(pcols)} FROM shard.people WHERE id = ?",
                [src],
            )
            row = (cur.lastrowid,)
            result.people += 1
        ex("INSERT INTO person_map (src, dst) VALUES (?, ?)", [src, row[0]])
        ex(
            "INSERT OR IGNORE INTO main.identities (person_id, kind, value, source) "
            "SELECT ?, kind, value, source FROM shard.identities WHERE person_id = ?",
            [row[0], src],
        )


def _merge_sync_state(db: Database) -> None:
    """Cursors of the shard's repositories under the main file's ids; ones the main file has stay as they are."""
    from teamops.sources import kinds

    ids = dict(db.execute("SELECT src, dst FROM repo_map").fetchall())
    prefixes = {k.kind for k in kinds()} | set(BY_REPO)
    cols = _columns(db, "sync_state", ())
    rows = db.execute(f"SELECT {', '.join(cols)} FROM shard.sync_state").fetchall()
    for row in rows:
        source = str(row[0])
        if source == ASSISTS:
            continue  # a cursor over the shard's commit ids: the merged file finds its own (cli/shard.py)
        m = SYNC_KEY.match(source)
        m = m if m and m.group(1) in prefixes else None
        if m and int(m.group(2)) in ids:
            source = f"{m.group(1)}:{ids[int(m.group(2))]}{m.group(3) or ''}"
        elif m:
            continue  # a cursor of a repository the shard does not hold
        db.execute(
            f"INSERT OR IGNORE INTO main.sync_state ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
            [source, *row[1:]],
        )
