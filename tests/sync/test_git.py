"""Commits from local git: what lands in the database, and that syncs are incremental and idempotent."""

from __future__ import annotations

import json
import sqlite3
import subprocess
from pathlib import Path

from tests.conftest import lines


def rows(db: Path, sql: str, *params: object) -> list[tuple]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def snapshot(db: Path) -> list[tuple]:
    return rows(
        db,
        "SELECT r.name, c.sha, c.author_name, c.author_email, c.person_id, c.authored_at, "
        "c.author_tz_offset, c.committed_at, c.message, c.additions, c.deletions, c.files_changed, "
        "c.is_merge, c.parents, c.co_authors, c.files FROM commits c JOIN repos r ON r.id = c.repo_id "
        "ORDER BY c.sha",
    )


def test_sync_in_current_repository_with_no_config(make_repo, cli, monkeypatch):
    repo = make_repo()
    repo.commit("first", {"a.txt": lines(3)})
    repo.commit("second", {"a.txt": lines(5)})
    monkeypatch.chdir(repo.path)
    res = cli("sync-commits")
    assert res.exit_code == 0, res.output
    assert "synced 2 new commits (incl. merges) from repo (main)" in res.stderr
    assert (repo.path / "teamops.db").exists()
    got = rows(
        repo.path / "teamops.db",
        "SELECT message, additions, deletions FROM commits ORDER BY authored_at, message",
    )
    assert sorted(got) == [("first", 3, 0), ("second", 2, 0)]


def test_merges_binary_renames_unicode_and_co_authors(make_repo, cli, tmp_path):
    repo = make_repo()
    repo.commit("base", {"docs/guide.md": lines(40, "guide"), "logo.png": b"\x89PNG\x00\x01\x02"})
    repo.git("checkout", "-q", "-b", "feature")
    repo.commit(
        "Rename the guide\n\nCo-authored-by: Zoë Ångström <zoe@example.org>\nCo-authored-by: Bob <BOB@acme.io>",
        author=("Jürgen Müller", "JURGEN@Example.ORG"),
        date="2026-11-02T23:30:00+02:00",
    )
    repo.git("mv", "docs/guide.md", "docs/handbook.md")
    repo.git("commit", "-q", "--amend", "--no-edit")
    repo.git("checkout", "-q", "main")
    repo.commit("binary update", {"logo.png": b"\x89PNG\x00\x09\x09\x09"})
    merge_sha = repo.merge("feature")
    db = tmp_path / "t.db"
    assert cli("--db", str(db), "sync-commits", "--repo", str(repo.path)).exit_code == 0
    by_msg = {
        r[0].splitlines()[0]: r
        for r in rows(
            db,
            "SELECT message, additions, deletions, files_changed, is_merge, co_authors, files, author_name, author_email, author_tz_offset, sha FROM commits",
        )
    }
    merge = next(r for r in by_msg.values() if r[10] == merge_sha)
    assert merge[4] == 1 and merge[1] is None and merge[2] is None  # merges: no line counts
    binary = by_msg["binary update"]
    assert (binary[1], binary[2], binary[3]) == (0, 0, 1)  # binary files count 0 lines
    assert json.loads(binary[6]) == [["logo.png", 0, 0, 1]]
    rename = by_msg["Rename the guide"]
    assert (rename[1], rename[2]) == (0, 0)  # a moved file is not a rewrite
    assert json.loads(rename[6])[0][0] == "docs/handbook.md"
    assert rename[7] == "Jürgen Müller" and rename[8] == "jurgen@example.org"
    assert rename[9] == 120
    assert json.loads(rename[5]) == [["Zoë Ångström", "zoe@example.org"], ["Bob", "bob@acme.io"]]


