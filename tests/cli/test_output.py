"""Every command that takes --format gives one strict JSON document, and tables never print None or NaN."""

from __future__ import annotations

import json
import re

import pytest

from tests.cli.test_app import all_commands
from tests.fakes.clickup import TOKEN, FakeClickUp, make_task
from tests.fakes.receivers import FakeReceivers

AT = "2026-11-06T12:00:00Z"

# Arguments that make each command do real work on the fixture's data.
ARGS: dict[str, list[str]] = {
    "sync-commits": ["--repo", "REPO"],
    "analyze": [],
    "task add": ["Write the docs", "-R", "ann", "-A", "ann", "--points", "2"],
    "task show": ["1"],
    "sprint show": ["S1"],
    "notify test": ["team"],
    "remind eod": ["--dry-run"],
    "kpi burndown": ["--sprint", "S1"],
}
# Results of an action rather than listings: one document without `rows` (docs/output.md).
NO_ROWS = {"merge", "task import", "sync-commits", "sync-tasks", "analyze", "task add", "task show", "gen-doc"}


def strict(text: str) -> dict:
    def refuse(name: str) -> None:
        raise AssertionError(f"{name} in JSON output")

    data = json.loads(text, parse_constant=refuse)
    assert isinstance(data, dict)
    return data


@pytest.fixture
def world(cli, isolated, make_repo, monkeypatch):
    with FakeReceivers() as receivers, FakeClickUp() as cu:
        monkeypatch.setenv("SLACK_URL", receivers.url("slack"))
        monkeypatch.setenv("CLICKUP_TOKEN", TOKEN)
        monkeypatch.setenv("TEAMOPS_CLICKUP_API_URL", cu.url)
        monkeypatch.setenv("TEAMOPS_NOW", AT)
        cu.lists["901"] = [make_task("86a1", "Synced task", "901", points=3)]
        (isolated / "teamops.toml").write_text(
            '[notify.channels.team]\nkind = "slack"\nurl_env = "SLACK_URL"\n'
            '[notify.routes]\ntask_blocked = ["team"]\neod_reminder = ["team"]\n'
            "[clickup]\nlist_ids = [901]\n",
            encoding="utf-8",
        )
        repo = make_repo()
        repo.commit("feat", {"a.py": "1\n2\n"}, author=("Ann", "ann@acme.io"), date="2026-11-03T10:00:00+00:00")
        repo.commit("fix", {"a.py": "1\n"}, author=("Zed", "zed@else.io"), date="2026-11-04T10:00:00+00:00")
        repo.git("tag", "v1.0.0")  # exactly one deployment
        assert cli("sync-commits", "--repo", str(repo.path)).exit_code == 0
        assert cli("people", "add", "ann", "--email", "ann@acme.io", "--timezone", "Europe/Berlin").exit_code == 0
        cli("sprint", "add", "S1", "--start", "2026-11-02", "--end", "2026-11-13", env={"TEAMOPS_NOW": "2026-11-01"})
        cli("task", "add", "Ship", "-R", "ann", "-A", "ann", "--points", "3", "--sprint", "S1", "--no-send")
        cli("sprint", "start", "S1")
        cli("task", "update", "1", "--status", "in_progress")
        cli("task", "block", "1", "--reason", "keys", "--no-send")
        cli("mastery", "assign", "ann", "Read the RFC", "--due", "2026-11-10")
        cli("job", "run", "nightly")
        ARGS["sync-commits"] = ["--repo", str(repo.path)]
        shard = isolated / "shard.db"
        assert cli("--db", str(shard), "sync-commits", "--repo", str(repo.path)).exit_code == 0
        ARGS["merge"] = [str(shard)]
        sheet = isolated / "sheet.csv"
        sheet.write_text("key,title,points\nA-1,Write the guide,2\n")
        ARGS["task import"] = [str(sheet)]
        yield isolated


def test_every_command_that_takes_format_prints_one_strict_json_document(cli, world):
    paths = [
        " ".join(path)
        for path, cmd in all_commands()
        if any("--format" in getattr(p, "opts", []) and not getattr(p, "hidden", False) for p in cmd.params)
    ]
    assert len(paths) >= 29
    for path in paths:
        res = cli(*path.split(), *ARGS.get(path, []), "-f", "json")
        assert res.exit_code in (0, 1), (path, res.output)
        data = strict(res.stdout)
        assert data["report"], path
        if path not in NO_ROWS:
            assert isinstance(data.get("rows"), list), path


@pytest.mark.parametrize("fmt", ["table", "markdown", "csv"])
def test_human_formats_never_show_none_or_nan(cli, world, fmt):
    for path, cmd in all_commands():
        if not any("--format" in getattr(p, "opts", []) and not getattr(p, "hidden", False) for p in cmd.params):
            continue
        name = " ".join(path)
        if name in ("task add", "notify test", "sync-tasks", "sync-commits", "analyze", "gen-doc"):
            continue  # actions: run once above
        res = cli(*path, *ARGS.get(name, []), "-f", fmt)
        for bad in ("None", "nan", "NaN"):
            assert bad not in res.stdout.replace("NaN-", ""), (name, fmt, res.stdout)


ONE_PLURAL = re.compile(r"(?<![\d.,/-])\b1 ([a-z]+(?<!ss)(?<!us)s)\b")


def test_no_command_says_1_with_a_plural(cli, world):
    """`1 deployment`, `1 point`: every command's table, Markdown and messages, on data with one of each."""
    found = []
    for path, cmd in all_commands():
        name = " ".join(path)
        if not any("--format" in getattr(p, "opts", []) and not getattr(p, "hidden", False) for p in cmd.params):
            continue
        for fmt in ("table", "markdown"):
            res = cli(*path, *ARGS.get(name, []), "-f", fmt)
            found += [(name, fmt, m.group(0)) for m in ONE_PLURAL.finditer(res.stdout + res.stderr)]
    for args in (["doctor", "--offline"], ["kpi"], ["gen-doc", "weekly", "--since", "2026-11-02"], ["people", "list"]):
        res = cli(*args)
        found += [(" ".join(args), "text", m.group(0)) for m in ONE_PLURAL.finditer(res.stdout + res.stderr)]
    assert not found, found


WRITERS = {
    "merge",
    "task import",
    "sync-commits",
    "sync-tasks",
    "analyze",
    "task add",
    "notify test",
    "gen-doc",
    "remind eod",
    "remind mastery",
    "init",
    "notify send",
}


def test_read_only_commands_never_create_a_database(cli, isolated):
    ran = []
    for path, cmd in all_commands():
        name = " ".join(path)
        if name in WRITERS or not any("--format" in getattr(p, "opts", []) for p in cmd.params):
            continue
        res = cli(*path, *ARGS.get(name, []), "-f", "json")
        assert "Traceback" not in res.output, (name, res.output)
        assert not list(isolated.glob("teamops.db*")), name
        ran.append(name)
    assert len(ran) >= 20
    assert cli("doctor", "--offline").exit_code in (0, 1) and not list(isolated.glob("teamops.db*"))
