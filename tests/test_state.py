"""CI state with real git and files: runs in sequence with a cache hit, a cache miss, a failed and a cancelled run."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.fakes.receivers import FakeReceivers
from tests.support.synth import build_repo

BRANCH = "teamops-state"


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(cwd), *args], capture_output=True, text=True, check=True).stdout.strip()


class Runner:
    """One CI runner after another: a fresh checkout of the ops repository, the cache folder kept or not."""

    def __init__(self, root: Path, receivers: FakeReceivers) -> None:
        self.root = root
        self.origin = root / "origin.git"
        subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(self.origin)], check=True)
        seed = root / "seed"
        subprocess.run(["git", "clone", "-q", str(self.origin), str(seed)], check=True, capture_output=True)
        (seed / "teamops.toml").write_text(
            '[notify.channels.team]\nkind = "slack"\nurl_env = "SLACK_URL"\n'
            '[notify.routes]\neod_reminder = ["team"]\n'
            '[jobs.evening]\nsteps = ["remind eod --person ann --force", "sync-commits --repo /no/such/clone"]\n',
            encoding="utf-8",
        )
        git(seed, "add", "teamops.toml")
        git(seed, "-c", "user.name=Ops", "-c", "user.email=ops@acme.io", "commit", "-q", "-m", "config")
        git(seed, "push", "-q", "origin", "HEAD:main")
        self.cache = root / "cache"
        self.runs = 0
        self.env = {
            **os.environ,
            "SLACK_URL": receivers.url("slack"),
            "TEAMOPS_NOW": "2026-11-25T16:30:00Z",
            "HOME": str(root),
            "GIT_CONFIG_NOSYSTEM": "1",
        }

    def checkout(self) -> Path:
        self.runs += 1
        work = self.root / f"run{self.runs}"
        subprocess.run(
            ["git", "clone", "-q", "--depth=1", str(self.origin), str(work)], check=True, capture_output=True
        )
        return work

    def teamops(self, work: Path, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "teamops", *args],
            cwd=work,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    def restore(self, work: Path) -> str:
        res = self.teamops(work, "state", "restore", "--cache-dir", str(self.cache))
        assert res.returncode == 0, res.stderr
        return res.stderr

    def save(self, work: Path) -> subprocess.CompletedProcess[str]:
        return self.teamops(work, "state", "save", "--cache-dir", str(self.cache))

    def generation_on_branch(self) -> int:
        meta = subprocess.run(
            ["git", "--git-dir", str(self.origin), "show", f"{BRANCH}:state.json"], capture_output=True, text=True
        )
        return json.loads(meta.stdout)["generation"] if meta.returncode == 0 else 0


@pytest.fixture
def ci(tmp_path):
    with FakeReceivers() as receivers:
        yield Runner(tmp_path, receivers), receivers


def test_runs_in_sequence_never_resend_and_never_go_back(ci):
    runner, receivers = ci
    # 1. The first run: nothing saved anywhere yet.
    work = runner.checkout()
    assert "this run starts a new database" in runner.restore(work)
    assert runner.teamops(work, "people", "add", "ann", "--name", "Ann").returncode == 0
    sent = runner.teamops(work, "remind", "eod", "--person", "ann")
    assert sent.returncode == 0 and len(receivers.of("slack")) == 1, sent.stderr
    assert runner.save(work).returncode == 0 and runner.generation_on_branch() == 1
    # 2. A cache hit: the folder actions/cache restored holds the newest state.
    work = runner.checkout()
    assert "restored generation 1 from the cache folder" in runner.restore(work)
    again = runner.teamops(work, "remind", "eod", "--person", "ann")
    assert "already sent for this day" in again.stderr and len(receivers.of("slack")) == 1
    assert runner.save(work).returncode == 0
    # 3. A cache miss (evicted after 7 days unused): the branch has it.
    shutil.rmtree(runner.cache)
    work = runner.checkout()
    assert "restored generation 2 from the 'teamops-state' branch" in runner.restore(work)
    assert "already sent" in runner.teamops(work, "remind", "eod", "--person", "ann").stderr
    # 4. A run that fails midway: what it sent before failing is saved too.
    failed = runner.teamops(work, "job", "run", "evening")
    assert failed.returncode == 1 and len(receivers.of("slack")) == 2
    assert runner.save(work).returncode == 0 and runner.generation_on_branch() == 3
    work = runner.checkout()
    runner.restore(work)
    resend = runner.teamops(work, "notify", "send")
    assert "0 sent" in resend.stderr and len(receivers.of("slack")) == 2
    # 5. A stale cache never wins over a newer branch.
    stale = runner.root / "stale-cache"
    shutil.copytree(runner.cache, stale)
    assert runner.save(work).returncode == 0  # generation 4
    shutil.rmtree(runner.cache)
    shutil.copytree(stale, runner.cache)  # generation 3 in the cache, 4 on the branch
    work = runner.checkout()
    assert "restored generation 4 from the 'teamops-state' branch" in runner.restore(work)


def test_an_older_run_never_replaces_a_newer_state(ci):
    runner, _ = ci
    first = runner.checkout()
    runner.restore(first)
    runner.teamops(first, "people", "add", "ann")
    assert runner.save(first).returncode == 0
    a, b = runner.checkout(), runner.checkout()
    runner.restore(a)
    runner.restore(b)  # both start from generation 1
    runner.teamops(a, "people", "add", "bob")
    assert runner.save(a).returncode == 0 and runner.generation_on_branch() == 2
    late = runner.save(b)
    assert late.returncode == 4 and "moved since this run restored it" in late.stderr, late.stderr
    assert runner.generation_on_branch() == 2
    work = runner.checkout()
    shutil.rmtree(runner.cache, ignore_errors=True)
    runner.restore(work)
    handles = [r["handle"] for r in json.loads(runner.teamops(work, "people", "list", "-f", "json").stdout)["rows"]]
    assert handles == ["ann", "bob"]


def test_a_cancelled_run_saves_a_sound_state_and_the_next_run_completes_it(ci, tmp_path):
    runner, _ = ci
    repo = build_repo(tmp_path / "big", 20_000)
    work = runner.checkout()
    runner.restore(work)
    proc = subprocess.Popen(
        [sys.executable, "-m", "teamops", "-q", "sync-commits", "--repo", str(repo)],
        cwd=work,
        env=runner.env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    db = work / "teamops.db"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            with sqlite3.connect(db, timeout=0.1) as conn:
                if conn.execute("SELECT COUNT(*) FROM commits").fetchone()[0] >= 2000:
                    break
        except sqlite3.Error:
            pass
        time.sleep(0.005)
    os.kill(proc.pid, signal.SIGKILL)  # the runner cancels the job
    proc.wait()
    assert runner.save(work).returncode == 0
    shutil.rmtree(runner.cache, ignore_errors=True)
    work = runner.checkout()
    runner.restore(work)
    with sqlite3.connect(work / "teamops.db") as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        partial = conn.execute("SELECT COUNT(*) FROM commits").fetchone()[0]
    assert 0 < partial < 20_000
    assert runner.teamops(work, "-q", "sync-commits", "--repo", str(repo)).returncode == 0
    with sqlite3.connect(work / "teamops.db") as conn:
        assert conn.execute("SELECT COUNT(*) FROM commits").fetchone()[0] == 20_000


def test_restore_refuses_to_replace_a_database_and_save_needs_a_restore(ci):
    runner, _ = ci
    work = runner.checkout()
    (work / "teamops.db").write_bytes(b"")
    res = runner.teamops(work, "state", "restore")
    assert res.returncode == 3 and "exists: restoring would replace it" in res.stderr
    (work / "teamops.db").unlink()
    runner.teamops(work, "people", "add", "ann")
    res = runner.save(work)
    assert res.returncode == 3 and "run `teamops state restore` first" in res.stderr
