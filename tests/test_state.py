"""CI state with real git and files: runs in sequence with a cache hit, a cache miss, a failed and a cancelled run."""

from __future__ import annotations

import gzip
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import zlib
from pathlib import Path

import pytest

from tests.conftest import run_cli
from tests.fakes.receivers import FakeReceivers
from tests.support.memory import run_measured

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
        """teamops in `work` with the runner's environment (in this process: the kill tests start their own)."""
        here = os.getcwd()
        os.chdir(work)
        try:
            res = run_cli(*args, env=self.env)
        finally:
            os.chdir(here)
        return subprocess.CompletedProcess(list(args), res.exit_code, res.stdout, res.stderr)

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
    assert late.returncode == 4 and "holds generation 2, newer than the 1 this run restored" in late.stderr, late.stderr
    assert runner.generation_on_branch() == 2
    work = runner.checkout()
    shutil.rmtree(runner.cache, ignore_errors=True)
    runner.restore(work)
    handles = [r["handle"] for r in json.loads(runner.teamops(work, "people", "list", "-f", "json").stdout)["rows"]]
    assert handles == ["ann", "bob"]


def test_a_cancelled_run_saves_a_sound_state_and_the_next_run_completes_it(ci, big_repo):
    runner, _ = ci
    repo = big_repo
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


def put_state(runner: Runner, packed: bytes | None, meta: bytes | None) -> None:
    """A state commit made by hand on the origin's branch: what a broken or hostile writer could leave there."""
    origin = str(runner.origin)
    entries = []
    for name, data in (("teamops.db.gz", packed), ("state.json", meta)):
        if data is not None:
            blob = (
                subprocess.run(
                    ["git", "--git-dir", origin, "hash-object", "-w", "--stdin"],
                    input=data,
                    capture_output=True,
                    check=True,
                )
                .stdout.decode()
                .strip()
            )
            entries.append(f"100644 blob {blob}\t{name}\n")
    tree = (
        subprocess.run(
            ["git", "--git-dir", origin, "mktree"], input="".join(entries).encode(), capture_output=True, check=True
        )
        .stdout.decode()
        .strip()
    )
    env = {**runner.env, "GIT_AUTHOR_NAME": "x", "GIT_AUTHOR_EMAIL": "x@x", "GIT_COMMITTER_NAME": "x"}
    env["GIT_COMMITTER_EMAIL"] = "x@x"
    commit = (
        subprocess.run(
            ["git", "--git-dir", origin, "commit-tree", tree, "-m", "by hand"], env=env, capture_output=True, check=True
        )
        .stdout.decode()
        .strip()
    )
    git(runner.origin, "update-ref", f"refs/heads/{BRANCH}", commit)


def meta_for(packed: bytes, generation: int = 41) -> bytes:
    import hashlib

    return json.dumps(
        {
            "generation": generation,
            "saved_at": "2026-11-01T00:00:00Z",
            "sha256": hashlib.sha256(packed).hexdigest(),
            "bytes": len(packed),
        }
    ).encode()


def a_teamops_db(runner: Runner, *statements: str) -> bytes:
    """A real teamops database (one person), altered by `statements`, as the bytes of a file."""
    work = runner.root / f"made{runner.runs}"
    runner.runs += 1
    work.mkdir()
    assert runner.teamops(work, "people", "add", "ann").returncode == 0
    copy = work / "copy.db"
    with sqlite3.connect(work / "teamops.db") as conn:
        conn.execute("VACUUM INTO ?", [str(copy)])
    conn = sqlite3.connect(copy)
    for sql in statements:
        conn.execute(sql)
    conn.commit()
    conn.close()
    return copy.read_bytes()


def refused(runner: Runner, work: Path, *args: str) -> str:
    res = runner.teamops(work, "state", "restore", "--cache-dir", str(runner.cache), *args)
    assert res.returncode == 5, (res.returncode, res.stderr)
    assert (
        res.stderr.startswith("error: ") and len(res.stderr.strip().splitlines()) == 1 and "Traceback" not in res.stderr
    )
    assert not (work / "teamops.db").exists()
    assert not list(work.glob("*.restoring")), list(work.iterdir())
    return res.stderr


