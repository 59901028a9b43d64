"""Every connection teamops opens distrusts the schema: triggers and views cannot call functions with side
effects, and the search tables are kept by the writers instead of by triggers."""

from __future__ import annotations

import sqlite3

from teamops.store.database import open_database
from teamops.store.reader import open_reader


def test_every_connection_runs_with_trusted_schema_off(tmp_path):
    db = open_database(tmp_path / "t.db")
    assert db.execute("PRAGMA trusted_schema").fetchone() == (0,)
    triggers = db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall()
    assert triggers == []
    db.conn.close()
    reader = open_reader(tmp_path / "t.db")
    assert reader is not None and reader.execute("PRAGMA trusted_schema").fetchone() == (0,)
    reader.close()


def test_task_search_follows_new_and_renamed_tasks(cli, isolated):
    cli("people", "add", "ann")
    cli("task", "add", "Export invoices", "-R", "ann", "-A", "ann", "--no-send")
    cli("task", "add", "Fix login", "-R", "ann", "-A", "ann", "--no-send")
    cli("task", "update", "1", "--title", "Import receipts")
    conn = sqlite3.connect(isolated / "teamops.db")

    def found(word: str) -> list[int]:
        return [
            r[0] for r in conn.execute("SELECT rowid FROM tasks_fts WHERE tasks_fts MATCH ? ORDER BY rowid", [word])
        ]

    assert found("invoices") == [] and found("receipts") == [1] and found("login") == [2]
    # FTS5 compares the index with the tasks table itself; a drift raises "database disk image is malformed".
    conn.execute("INSERT INTO tasks_fts (tasks_fts, rank) VALUES ('integrity-check', 1)")
    conn.close()


def test_a_sound_file_with_deployment_links_passes_the_integrity_check(tmp_path):
    """SQLite 3.40 reports NULLs in deployment_commits (a WITHOUT ROWID table) where there are none; a
    report stands only when the NULL is really there."""
    from teamops.errors import InvalidInput
    from teamops.store.trusted import check_sound

    db = open_database(tmp_path / "t.db")
    db.execute("INSERT INTO repos (key, name, kind, locator, created_at) VALUES ('git:/r', 'r', 'git', '/r', 'x')")
    db.execute(
        "INSERT INTO deployments (repo_id, name, sha, environment, deployed_at, status, source, created_at) "
        "VALUES (1, 'v1', 'a', 'production', '2026-01-01', 'success', 'tag', 'x')"
    )
    db.execute("INSERT INTO deployment_commits (deployment_id, repo_id, sha) VALUES (1, 1, 'a')")
    check_sound(db.conn, "t.db")
    db.conn.close()
    damaged = tmp_path / "damaged.db"
    conn = sqlite3.connect(tmp_path / "t.db")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    root = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = 'deployment_commits'").fetchone()[0]
    size = conn.execute("PRAGMA page_size").fetchone()[0]
    conn.close()
    data = bytearray((tmp_path / "t.db").read_bytes())
    start = (root - 1) * size
    data[start : start + 12] = b"\x0d\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff"  # the links' page header, scribbled
    damaged.write_bytes(bytes(data))
    conn = sqlite3.connect(damaged)
    try:
        check_sound(conn, "damaged.db")
    except (InvalidInput, sqlite3.DatabaseError):
        pass
    else:
        raise AssertionError("a scribbled page passed the integrity check")
    finally:
        conn.close()
