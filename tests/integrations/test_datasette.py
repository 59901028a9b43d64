"""The browsing promise, checked with the real Datasette over a synced database: tables, views, search, labels."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

import pytest
import sqlite_utils
from datasette.app import Datasette

from teamops.store.database import open_database
from teamops.store.views import VIEWS
from tests.conftest import lines


def browse(db: Path, *paths: str) -> list[Any]:
    """GET each path from Datasette's own client (no server, no network) and return the JSON."""

    async def run() -> list[Any]:
        ds = Datasette([str(db)])
        out = []
        for path in paths:
            response = await ds.client.get(path)
            assert response.status_code == 200, (path, response.text[:300])
            out.append(response.json())
        return out

    return asyncio.run(run())


@pytest.fixture
def synced(cli, make_repo, isolated):
    repo = make_repo()
    repo.commit("Fix the login redirect\n\nLong body", {"auth.py": lines(8)}, author=("Al", "al@acme.io"))
    repo.commit("Add invoice export", {"export.py": lines(30)}, author=("Bea Lu", "bea@acme.io"))
    assert cli("people", "add", "al", "--email", "al@acme.io").exit_code == 0  # no name
    assert cli("people", "add", "bea", "--name", "Bea Lu", "--email", "bea@acme.io").exit_code == 0
    assert cli("sync-commits", "--repo", str(repo.path)).exit_code == 0
    assert cli("analyze").exit_code == 0
    assert cli("task", "add", "Search the invoice archive", "-R", "bea", "-A", "al", "--no-send").exit_code == 0
    assert cli("task", "add", "Rotate keys", "-R", "al", "-A", "al", "--no-send").exit_code == 0
    return isolated / "teamops.db"


def test_datasette_sees_tables_views_search_and_labels(synced):
    index, commits, tasks, labelled, estimates = browse(
        synced,
        "/teamops.json",
        "/teamops/commits.json?_search=login&_shape=objects",
        "/teamops/tasks.json?_search=invoice&_shape=objects",
        "/teamops/commits.json?_labels=on&_shape=objects&_sort=id",
        "/teamops/estimates.json?_labels=on&_shape=objects",
    )
    tables = {t["name"]: t for t in index["tables"]}
    assert {"commits", "tasks", "people", "estimates", "outbox"} <= set(tables)
    assert set(VIEWS) <= {v["name"] for v in index["views"]}
    assert tables["commits"]["fts_table"] == "commits_fts" and tables["tasks"]["fts_table"] == "tasks_fts"
    assert [r["message"].split("\n")[0] for r in commits["rows"]] == ["Fix the login redirect"]
    assert [r["title"] for r in tasks["rows"]] == ["Search the invoice archive"]
    people = [r["person_id"]["label"] for r in labelled["rows"]]
    assert sorted(people) == ["Bea Lu", "al"]  # a person without a name shows their handle
    assert {r["commit_id"]["label"] for r in estimates["rows"]} == {"Fix the login redirect", "Add invoice export"}


def test_every_foreign_key_has_a_label_column(synced):
    async def labels() -> dict[str, str | None]:
        ds = Datasette([str(synced)])
        db = ds.get_database("teamops")
        targets = set()
        for table in await db.table_names():
            targets |= {fk["other_table"] for fk in await db.foreign_keys_for_table(table)}
        return {t: await db.label_column_for_table(t) for t in sorted(targets)}

    found = asyncio.run(labels())
    assert found and all(found.values()), found


def test_an_older_file_gets_search_datasette_detects(synced):
    # The shape files had before: content='commits' (single quotes), which Datasette does not detect.
    conn = sqlite3.connect(synced)
    conn.executescript(
        """
        DROP TABLE commits_fts;
        CREATE VIRTUAL TABLE commits_fts USING fts5(message, content='commits', content_rowid='id');
        INSERT INTO commits_fts (commits_fts) VALUES ('rebuild');
        DROP TABLE tasks_fts;
        CREATE VIRTUAL TABLE tasks_fts USING fts5(title, content='tasks', content_rowid='id');
        INSERT INTO tasks_fts (tasks_fts) VALUES ('rebuild');
        ALTER TABLE people DROP COLUMN name;
        ALTER TABLE people RENAME COLUMN given_name TO name;
        ALTER TABLE commits DROP COLUMN title;
        ALTER TABLE job_runs DROP COLUMN title;
        DELETE FROM _migrations WHERE name = 'm016_datasette_search_and_labels';
        """
    )
    conn.close()
    assert sqlite_utils.Database(synced)["commits"].detect_fts() is None
    open_database(synced).close()
    assert sqlite_utils.Database(synced)["commits"].detect_fts() == "commits_fts"
    (commits,) = browse(synced, "/teamops/commits.json?_search=invoice&_shape=objects")
    assert [r["title"] for r in commits["rows"]] == ["Add invoice export"]