def test_an_unreadable_state_on_the_branch_is_refused_never_replaced(ci):
    runner, _ = ci
    work = runner.checkout()
    runner.restore(work)
    runner.teamops(work, "people", "add", "ann")
    assert runner.save(work).returncode == 0
    shutil.rmtree(runner.cache)
    good = subprocess.run(
        ["git", "--git-dir", str(runner.origin), "show", f"{BRANCH}:teamops.db.gz"], capture_output=True, check=True
    ).stdout
    for meta in (b"{not json", b'{"generation": "x"}', None):
        put_state(runner, good, meta)
        err = refused(runner, runner.checkout())
        assert "has no readable state.json" in err and "delete the branch" in err
    put_state(runner, None, meta_for(good))
    assert "has no teamops.db.gz" in refused(runner, runner.checkout())
    # A run that restored before the branch went bad saves nothing over it.
    put_state(runner, good, meta_for(good, 1))
    work = runner.checkout()
    runner.restore(work)
    put_state(runner, good, b"garbage")
    res = runner.save(work)
    assert res.returncode == 5 and "has no readable state.json" in res.stderr
    # A save never pushes a lower generation than the branch holds, whatever its restore saw.
    put_state(runner, good, meta_for(good, 41))
    lease = work / "teamops.db.state.json"
    lease.write_text(
        json.dumps({"branch_commit": git(runner.origin, "rev-parse", BRANCH), "generation": 0, "source": "new"})
    )
    res = runner.save(work)
    assert res.returncode == 4 and "holds generation 41" in res.stderr, res.stderr
    assert runner.generation_on_branch() == 41


@pytest.mark.parametrize(
    ("make", "says"),
    [
        (lambda db: gzip.compress(db)[:-200], "not a readable gzip file"),
        (lambda db: gzip.compress(db)[: len(gzip.compress(db)) // 2], "not a readable gzip file"),
        (lambda db: b"\x1f\x8b" + os.urandom(4000), "not a readable gzip file"),
        (lambda db: gzip.compress(b""), "is empty"),
        (lambda db: gzip.compress(db[:4096] + b"\xa5" * (len(db) - 4096)), "not a sound SQLite file"),
        (lambda db: gzip.compress(b"SQLite format 3\x00" + b"\x00" * 100), "not a sound SQLite file"),
    ],
    ids=["truncated", "half", "garbage", "empty", "damaged", "header-only"],
)
def test_a_broken_snapshot_is_refused_and_leaves_nothing(ci, make, says):
    runner, _ = ci
    packed = make(a_teamops_db(runner))
    put_state(runner, packed, meta_for(packed))
    assert says in refused(runner, runner.checkout())


@pytest.mark.parametrize(
    ("statements", "name"),
    [
        (["CREATE TRIGGER evil AFTER INSERT ON outbox BEGIN DELETE FROM people; END"], "evil"),
        (["CREATE TABLE extra (x)"], "extra"),
        (["CREATE VIEW spy AS SELECT * FROM people"], "spy"),
        (["CREATE INDEX odd ON people (handle, id)"], "odd"),
        (  # a trigger of a name teamops once used, that does something else
            ["CREATE TRIGGER commits_ad AFTER DELETE ON commits BEGIN DELETE FROM people; END"],
            "commits_ad",
        ),
        (["DROP TABLE _migrations"], "no migrations recorded"),
    ],
    ids=["trigger", "table", "view", "index", "replaced-trigger", "not-teamops"],
)
def test_a_snapshot_with_a_schema_teamops_does_not_create_is_refused(ci, statements, name):
    runner, _ = ci
    packed = gzip.compress(a_teamops_db(runner, *statements))
    put_state(runner, packed, meta_for(packed))
    assert name in refused(runner, runner.checkout())


def test_decompression_is_bounded_in_size_and_memory(ci):
    runner, _ = ci
    comp = zlib.compressobj(9, zlib.DEFLATED, 31)  # gzip framing
    zeros = b"\0" * (1 << 20)
    packed = b"".join(comp.compress(zeros) for _ in range(512)) + comp.flush()  # 512 MiB from ~0.5 MB
    put_state(runner, packed, meta_for(packed))
    work = runner.checkout()
    with (work / "teamops.toml").open("a", encoding="utf-8") as f:
        f.write("\n[store]\nstate_max_mb = 64\n")
    code, peak_mb, err = run_measured([sys.executable, "-m", "teamops", "state", "restore"], work, runner.env)
    assert code == 5 and "expands past 64 MiB" in err, err
    assert peak_mb < 200, f"{peak_mb:.0f} MB"
    assert not (work / "teamops.db").exists() and not list(work.glob("*.restoring"))


def test_an_unreadable_cache_falls_back_to_the_branch(ci):
    runner, _ = ci
    work = runner.checkout()
    runner.restore(work)
    runner.teamops(work, "people", "add", "ann")
    assert runner.save(work).returncode == 0
    (runner.cache / "teamops.db.gz").write_bytes(b"\x1f\x8bnot really")
    work = runner.checkout()
    out = runner.restore(work)
    assert (
        "warning: the cache was passed over" in out and "restored generation 1 from the 'teamops-state' branch" in out
    )
    shutil.rmtree(work)
    shutil.rmtree(runner.cache)
    runner.cache.mkdir()
    (runner.cache / "state.json").write_text("{")
    (runner.cache / "teamops.db.gz").write_bytes(b"")
    git(runner.origin, "update-ref", "-d", f"refs/heads/{BRANCH}")
    assert "the cache's state.json is unreadable" in refused(runner, runner.checkout())
