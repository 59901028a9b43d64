"""Hostile input: arguments that try to reach git as options, out-of-range numbers, broken files."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.small_disk import run_on_small_disk


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


@pytest.mark.parametrize(
    "args",
    [
        ["task", "add", "X", "-R", "ann", "-A", "ann", "--points", "nan"],
        ["task", "add", "X", "-R", "ann", "-A", "ann", "--points", "inf"],
        ["task", "add", "X", "-R", "ann", "-A", "ann", "--estimate-hours", "1e309"],
        ["task", "update", "1", "--spent-hours", "-inf"],
        ["analyze", "--budget-usd", "nan"],
        ["kpi", "activity", "--since", "99999999d"],
        ["kpi", "activity", "--limit", "99999999999999999999"],
        ["mastery", "done", "99999999999999999999999"],
    ],
)
def test_numbers_out_of_range_are_usage_errors(cli, people_db, args):
    before = dump(people_db)
    res = cli(*args)
    assert res.exit_code == 2, res.output
    assert len(res.stderr.strip().splitlines()) == 1 and "Traceback" not in res.output
    assert dump(people_db) == before


@pytest.mark.parametrize(
    "args",
    [
        ["task", "show", "99999999999999999999999"],
        ["task", "done", "99999999999999999999999"],
        ["task", "add", "X", "-R", "ann", "-A", "ann", "--status", ""],
        ["task", "add", "X", "-R", "ann", "-A", "ann", "--status", "bogus"],
        ["task", "update", "1", "--status", ""],
        ["task", "list", "--status", ""],
        ["notify", "list", "--status", ""],
        ["mastery", "list", "--status", ""],
    ],
)
def test_unknown_ids_and_statuses_are_invalid_input(cli, people_db, args):
    before = dump(people_db)
    res = cli(*args)
    assert res.exit_code == 5, res.output
    assert dump(people_db) == before
    assert cli("task", "update", "1", "--title", "still editable").exit_code == 0


@pytest.mark.parametrize(
    ("toml", "needle"),
    [
        ("[ai]\nconcurrency = 100000\n", "ai.concurrency must be from 1 to 64, got 100000"),
        ("[ai]\nbudget_usd = nan\n", "ai.budget_usd must be a finite number"),
        ("[ai]\nbudget_usd = inf\n", "ai.budget_usd must be a finite number"),
        ("[notify]\nmax_attempts = 1000000\n", "notify.max_attempts must be from 1 to 100"),
        ("x = " + "[" * 5000 + "]" * 5000 + "\n", "not valid TOML"),
    ],
)
def test_config_values_have_the_command_lines_bounds(cli, isolated, toml, needle):
    (isolated / "teamops.toml").write_text(toml, encoding="utf-8")
    res = cli("config", "show")
    assert res.exit_code == 3 and needle in res.stderr, res.stderr
    assert len(res.stderr.strip().splitlines()) == 1


def test_environment_values_are_bounded_too(cli):
    res = cli("config", "show", env={"TEAMOPS_AI_CONCURRENCY": "100000"})
    assert res.exit_code == 3 and "TEAMOPS_AI_CONCURRENCY must be from 1 to 64" in res.stderr
    res = cli("config", "show", env={"TEAMOPS_AI_BUDGET_USD": "nan"})
    assert res.exit_code == 3 and "TEAMOPS_AI_BUDGET_USD must be a number" in res.stderr


def test_a_deeply_nested_push_event_is_invalid_input(cli, isolated):
    event = isolated / "event.json"
    event.write_text('{"ref": "refs/heads/main", "commits": [], "repository": ' + "[" * 100_000 + "]" * 100_000 + "}")
    res = cli("sync-commits", "--event", str(event))
    assert res.exit_code == 5 and "Traceback" not in res.output, res.output


@pytest.mark.parametrize("content", [b"\xff\xfe\x00binary\x00", b"KEY=va\x00lue\n"])
def test_a_binary_env_file_is_named(cli, isolated, content):
    (isolated / ".env").write_bytes(content)
    res = cli("config", "show")
    assert res.exit_code == 3 and ".env cannot be read as a .env file" in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1


COMMANDS = [
    ["kpi"],
    ["kpi", "activity"],
    ["people", "list"],
    ["people", "add", "zoe"],
    ["sync-commits"],
    ["task", "list"],
    ["notify", "send"],
    ["job", "run", "eod"],
    ["job", "history"],
    ["remind", "eod"],
]


@pytest.mark.parametrize("args", COMMANDS)
def test_a_missing_database_folder_is_exit_3_for_every_command(cli, synced, tmp_path, args):
    res = cli("--db", str(tmp_path / "no" / "such" / "team.db"), *args)
    assert res.exit_code == 3, (args, res.output)
    assert "does not exist" in res.stderr and len(res.stderr.strip().splitlines()) == 1


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere; the unprivileged case runs below")
@pytest.mark.parametrize("args", COMMANDS)
def test_a_read_only_location_is_exit_3(cli, synced, tmp_path, args):  # pragma: no cover - non-root only
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    res = cli("--db", str(ro / "team.db"), *args)
    assert res.exit_code == 3, (args, res.output)


# Root without the capabilities that bypass file permissions: it obeys them as their owner does, and
# still reads the checkout and its virtual environment wherever they sit (a user such as `nobody`
# cannot when CI clones into a folder only root may enter).
UNPRIVILEGED = ["setpriv", "--bounding-set", "-dac_override,-dac_read_search,-fowner", "--"]


@pytest.mark.parametrize("args", [["kpi"], ["people", "add", "zoe"], ["job", "run", "eod"], ["sync-commits"]])
def test_a_read_only_location_is_exit_3_as_an_unprivileged_user(synced, tmp_path, args):
    """Root ignores file permissions, so the check runs without that power when the tests run as root."""
    if os.geteuid() != 0:
        pytest.skip("covered by test_a_read_only_location_is_exit_3")
    probe = subprocess.run([*UNPRIVILEGED, "true"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip("setpriv cannot drop capabilities here")
    ro = tmp_path / "ro"
    ro.mkdir()
    os.chmod(tmp_path, 0o755)
    os.chmod(ro, 0o555)
    work = tmp_path / "unprivileged-work"
    work.mkdir()
    os.chmod(work, 0o777)
    env = {**os.environ, "HOME": str(work), "PYTHONDONTWRITEBYTECODE": "1"}
    res = subprocess.run(
        [*UNPRIVILEGED, sys.executable, "-m", "teamops", "--db", str(ro / "team.db"), *args],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
    )
    if args == ["kpi"]:  # a report creates no database: it reports that there is nothing yet
        assert res.returncode == 0 and "nothing to report yet" in res.stdout and not list(ro.iterdir()), res.stderr
        return
    assert res.returncode == 3, res.stderr
    assert res.stderr.startswith("error: ") and len(res.stderr.strip().splitlines()) == 1, res.stderr


@pytest.mark.parametrize("damage", ["pages", "text"])
def test_a_damaged_database_is_exit_5_naming_the_file_and_the_way_back(cli, synced, isolated, damage):
    db = synced.path / "teamops.db"
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    page = conn.execute("PRAGMA page_size").fetchone()[0]
    conn.close()
    data = bytearray(db.read_bytes())
    if damage == "pages":
        for offset in range(page, len(data), page):  # every page but the header's: nothing is readable
            data[offset : offset + 64] = b"\xa5" * 64
    else:  # the rows still parse, but their text is no longer UTF-8
        for at in range(len(data)):
            if data[at : at + 7] == b"@acme.i":
                data[at] = 0xFF
    db.write_bytes(bytes(data))
    for args in (["kpi", "activity"], ["sync-commits"], ["people", "add", "zoe"]):
        res = cli(*args)
        if damage == "text" and res.exit_code == 0:
            continue  # this command never read a damaged value
        assert res.exit_code == 5, (args, res.output)
        assert "teamops.db" in res.stderr and "teamops state restore" in res.stderr
        assert len(res.stderr.strip().splitlines()) == 1
    if damage == "text":
        res = cli("kpi", "activity")
        assert res.exit_code == 5 and "is damaged (Could not decode" in res.stderr


@pytest.fixture
def people_db(cli, isolated):
    assert cli("people", "add", "ann").exit_code == 0
    assert cli("task", "add", "Ship", "-R", "ann", "-A", "ann", "--no-send").exit_code == 0
    return isolated / "teamops.db"


def dump(db: Path) -> list[str]:
    conn = sqlite3.connect(db)
    try:
        return [line for line in conn.iterdump() if "sync_state" not in line]
    finally:
        conn.close()


def commit_rows(db: Path) -> list[tuple]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(
            "SELECT sha, author_email, additions, deletions, files FROM commits ORDER BY sha"
        ).fetchall()
    finally:
        conn.close()


@pytest.mark.slow
def test_a_full_disk_is_an_error_and_the_next_run_completes_it(cli, tmp_path):
    from tests.support.synth import build_repo

    repo = build_repo(tmp_path / "big", 8_000)
    small, out = tmp_path / "small", tmp_path / "out"
    small.mkdir()
    out.mkdir()
    teamops = [sys.executable, "-m", "teamops", "--db", f"{small}/t.db", "sync-commits", "--repo", str(repo)]
    res = run_on_small_disk(small, 1200, teamops, out, tmp_path)
    assert res.returncode == 3, res.stderr
    assert res.stderr.strip().endswith("is full; nothing was lost, free space and run again"), res.stderr
    assert "Fatal Python error" not in res.stderr and "Traceback" not in res.stderr
    conn = sqlite3.connect(out / "t.db")
    assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    kept = conn.execute("SELECT COUNT(*) FROM commits").fetchone()[0]
    conn.close()
    assert kept < 8_000
    # On free space the next run ends with exactly the rows of a clean run.
    assert cli("--db", str(out / "t.db"), "sync-commits", "--repo", str(repo)).exit_code == 0
    assert cli("--db", str(tmp_path / "clean.db"), "sync-commits", "--repo", str(repo)).exit_code == 0
    assert commit_rows(out / "t.db") == commit_rows(tmp_path / "clean.db")


@pytest.mark.parametrize(
    "args",
    [
        ["job", "run", "eod"],
        ["gen-doc", "weekly", "--out", "/dev/full"],
        ["init", "--yes", "--force", "--config", "/dev/full"],
    ],
)
def test_writing_to_a_full_device_is_exit_3(cli, people_db, isolated, args):
    env = {"GITHUB_STEP_SUMMARY": "/dev/full"} if args[0] == "job" else {}
    before = dump(people_db)
    res = cli(*args, env=env)
    assert res.exit_code == 3, res.output
    assert "full" in res.stderr or "cannot" in res.stderr, res.stderr
    assert "Traceback" not in res.output
    if args[0] == "gen-doc":
        assert dump(people_db) == before  # a document that could not be written is not stored


def test_a_huge_env_file_is_refused_at_once(cli, isolated):
    (isolated / ".env").write_text("".join(f"K{i}=v{i}\n" for i in range(100_000)))
    started = time.monotonic()
    res = cli("people", "list")
    assert time.monotonic() - started < 5
    assert res.exit_code == 3 and "too large for a .env file" in res.stderr and len(res.stderr.splitlines()) == 1
    (isolated / ".env").write_text("".join(f"K{i}=v{i}\n" for i in range(1_500)) + "TEAMOPS_FORMAT=json\n")
    assert cli("people", "list").stdout.startswith("{")  # a file of settings is read as before


@pytest.mark.parametrize(
    "base", ["ftp://host/x", "localhost:11434", "http://", "http://a b", "--help", "http://[::1", "http://h:99999"]
)
def test_api_base_is_checked_before_any_work(cli, isolated, base):
    res = cli("analyze", "--model", "openai/gpt-4o-mini", "--api-base", base)
    assert res.exit_code == 2 and "--api-base must be an http(s) URL" in res.stderr, res.output
    assert not (isolated / "teamops.db").exists()


@pytest.mark.timed
def test_sigterm_ends_a_run_like_ctrl_c_with_exit_143(big_repo, tmp_path):
    repo = big_repo
    db = tmp_path / "t.db"
    proc = subprocess.Popen(
        [sys.executable, "-m", "teamops", "--db", str(db), "sync-commits", "--repo", str(repo)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            with sqlite3.connect(db, timeout=0.1) as conn:
                if conn.execute("SELECT COUNT(*) FROM commits").fetchone()[0] > 0:
                    break
        except sqlite3.Error:
            pass
        time.sleep(0.01)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 143, err
    assert err.strip().splitlines()[-1] == "error: terminated; everything already stored is kept", err
    assert "Traceback" not in err
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        kept = conn.execute("SELECT COUNT(*) FROM commits").fetchone()[0]
    assert 0 < kept < 20_000


@pytest.mark.parametrize(
    "args", [["kpi", "activity", "-f", "json"], ["people", "unmapped", "-f", "json"], ["kpi", "-f", "json"]]
)
def test_reports_read_a_database_nobody_may_write(cli, synced, tmp_path, args):
    """A CI artifact or a read-only mount: reports read it as it is and write nothing beside it."""
    if os.geteuid() != 0:
        pytest.skip("needs root to drop the permission-bypassing capabilities (the file checks run as root)")
    if subprocess.run([*UNPRIVILEGED, "true"], capture_output=True).returncode != 0:
        pytest.skip("setpriv cannot drop capabilities here")
    folder = tmp_path / "readonly"
    folder.mkdir()
    conn = sqlite3.connect(synced.path / "teamops.db")
    conn.execute("VACUUM INTO ?", [str(folder / "teamops.db")])
    conn.close()
    copy = sqlite3.connect(folder / "teamops.db")
    assert copy.execute("PRAGMA journal_mode = WAL").fetchone() == ("wal",)  # as teamops keeps it
    copy.close()
    expected = cli("--db", str(folder / "teamops.db"), *args, env={"TEAMOPS_NOW": "2026-11-20T10:00:00Z"}).stdout
    os.chmod(folder / "teamops.db", 0o444)
    os.chmod(folder, 0o555)
    env = {**os.environ, "TEAMOPS_NOW": "2026-11-20T10:00:00Z"}
    res = subprocess.run(
        [*UNPRIVILEGED, sys.executable, "-m", "teamops", "--db", str(folder / "teamops.db"), *args],
        env=env,
        capture_output=True,
        text=True,
    )
    os.chmod(folder, 0o755)
    assert res.returncode == 0, res.stderr
    assert res.stdout == expected
    assert sorted(p.name for p in folder.iterdir()) == ["teamops.db"]