def test_second_sync_changes_nothing_and_new_commits_are_added(make_repo, cli, tmp_path):
    repo = make_repo()
    for i in range(5):
        repo.commit(f"c{i}", {f"f{i}.txt": lines(i + 1)})
    db = tmp_path / "t.db"
    assert cli("--db", str(db), "sync-commits", "--repo", str(repo.path)).exit_code == 0
    first = snapshot(db)
    again = cli("--db", str(db), "sync-commits", "--repo", str(repo.path))
    assert "up to date, 0 new commits" in again.stderr
    assert snapshot(db) == first
    repo.commit("c5", {"f5.txt": lines(2)})
    res = cli("--db", str(db), "sync-commits", "--repo", str(repo.path))
    assert "synced 1 new commit (incl. merges) from" in res.stderr
    assert len(snapshot(db)) == 6
    full = cli("--db", str(db), "sync-commits", "--repo", str(repo.path), "--full")
    assert "synced 0 new commits" in full.stderr
    assert len(snapshot(db)) == 6


def test_several_branches_store_shared_commits_once(make_repo, cli, tmp_path):
    repo = make_repo()
    repo.commit("root", {"a": "1\n"})
    repo.git("checkout", "-q", "-b", "dev")
    repo.commit("dev only", {"b": "2\n"})
    repo.git("checkout", "-q", "main")
    repo.commit("main only", {"c": "3\n"})
    db = tmp_path / "t.db"
    res = cli("--db", str(db), "sync-commits", "--repo", str(repo.path), "-b", "main", "-b", "dev")
    assert res.exit_code == 0, res.output
    assert sorted(r[0] for r in rows(db, "SELECT message FROM commits")) == [
        "dev only",
        "main only",
        "root",
    ]
    missing = cli("--db", str(db), "sync-commits", "--repo", str(repo.path), "-b", "nope")
    assert missing.exit_code == 5 and "branch 'nope' not found" in missing.stderr


def test_config_repos_and_branches(make_repo, cli, isolated):
    repo = make_repo("website")
    repo.commit("one", {"a": "1\n"})
    repo.git("checkout", "-q", "-b", "release")
    repo.commit("two", {"a": "1\n2\n"})
    repo.git("checkout", "-q", "main")
    (isolated / "teamops.toml").write_text(
        f'[[repos]]\npath = "{repo.path}"\nbranches = ["release"]\nname = "site"\n',
        encoding="utf-8",
    )
    res = cli("sync-commits")
    assert "synced 2 new commits (incl. merges) from site (release)" in res.stderr
    assert len(rows(isolated / "teamops.db", "SELECT * FROM commits")) == 2


def test_since_and_until_window_then_full_backfill(make_repo, cli, tmp_path):
    repo = make_repo()
    for day in range(1, 6):
        repo.commit(f"day {day}", {"f": f"{day}\n"}, date=f"2026-03-0{day}T12:00:00+00:00")
    db = tmp_path / "t.db"
    res = cli(
        "--db",
        str(db),
        "sync-commits",
        "--repo",
        str(repo.path),
        "--since",
        "2026-03-02",
        "--until",
        "2026-03-03",
    )
    assert res.exit_code == 0, res.output
    assert sorted(r[0] for r in rows(db, "SELECT message FROM commits")) == ["day 2", "day 3"]
    cli("--db", str(db), "sync-commits", "--repo", str(repo.path))
    assert len(rows(db, "SELECT * FROM commits")) == 5


def test_empty_repository_is_fine(make_repo, cli, tmp_path):
    repo = make_repo()
    res = cli("--db", str(tmp_path / "t.db"), "sync-commits", "--repo", str(repo.path))
    assert res.exit_code == 0
    assert "no commits yet" in res.stderr


def test_not_a_repository_is_exit_5_with_one_line(cli, tmp_path):
    plain = tmp_path / "plain"
    plain.mkdir()
    res = cli("--db", str(tmp_path / "t.db"), "sync-commits", "--repo", str(plain))
    assert res.exit_code == 5
    assert res.stderr.count("\n") == 1 and "is not a git repository" in res.stderr
    assert "Traceback" not in res.output
    gone = cli("--db", str(tmp_path / "t.db"), "sync-commits", "--repo", str(tmp_path / "missing"))
    assert gone.exit_code == 5 and "does not exist" in gone.stderr


