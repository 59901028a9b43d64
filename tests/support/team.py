"""A small team (web and ops, leads, one inactive person) with notifications routed, for task tests."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest


def rows(db: Path, sql: str) -> list[tuple]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


@pytest.fixture
def team(cli, isolated):
    (isolated / "teamops.toml").write_text(
        '[notify.channels.team]\nkind = "webhook"\nurl = "http://127.0.0.1:9/hook"\n'
        '[notify.routes]\ntask_created = ["team"]\ntask_blocked = ["team"]\nescalation = ["team"]\n',
        encoding="utf-8",
    )
    for args in (
        ["alice", "--team", "web"],
        ["bob", "--team", "web"],
        ["lea", "--team", "web", "--lead"],
        ["ivan", "--team", "ops", "--lead"],
        ["old"],
    ):
        assert cli("people", "add", *args).exit_code == 0
    cli("people", "edit", "old", "--inactive")
    return isolated / "teamops.db"


def add(cli, *args, env=None):
    return cli("task", "add", *args, "--no-send", env=env)
