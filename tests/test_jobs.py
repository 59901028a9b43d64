"""Jobs: a lock between runs, history, failures, interruption, step summaries, and the deployment files."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from teamops.jobs import job_lock

BIN = Path(sys.executable).parent


def teamops(*args: str, cwd: Path, env: dict[str, str] | None = None, **kw):
    return subprocess.run(
        [sys.executable, "-m", "teamops", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=120,
        **kw,
    )


def runs(db: Path) -> list[tuple]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute("SELECT job, step, status FROM job_runs ORDER BY id").fetchall()
    finally:
        conn.close()


def test_nightly_on_the_defaults_and_history(make_repo, isolated, cli, monkeypatch):
    repo = make_repo()
    repo.commit("one", {"a.py": "1\n"})
    monkeypatch.chdir(repo.path)
    res = cli("job", "run", "nightly")
    assert res.exit_code == 0, res.output
    assert "job nightly: ok" in res.stderr and "sync-commits: ok" in res.stderr
    assert [r[1:] for r in runs(repo.path / "teamops.db")] == [
        (None, "ok"),
        ("sync-commits", "ok"),
        ("analyze", "ok"),
        ("raci check --escalate", "ok"),
        ("notify send", "ok"),
    ]
    hist = json.loads(cli("job", "history", "-f", "json").stdout)["rows"]
    assert hist[0]["job"] == "nightly" and hist[0]["status"] == "ok" and len(hist[0]["steps"]) == 4
    listed = json.loads(cli("job", "list", "-f", "json").stdout)["rows"]
    assert [r["job"] for r in listed] == ["eod", "nightly", "weekly"]
    assert cli("job", "run", "nope").exit_code == 2


def test_a_failed_step_stops_the_job_queues_job_failed_and_continue_on_error(isolated, cli):
    (isolated / "teamops.toml").write_text(
        '[jobs.check]\nsteps = ["people list", "sync-commits --repo /no/such/clone", "people add late"]\n'
        '[notify.channels.ops]\nkind = "webhook"\nurl = "http://127.0.0.1:9/hook"\n'
        '[notify.routes]\njob_failed = ["ops"]\n[notify]\nmax_attempts = 1\ntimeout_s = 1\n',
        encoding="utf-8",
    )
    res = cli("job", "run", "check")
    assert res.exit_code == 1 and "job check failed at: sync-commits --repo /no/such/clone" in res.stderr
    db = isolated / "teamops.db"
    assert [r[1:] for r in runs(db)] == [
        (None, "failed"),
        ("people list", "ok"),
        ("sync-commits --repo /no/such/clone", "failed"),
    ]
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT kind, idempotency_key FROM outbox").fetchall() == [("job_failed", "job_failed:check:1")]
    conn.close()
    again = cli("job", "run", "check", "--continue-on-error")
    assert again.exit_code == 1
    assert runs(db)[-1] == ("check", "people add late", "ok")


def test_second_run_exits_75_naming_the_running_job_or_waits(isolated):
    db = isolated / "teamops.db"
    with job_lock(db, "nightly", wait=False):
        busy = teamops("job", "run", "eod", cwd=isolated)
        assert busy.returncode == 75
        assert "job 'nightly' (pid" in busy.stderr and "holds the lock" in busy.stderr
    # The holder is named even when asked the instant it took the lock, again and again.
    for _ in range(8):
        starting = subprocess.Popen(
            [sys.executable, "-m", "teamops", "job", "run", "eod", "--wait"], cwd=isolated, stderr=subprocess.PIPE
        )
        second = teamops("job", "run", "eod", cwd=isolated)
        starting.communicate(timeout=60)
        if second.returncode == 75:
            assert "job 'eod' (pid" in second.stderr, second.stderr
    # with --wait the second run proceeds as soon as the lock is free
    holder = threading.Event()

    def hold() -> None:
        with job_lock(db, "nightly", wait=False):
            holder.set()
            time.sleep(1.5)

    thread = threading.Thread(target=hold)
    thread.start()
    holder.wait()
    start = time.monotonic()
    waited = teamops("job", "run", "eod", "--wait", cwd=isolated)
    thread.join()
    assert waited.returncode == 0, waited.stderr
    assert time.monotonic() - start >= 1.0


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_killed_run_leaves_no_stale_lock_and_is_recorded(big_repo, tmp_path, sig):
    big = big_repo
    work = tmp_path / "w"
    work.mkdir()
    (work / "teamops.toml").write_text(f'[jobs.backfill]\nsteps = ["sync-commits --repo {big}", "analyze"]\n')
    proc = subprocess.Popen(
        [sys.executable, "-m", "teamops", "job", "run", "backfill"],
        cwd=work,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    db = work / "teamops.db"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if ("backfill", f"sync-commits --repo {big}", "running") in runs(db):
                break
        except sqlite3.Error:
            pass
        time.sleep(0.02)
    os.kill(proc.pid, sig)
    proc.communicate(timeout=60)
    if sig == signal.SIGTERM:
        assert proc.returncode == 130
        assert runs(db)[0] == ("backfill", None, "interrupted")
    again = teamops("job", "run", "backfill", cwd=work)
    assert again.returncode == 0, again.stderr
    if sig == signal.SIGKILL:  # one killed run, however many of its steps were running
        assert "1 earlier run had been killed: recorded as interrupted" in again.stderr
    statuses = [r for r in runs(db) if r[1] is None]
    assert statuses[0][2] == "interrupted" and statuses[-1][2] == "ok"


def test_step_summary_is_appended(make_repo, isolated, cli, monkeypatch):
    repo = make_repo()
    repo.commit("one", {"a.py": "1\n"}, author=("Ann", "ann@acme.io"))
    monkeypatch.chdir(repo.path)
    summary = isolated / "summary.md"
    summary.write_text("# earlier content\n")
    res = cli("job", "run", "nightly", env={"GITHUB_STEP_SUMMARY": str(summary)})
    assert res.exit_code == 0, res.output
    text = summary.read_text()
    assert text.startswith("# earlier content\n")
    assert "## teamops job `nightly`: ok" in text and "| `analyze` | ok |" in text
    assert "### Team summary" in text


def test_a_released_or_killed_holder_is_never_named(isolated):
    from teamops.jobs import _holder_running

    db = isolated / "teamops.db"
    with job_lock(db, "nightly", wait=False):
        assert b"job 'nightly' (pid" in Path(f"{db}.lock").read_bytes()
    assert Path(f"{db}.lock").read_bytes().strip() == b""  # the next holder's contenders read nothing stale
    assert not _holder_running("job 'ghost' (pid 999999999, since 2026-11-02T09:00:00Z)")
    assert _holder_running(f"job 'eod' (pid {os.getpid()}, since 2026-11-02T09:00:00Z)")
