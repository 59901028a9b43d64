"""The database: migrations on open, WAL, views and refusal of files it must not touch."""

from __future__ import annotations

import hashlib
import json
import sqlite3

import pytest

from teamops.store.database import open_database
from teamops.store.migrations import MIGRATIONS


def test_open_applies_named_migrations_once_with_wal_and_foreign_keys(tmp_path):
    path = tmp_path / "t.db"
    db = open_database(path)
    names = [r[0] for r in db.execute("SELECT name FROM _migrations ORDER BY rowid")]
    assert names == [n for n, _ in MIGRATIONS]
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    db.conn.close()
    db2 = open_database(path)
    assert db2.execute("SELECT COUNT(*) FROM _migrations").fetchone()[0] == len(MIGRATIONS)
    tables = set(db2.table_names())
    assert {"people", "identities", "repos", "commits", "sync_state", "commits_fts"} <= tables
    assert {"commit_authors", "activity_by_person"} <= set(db2.view_names())
    fks = {fk.other_table for fk in db2["commits"].foreign_keys}
    assert fks == {"repos", "people"}
    db2.conn.close()


def altered_database(path, statement):
    """A current database changed behind teamops' back, everything checkpointed into the file."""
    open_database(path).conn.close()
    conn = sqlite3.connect(path)
    conn.execute(statement)
    conn.commit()
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return path


def test_database_from_a_newer_teamops_is_refused_untouched(tmp_path, cli):
    path = altered_database(
        tmp_path / "t.db", "INSERT INTO _migrations VALUES ('m999_from_the_future', '2030-01-01T00:00:00Z')"
    )
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    res = cli("--db", str(path), "kpi")
    assert res.exit_code == 3
    assert "newer teamops" in res.stderr and "m999_from_the_future" in res.stderr
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before


def test_a_file_that_is_not_a_database_is_a_clear_error(tmp_path, cli):
    path = tmp_path / "notes.db"
    path.write_text("these are my notes, not a database\n" * 100)
    res = cli("--db", str(path), "kpi")
    assert res.exit_code == 3 and "is not a usable SQLite database" in res.stderr
    assert path.read_text().startswith("these are my notes")


def test_missing_folder_for_database(tmp_path, cli):
    res = cli("--db", str(tmp_path / "no" / "such" / "t.db"), "kpi")
    assert res.exit_code == 3 and "does not exist" in res.stderr


def test_views_are_recreated_when_dropped(tmp_path):
    path = tmp_path / "t.db"
    db = open_database(path)
    db.execute("DROP VIEW commit_authors")
    db.conn.close()
    assert "commit_authors" in open_database(path).view_names()


def test_a_report_brings_an_outdated_file_up_to_date_first(tmp_path, cli):
    path = altered_database(tmp_path / "t.db", "DROP VIEW kpi_velocity")
    # Reports read through a query-only connection, but not before the file is what they expect.
    assert cli("--db", str(path), "kpi", "velocity").exit_code == 0
    assert "kpi_velocity" in open_database(path).view_names()


def test_reports_and_listings_write_nothing_to_a_current_database(tmp_path, cli):
    path = tmp_path / "t.db"
    db = ["--db", str(path)]
    assert cli(*db, "people", "add", "ana").exit_code == 0
    assert cli(*db, "task", "add", "Write docs", "--points", "3", "-R", "ana", "-A", "ana").exit_code == 0
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    for report in ("summary", "velocity", "burndown", "efficiency", "cycle-time", "activity"):
        assert cli(*db, "kpi", report).exit_code == 0
    listings = [["people", "list"], ["people", "unmapped"], ["task", "list"], ["task", "show", "1"]]
    listings += [["sprint", "list"], ["raci", "matrix"], ["mastery", "list"], ["notify", "list"]]
    for listing in listings:
        res = cli(*db, *listing)
        assert res.exit_code == 0, (listing, res.output)
    wal = path.with_name(path.name + "-wal")
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before
    assert not wal.exists() or wal.stat().st_size == 0


