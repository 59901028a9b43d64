"""Hostile input: arguments that try to reach git as options, out-of-range numbers, broken files."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest


@pytest.fixture
def synced(cli, make_repo, isolated, monkeypatch):
    repo = make_repo()
    repo.commit("one", {"a.py": "1\n"}, author=("Ann", "ann@acme.io"))
    repo.git("tag", "v1.0")
    repo.commit("two", {"a.py": "1\n2\n"}, author=("Ann", "ann@acme.io"), date="2026-11-03T10:00:00+00:00")
    monkeypatch.chdir(repo.path)
    assert cli("sync-commits").exit_code == 0
    return repo


@pytest.mark.parametrize(
    "args",
    [
        ["gen-doc", "release", "--since=--output=TARGET", "--dry-run"],
        ["gen-doc", "release", "--since=--output=TARGET"],
        ["gen-doc", "release", "--since", "v1.0", "--until=--output=TARGET", "--dry-run"],
        ["gen-doc", "weekly", "--since=--output=TARGET"],
        ["gen-doc", "weekly", "--until=--output=TARGET", "--dry-run"],
        ["sync-commits", "--branch=--output=TARGET"],
        ["sync-commits", "--branch", "--output=TARGET"],
        ["sync-commits", "--full", "-b", "--upload-pack=touch TARGET"],
    ],
)
def test_no_argument_reaches_git_as_an_option(cli, synced, tmp_path, args):
    target = tmp_path / "overwritten.txt"
    res = cli(*[a.replace("TARGET", str(target)) for a in args])
    assert res.exit_code in (2, 5), res.output
    assert not target.exists()
    assert "Traceback" not in res.output and len(res.stderr.strip().splitlines()) == 1


def test_tags_still_bound_release_notes(cli, synced):
    res = cli("gen-doc", "release", "--since", "v1.0", "--dry-run")
    assert res.exit_code == 0 and "- 1 commit, +1 / -0 lines" in res.stdout  # "two" only: after the tag


def test_git_missing_from_path_is_exit_5_with_the_fix(synced, isolated):
    env = {**os.environ, "PATH": str(isolated / "no-bin")}
    res = subprocess.run(
        [sys.executable, "-m", "teamops", "sync-commits"], cwd=synced.path, env=env, capture_output=True, text=True
    )
    assert res.returncode == 5, res.stderr
    assert res.stderr.strip() == (
        "error: git is not installed or not on PATH (install git (e.g. apt-get install git) and run again)"
    )
