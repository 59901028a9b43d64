"""Every connection teamops opens distrusts the schema: triggers and views cannot call functions with side effects."""

from __future__ import annotations

from teamops.store.database import open_database
from teamops.store.reader import open_reader


def test_every_connection_runs_with_trusted_schema_off(tmp_path):
    db = open_database(tmp_path / "t.db")
    assert db.execute("PRAGMA trusted_schema").fetchone() == (0,)
    db.conn.close()
    reader = open_reader(tmp_path / "t.db")
    assert reader is not None and reader.execute("PRAGMA trusted_schema").fetchone() == (0,)
    reader.close()
