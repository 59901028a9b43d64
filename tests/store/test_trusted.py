"""Connections that read files teamops may not have written distrust their schema."""

from __future__ import annotations

from teamops.store.database import open_database
from teamops.store.reader import open_reader


def test_report_connections_run_with_trusted_schema_off(tmp_path):
    db = open_database(tmp_path / "t.db")
    db.conn.close()
    reader = open_reader(tmp_path / "t.db")
    assert reader is not None and reader.execute("PRAGMA trusted_schema").fetchone() == (0,)
    reader.close()