def test_bad_dates_are_usage_errors(make_repo, cli, tmp_path):
    repo = make_repo()
    res = cli(
        "--db",
        str(tmp_path / "t.db"),
        "sync-commits",
        "--repo",
        str(repo.path),
        "--since",
        "last tuesday-ish",
    )
    assert res.exit_code == 2 and "cannot read 'last tuesday-ish' as a date" in res.stderr


def test_json_summary(make_repo, cli, tmp_path):
    repo = make_repo()
    repo.commit("one", {"a": "1\n"})
    res = cli("--db", str(tmp_path / "t.db"), "--format", "json", "sync-commits", "--repo", str(repo.path))
    data = json.loads(res.stdout)
    assert data["report"] == "sync-commits"
    assert data["repos"][0]["new"] == 1 and data["repos"][0]["branches"] == ["main"]


def test_full_text_search_on_messages(make_repo, cli, tmp_path):
    repo = make_repo()
    repo.commit("Fix the flaky login redirect", {"a": "1\n"})
    repo.commit("Add billing export", {"b": "1\n"})
    db = tmp_path / "t.db"
    cli("--db", str(db), "sync-commits", "--repo", str(repo.path))
    hits = rows(
        db,
        "SELECT c.message FROM commits_fts f JOIN commits c ON c.id = f.rowid WHERE commits_fts MATCH 'login'",
    )
    assert hits == [("Fix the flaky login redirect",)]


def test_unchanged_repository_costs_one_git_call(make_repo, tmp_path):
    import os
    import shutil
    import subprocess
    import sys

    repo = make_repo()
    repo.commit("one", {"a": "1\n"})
    shim = tmp_path / "bin"
    shim.mkdir()
    log = tmp_path / "git-calls.log"
    real = shutil.which("git")
    (shim / "git").write_text(f'#!/bin/sh\necho "$@" >> "{log}"\nexec "{real}" "$@"\n')
    (shim / "git").chmod(0o755)
    env = {**os.environ, "PATH": f"{shim}{os.pathsep}{os.environ['PATH']}"}
    args = [
        sys.executable,
        "-m",
        "teamops",
        "--db",
        str(tmp_path / "t.db"),
        "sync-commits",
        "--repo",
        str(repo.path),
    ]
    subprocess.run(args, env=env, check=True, capture_output=True)
    log.write_text("")
    again = subprocess.run(args, env=env, check=True, capture_output=True, text=True)
    assert "up to date" in again.stderr
    calls = log.read_text().splitlines()
    assert len(calls) == 1 and " rev-parse " in f" {calls[0]} "


def test_a_shallow_clone_is_refused_with_the_fix(cli, make_repo, tmp_path):
    origin = make_repo("origin")
    for i in range(3):
        origin.commit(f"change {i}", {"a.txt": f"{i}\n"})
    shallow = tmp_path / "shallow"
    subprocess.run(["git", "clone", "-q", "--depth=1", f"file://{origin.path}", str(shallow)], check=True)
    res = cli("sync-commits", "--repo", str(shallow))
    assert res.exit_code == 5 and "is a shallow clone (1 commit): a sync would store only those" in res.stderr
    assert "git fetch --unshallow" in res.stderr and "fetch-depth: 0" in res.stderr
    db = Path.cwd() / "teamops.db"
    if db.exists():  # nothing stored
        with sqlite3.connect(db) as conn:
            assert conn.execute("SELECT COUNT(*) FROM commits").fetchone() == (0,)
    subprocess.run(["git", "-C", str(shallow), "fetch", "-q", "--unshallow"], check=True)
    assert "synced 3 new commits" in cli("sync-commits", "--repo", str(shallow)).stderr
