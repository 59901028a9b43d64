"""A sync killed at any moment and run again ends with exactly the rows of an uninterrupted run."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest


def count(db: Path) -> int:
    try:
        conn = sqlite3.connect(db, timeout=0.1)
        try:
            return conn.execute("SELECT COUNT(*) FROM commits").fetchone()[0]
        finally:
            conn.close()
    except sqlite3.Error:
        return 0


def table(db: Path) -> list[tuple]:
    conn = sqlite3.connect(db)
    try:
        data = conn.execute(
            "SELECT sha, author_name, author_email, authored_at, author_tz_offset, committed_at, "
            "message, additions, deletions, files_changed, is_merge, parents, co_authors, files "
            "FROM commits ORDER BY sha"
        ).fetchall()
        fts = conn.execute("SELECT COUNT(*) FROM commits_fts").fetchone()[0]
        assert fts == len(data), "the full-text index must match the rows"
        return data
    finally:
        conn.close()


def sync(db: Path, repo: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "teamops",
            "--db",
            str(db),
            "--quiet",
            "sync-commits",
            "--repo",
            str(repo),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


@pytest.mark.slow
def test_sigkill_mid_sync_then_rerun_matches_clean_run(big_repo, tmp_path):
    repo = big_repo
    clean = tmp_path / "clean.db"
    assert sync(clean, repo).wait(120) == 0
    expected = table(clean)
    assert len(expected) == 20_000

    killed = tmp_path / "killed.db"
    proc = sync(killed, repo)
    deadline = time.monotonic() + 60
    while count(killed) < 2000 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.005)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    partial = count(killed)
    assert 0 < partial < 20_000, f"the kill should land mid-sync (had {partial})"

    assert sync(killed, repo).wait(120) == 0
    assert table(killed) == expected
    # and once more: nothing changes
    assert sync(killed, repo).wait(120) == 0
    assert table(killed) == expected