def older_file(path, before: str):
    """A file an older teamops wrote: every migration before `before` applied, and recorded as such."""
    from sqlite_utils import Database

    conn = sqlite3.connect(path, isolation_level=None)
    db = Database(conn)
    db.execute("CREATE TABLE _migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
    for name, fn in MIGRATIONS:
        if name.startswith(before):
            break
        fn(db)
        db.execute("INSERT INTO _migrations VALUES (?, '2026-01-01T00:00:00Z')", [name])
    return conn, db


def test_repositories_of_an_older_file_become_kinds_with_locators(tmp_path):
    """m019: (kind, github) → (kind, locator): a clone keeps its path as locator, a GitHub repository its
    owner/name (and the clone it was also synced from); commits and their links stay."""
    path = tmp_path / "old.db"
    conn, db = older_file(path, "m019")
    db.execute(
        "INSERT INTO repos (id, key, name, kind, path, github, created_at) VALUES "
        "(1, 'git:/src/site', 'site', 'git', '/src/site', NULL, 'x'), "
        "(2, 'github:acme/api', 'acme/api', 'github', '/src/api', 'acme/api', 'x'), "
        "(3, 'github:acme/web', 'acme/web', 'github', NULL, 'acme/web', 'x')"
    )
    db.execute(
        "INSERT INTO commits (repo_id, sha, authored_at, committed_at) VALUES (2, 'a', '2026-01-01', '2026-01-01')"
    )
    conn.close()
    db = open_database(path)
    rows = db.execute("SELECT id, kind, locator, path, missing_since FROM repos ORDER BY id").fetchall()
    assert rows == [
        (1, "git", "/src/site", "/src/site", None),
        (2, "github", "acme/api", "/src/api", None),
        (3, "github", "acme/web", None, None),
    ]
    assert db.execute("SELECT repo_id FROM commits").fetchall() == [(2,)]
    assert db.execute("PRAGMA foreign_key_check").fetchall() == []
    assert "commit_authors" in db.view_names()
    # a kind no migration knows needs none: the column has no CHECK any more
    db.execute("INSERT INTO repos (key, name, kind, locator, created_at) VALUES ('x:1', 'x', 'gitlab', 'g/x', 'x')")
    db.conn.close()


OPEN_AT_ONCE = """
import os, sys, time
from pathlib import Path
from teamops.errors import TeamopsError
from teamops.store.database import open_database
folder, me, rounds = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
for round_ in range(rounds):
    (folder / f"ready{round_}-{me}").touch()
    while not (folder / f"go{round_}").exists():
        time.sleep(0.001)
    try:
        db = open_database(str(folder / f"r{round_}.db"))
        db.execute("SELECT COUNT(*) FROM commit_authors").fetchone()
        db.conn.close()
    except TeamopsError as exc:
        print(f"round {round_}: {exc}", file=sys.stderr)
        sys.exit(3)
"""


def test_eight_processes_opening_a_new_file_at_once_all_succeed(tmp_path):
    """Migrations and views are built under the write lock: whoever comes second finds them done. Eight
    processes open a new file at the same moment, twenty times (the same processes: each round starts when all
    eight stand ready)."""
    import subprocess
    import sys
    import time

    rounds = 20
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", OPEN_AT_ONCE, str(tmp_path), str(n), str(rounds)], stderr=subprocess.PIPE, text=True
        )
        for n in range(8)
    ]
    try:
        for round_ in range(rounds):
            deadline = time.monotonic() + 60
            while len(list(tmp_path.glob(f"ready{round_}-*"))) < 8 - sum(p.poll() is not None for p in procs):
                assert time.monotonic() < deadline, round_
                time.sleep(0.002)
            (tmp_path / f"go{round_}").touch()
        failures = [(p.wait(timeout=60), p.stderr.read()) for p in procs if p.wait(timeout=60) != 0]  # type: ignore[union-attr]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    assert failures == []
    for round_ in range(rounds):
        conn = sqlite3.connect(tmp_path / f"r{round_}.db")
        try:
            assert len(conn.execute("SELECT name FROM _migrations").fetchall()) == len(MIGRATIONS), round_
        finally:
            conn.close()


