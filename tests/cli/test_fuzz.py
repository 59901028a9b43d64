"""Generated command lines for every command: no traceback, a documented exit code, and a rejected call
(exit 2, 3 or 5) leaves the database exactly as it was."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.cli.test_app import all_commands
from tests.conftest import run_cli

DOCUMENTED = {0, 1, 2, 3, 4, 5, 75}
HOSTILE = [
    "",
    " ",
    "-",
    "--",
    "-1",
    "0",
    "1",
    "nan",
    "inf",
    "-inf",
    "1e309",
    "99999999999999999999999",
    "99999999d",
    "9999-12-31",
    "0000-01-01",
    "2026-02-30",
    "--output=evil.txt",
    "-oevil",
    "../../outside",
    "a\x00b",
    "Fix <!channel> [here](https://evil.example)",
    "'; DROP TABLE tasks; --",
    "日本語",
    "x" * 5000,
    "ann",
    "S1",
    "#1",
    "T-1",
    "2026-11-03",
    "4w",
    "done",
    "heuristic",
    "week",
    "team",
    "nightly",
]
# Options whose value names a file teamops writes or opens: kept inside the test's own folder.
PATHS = ["out.md", "sub/dir/out.md", "", "missing-dir/x.db", "teamops.toml", "."]
PATH_OPTIONS = {"--out", "--db", "--config", "--event"}
# Commands that wait for other processes, prompt, or start a shell integration.
SKIP = {"job run"}


def leaf_commands():
    found = []
    for path, cmd in all_commands():
        if getattr(cmd, "commands", None) is not None:
            continue
        name = " ".join(path)
        if name not in SKIP:
            found.append((name, cmd))
    return found


LEAVES = leaf_commands()


@st.composite
def command_lines(draw):
    name, cmd = draw(st.sampled_from(LEAVES))
    args = name.split()
    for param in cmd.params:
        opts = [o for o in getattr(param, "opts", []) if o.startswith("--")]
        if getattr(param, "param_type_name", "") == "argument":
            args.append(draw(st.sampled_from(HOSTILE)))
            continue
        if not opts or opts[0] in ("--help", "--install-completion", "--show-completion", "--version", "--debug"):
            continue
        if not draw(st.booleans()):
            continue
        if getattr(param, "is_flag", False):
            args.append(opts[0])
        else:
            values = PATHS if opts[0] in PATH_OPTIONS else HOSTILE
            args += [opts[0], draw(st.sampled_from(values))]
    return args


def digest(db: Path) -> str:
    """The database's content (not its file bytes), so WAL checkpoints do not count as changes."""
    conn = sqlite3.connect(db)
    try:
        text = "\n".join(line for line in conn.iterdump() if "sync_state" not in line)
    finally:
        conn.close()
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


@pytest.fixture
def world(isolated, make_repo):
    repo = make_repo()
    repo.commit("one", {"a.py": "1\n"}, author=("Ann", "ann@acme.io"))
    at = {"TEAMOPS_NOW": "2026-11-03T10:00:00Z"}
    for args in (
        ["sync-commits", "--repo", str(repo.path)],
        ["people", "add", "ann", "--email", "ann@acme.io"],
        ["sprint", "add", "S1", "--start", "2026-11-02", "--end", "2026-11-13"],
        ["task", "add", "Ship", "-R", "ann", "-A", "ann", "--sprint", "S1", "--points", "3"],
        ["mastery", "assign", "ann", "Read", "--due", "2026-11-10"],
    ):
        res = run_cli(*args, env=at)
        assert res.exit_code == 0, res.output
    return isolated / "teamops.db"


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(args=command_lines())
def test_generated_command_lines(world, args):
    before = digest(world)
    res = run_cli(*args, env={"TEAMOPS_NOW": "2026-11-03T10:00:00Z"})
    assert "Traceback" not in res.output, (args, res.output)
    assert res.exit_code in DOCUMENTED, (args, res.exit_code, res.output)
    if res.exit_code in (2, 3, 5):
        assert digest(world) == before, (args, res.output)
        assert res.stderr.strip().count("\n") == 0 or "Usage" in res.stderr, (args, res.stderr)
