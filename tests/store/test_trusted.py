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