def test_identities_of_an_older_file_keep_every_row_and_take_any_kind(tmp_path):
    """m024: the CHECK that listed four identity kinds goes (a source brings its own); every row stays."""
    path = tmp_path / "old.db"
    conn, db = older_file(path, "m024")
    db.execute("INSERT INTO people (id, handle, created_at, updated_at) VALUES (1, 'ann', 'x', 'x')")
    rows = [(1, "email", "ann@acme.io"), (1, "github", "ann"), (1, "name", "ann archer"), (1, "clickup", "42")]
    conn.executemany("INSERT INTO identities (person_id, kind, value) VALUES (?, ?, ?)", rows)
    with pytest.raises(sqlite3.IntegrityError):  # the old file refused a kind it did not list
        conn.execute("INSERT INTO identities (person_id, kind, value) VALUES (1, 'gitlab', 'ann')")
    kept = conn.execute("SELECT id, person_id, kind, value, source FROM identities ORDER BY id").fetchall()
    conn.close()
    db = open_database(path)  # applies m024
    assert db.execute("SELECT id, person_id, kind, value, source FROM identities ORDER BY id").fetchall() == kept
    db.execute("INSERT INTO identities (person_id, kind, value) VALUES (1, 'gitlab', 'ann')")
    assert db.execute("SELECT COUNT(*) FROM identities WHERE kind = 'gitlab'").fetchone()[0] == 1
    from teamops.people.identities import IdentityResolver

    assert IdentityResolver.load(db).person_for("ann@acme.io", None, None) == 1  # a kind it does not use is no harm
    with pytest.raises(sqlite3.IntegrityError):  # one identity, one person: still
        db.execute("INSERT INTO identities (person_id, kind, value) VALUES (1, 'gitlab', 'ann')")
    db.execute("DELETE FROM people WHERE id = 1")  # and a person's identities still go with them
    assert db.execute("SELECT COUNT(*) FROM identities").fetchone()[0] == 0
    assert db.execute("SELECT COUNT(*) FROM commit_authors").fetchone()[0] == 0  # the views are back


def test_clickup_users_of_an_older_file_become_tracker_users(cli, tmp_path):
    """m025: ClickUp's users move into tracker_users under their kind; `people unmapped` still lists them."""
    path = tmp_path / "old.db"
    conn, db = older_file(path, "m025")
    conn.execute("INSERT INTO clickup_users (id, username, email, last_seen) VALUES ('81234', 'Bea', 'bea@x.io', 'y')")
    conn.close()
    db = open_database(path)
    assert db.execute("SELECT kind, id, username, email FROM tracker_users").fetchall() == [
        ("clickup", "81234", "Bea", "bea@x.io")
    ]
    db.conn.close()
    listed = cli("--db", str(path), "people", "unmapped", "-f", "json")
    assert [(r["source"], r["login"]) for r in json.loads(listed.stdout)["rows"]] == [("clickup", "clickup:81234")]


def test_a_jira_export_imported_by_an_older_file_moves_aside_from_the_live_tracker(cli, tmp_path):
    """m030: tasks a Jira CSV export made (source and key prefix 'jira') become 'jira-csv', events too; a
    commit that names the issue's key still finds the task."""
    path = tmp_path / "old.db"
    conn, db = older_file(path, "m030")
    conn.execute(
        "INSERT INTO tasks (id, key, title, status, source, created_at, updated_at) "
        "VALUES (1, 'jira:SHOP-1', 'Export', 'done', 'jira', 'x', 'x'), (2, 'T-1', 'Local', 'todo', 'local', 'x', 'x')"
    )
    conn.execute(
        "INSERT INTO task_events (task_id, at, field, new, source) VALUES (1, 'x', 'created', 'Export', 'jira')"
    )
    conn.close()
    db = open_database(path)
    assert db.execute("SELECT key, source FROM tasks ORDER BY id").fetchall() == [
        ("jira-csv:SHOP-1", "jira-csv"),
        ("T-1", "local"),
    ]
    assert db.execute("SELECT source FROM task_events WHERE task_id = 1").fetchall() == [("jira-csv",)]
    from teamops.store.task_links import task_refs

    assert task_refs(db)["shop-1"] == 1


def test_commits_an_older_file_knew_as_assisted_are_marked_for_the_activity_report(tmp_path):
    """m033: the assisted flag beside each commit, set from the assists an older file found."""
    path = tmp_path / "old.db"
    conn, db = older_file(path, "m033")
    conn.execute(
        "INSERT INTO repos (id, key, name, kind, locator, created_at) VALUES (1, 'git:r', 'r', 'git', 'r', 'x')"
    )
    for sha in ("a" * 40, "b" * 40):
        conn.execute(
            "INSERT INTO commits (repo_id, sha, author_name, author_email, authored_at, author_tz_offset, committed_at, "
            "message, is_merge) VALUES (1, ?, 'Ann', 'ann@x.io', '2026-11-02T10:00:00Z', 0, '2026-11-02T10:00:00Z', "
            "'m', 0)",
            [sha],
        )
    conn.execute(
        "INSERT INTO assists (repo_id, sha, number, assistant, how, evidence) VALUES (1, ?, 0, 'Cursor', 'trailer', 'x')",
        ["b" * 40],
    )
    conn.close()
    db = open_database(path)
    assert db.execute("SELECT sha, assisted FROM commits ORDER BY sha").fetchall() == [("a" * 40, 0), ("b" * 40, 1)]
