"""The installed command as a user runs it: version, help, python -m, start-up cost, exit codes."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from teamops import __version__

HEAVY = ("litellm", "github", "sklearn", "numpy", "pygal", "jinja2")


def teamops_exe() -> str:
    exe = Path(sys.executable).parent / "teamops"
    found = str(exe) if exe.exists() else shutil.which("teamops")
    if not found:
        pytest.skip("the teamops script is not installed in this environment")
    return found


def run(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, env={**os.environ, **(env or {})}, timeout=60)


def test_version_and_help(cli):
    assert cli("--version").stdout.strip() == f"teamops {__version__}"
    res = cli("--help")
    assert res.exit_code == 0
    for cmd in ("sync-commits", "people", "kpi", "config", "init", "doctor"):
        assert cmd in res.stdout


def test_installed_script_runs_the_readme_flow(make_repo, isolated):
    repo = make_repo()
    repo.commit("hello", {"a.txt": "hi\n"}, author=("Ana", "ana@x.io"))
    exe = teamops_exe()
    sync = run([exe, "sync-commits"], cwd=repo.path)
    assert sync.returncode == 0, sync.stderr
    assert "synced 1 new commit (incl. merges) from repo (main)" in sync.stderr
    # Whatever today's date: the commit is old news by then, and the summary still shows it.
    kpi = run([exe, "kpi"], cwd=repo.path)
    assert kpi.returncode == 0 and "Ana" in kpi.stdout
    assert "sync-commits" not in kpi.stdout + kpi.stderr
    module = run([sys.executable, "-m", "teamops", "kpi", "activity", "-f", "csv"], cwd=repo.path)
    assert module.returncode == 0 and module.stdout.startswith("person,")


def test_unknown_command_is_usage_error(cli):
    res = cli("sync-comits")
    assert res.exit_code == 2 and len(res.stderr.strip().splitlines()) == 1
    assert "No such command" in res.output and "Did you mean 'sync-commits'" in res.output


@pytest.mark.parametrize(
    ("args", "nearest"),
    [
        (["sync-commits", "--repos", "x"], "--repo"),
        (["--dbb", "t.db", "kpi"], "--db"),
        (["kpi", "activity", "--lst", "4w"], "--last"),
    ],
)
def test_a_mistyped_flag_suggests_the_nearest_flag_only(cli, args, nearest):
    res = cli(*args)
    assert res.exit_code == 2 and len(res.stderr.strip().splitlines()) == 1
    assert f"(Possible options: {nearest})" in res.stderr, res.stderr  # not --help or --verbose beside it


LOADED = """
import atexit, json, runpy, sys
atexit.register(lambda: sys.stderr.write("\\nMODULES " + json.dumps(sorted(sys.modules)) + "\\n"))
sys.argv = ["teamops", *sys.argv[1:]]
runpy.run_module("teamops", run_name="__main__")
"""


def loaded_modules(args: list[str], cwd: Path) -> set[str]:
    """Every module a run of teamops had loaded when it exited."""
    res = run([sys.executable, "-c", LOADED, *args], cwd=cwd)
    assert res.returncode == 0, res.stderr
    return set(json.loads(res.stderr.rsplit("MODULES ", 1)[1]))


def test_a_report_loads_only_what_it_needs(make_repo):
    from teamops.cli.app import COMMANDS

    repo = make_repo()
    repo.commit("one", {"a": "1\n"})
    assert run([sys.executable, "-m", "teamops", "sync-commits"], cwd=repo.path).returncode == 0
    modules = loaded_modules(["kpi", "activity"], repo.path)
    # The database is current: no migration machinery, and no other command's module.
    assert "teamops.cli.kpi" in modules and "sqlite_utils" not in modules
    others = {f"teamops.cli.{where.split(':')[0]}" for where in COMMANDS.values()} - {"teamops.cli.kpi"}
    assert not modules & others
    assert others <= loaded_modules(["--help"], repo.path)
    # Listings read the same way; a command that writes opens the full store.
    assert "sqlite_utils" not in loaded_modules(["people", "list"], repo.path)
    assert "sqlite_utils" in loaded_modules(["people", "add", "ana"], repo.path)


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["kpi", "activity"],
        ["kpi", "--help"],
        ["people", "list"],
        ["sync-commits"],
        ["analyze"],
        ["report", "--help"],
    ],
)
def test_start_up_imports_neither_litellm_nor_pygithub(args, make_repo):
    repo = make_repo()
    repo.commit("one", {"a": "1\n"})
    imported = {name.split(".")[0] for name in loaded_modules(args, repo.path)}
    for heavy in HEAVY:
        assert heavy not in imported, f"`teamops {' '.join(args)}` imported {heavy}"


def test_a_clones_sync_loads_no_github_reader(make_repo):
    """GitHub's API client and payload readers load for a GitHub repository or an event, not for a clone."""
    repo = make_repo()
    repo.commit("one", {"a": "1\n"})
    loaded = loaded_modules(["sync-commits"], repo.path)
    assert (
        not {"teamops.sources.github.client", "teamops.sources.github.payloads", "teamops.sources.github.push"} & loaded
    )


def test_unexpected_errors_are_one_line_without_debug(cli, isolated, monkeypatch):
    import teamops.reports.activity as activity_mod

    def boom(*a, **k):
        raise RuntimeError("kaboom")

    monkeypatch.setattr(activity_mod, "activity", boom)
    res = cli("--db", str(isolated / "t.db"), "kpi", "activity")
    assert res.exit_code == 70
    assert res.stderr.strip() == "error: unexpected RuntimeError: kaboom (run with --debug for the traceback)"
    debug = cli("--db", str(isolated / "t.db"), "kpi", "activity", env={"TEAMOPS_DEBUG": "1"})
    assert debug.exit_code == 70 and "Traceback (most recent call last)" in debug.stderr


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["kpi", "activity", "--since", "someday"], 2),  # usage
        (["--config", "missing.toml", "kpi"], 3),  # configuration
        (["kpi", "activity", "--person", "ghost"], 5),  # invalid input
    ],
)
def test_debug_shows_the_traceback_and_keeps_the_exit_code(cli, isolated, args, code):
    plain = cli("--db", str(isolated / "t.db"), *args)
    debug = cli("--db", str(isolated / "t.db"), "--debug", *args)
    assert plain.exit_code == debug.exit_code == code
    assert "Traceback" not in plain.stderr and "Traceback (most recent call last)" in debug.stderr
    assert debug.stderr.rstrip().splitlines()[-1] == plain.stderr.rstrip().splitlines()[-1]


def test_global_options_work_after_the_command(cli, make_repo, isolated):
    repo = make_repo()
    repo.commit("one", {"a": "1\n"}, author=("Ana", "ana@x.io"))
    db = str(isolated / "elsewhere.db")
    assert cli("sync-commits", "--repo", str(repo.path), "--db", db, "-q").stderr == ""
    before = json.loads(cli("--db", db, "-f", "json", "kpi", "activity").stdout)
    after = json.loads(cli("kpi", "activity", "--db", db, "-f", "json").stdout)
    assert before == after and after["rows"][0]["commits"] == 1
    mixed = cli("people", "--db", db, "list", "--format", "csv")
    assert mixed.exit_code == 0 and mixed.stdout.startswith("handle,")
    (isolated / "other.toml").write_text(f'[store]\npath = "{db}"\n', encoding="utf-8")
    shown = json.loads(cli("config", "show", "--config", str(isolated / "other.toml"), "-f", "json").stdout)
    assert shown["database"] == db
    assert cli("kpi", "activity", "--since", "nope", "--debug", "--db", db).exit_code == 2
    verbose = cli("sync-commits", "--repo", str(repo.path), "--db", db, "-v")
    assert "unchanged since the last sync" in verbose.stderr
    for args in (["job", "list", "-f", "yaml"], ["gen-doc", "-f", "yaml"]):
        bad = cli(*args)
        assert bad.exit_code == 2 and "'yaml' is not one of" in bad.stderr, bad.stderr
        assert len(bad.stderr.strip().splitlines()) == 1 and bad.stderr.startswith("error: ")


def all_commands():
    """Every command path and its Click command, built the way a user's invocation builds it."""
    from typer.main import get_command

    from teamops.cli.app import app

    root = get_command(app)
    found = []

    def walk(cmd, path):
        commands = getattr(cmd, "commands", None)
        if commands is None:
            found.append((path, cmd))
            return
        if path:
            found.append((path, cmd))
        for name in list(commands):
            walk(commands[name], [*path, name])

    walk(root, [])
    return found


def test_every_command_has_an_example_and_help_shows_brackets(cli):
    missing = [" ".join(path) for path, cmd in all_commands() if "Example" not in (cmd.help or "")]
    assert missing == []
    jobs = cli("job", "list", "--help", env={"COLUMNS": "200"}).stdout
    assert "[jobs.NAME]" in jobs
    test = cli("notify", "test", "--help", env={"COLUMNS": "200"}).stdout
    assert "[notify.channels]" in test


def test_shell_completion(cli, isolated, make_repo):
    exe = teamops_exe()
    script = run(
        [exe, "--show-completion", "bash"], cwd=isolated, env={"_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION": "1"}
    )
    assert script.returncode == 0 and "_teamops_completion" in script.stdout
    env = {"_TEAMOPS_COMPLETE": "complete_bash", "COMP_WORDS": "teamops kpi bu", "COMP_CWORD": "2"}
    words = run([exe], cwd=isolated, env=env)
    assert "burndown" in words.stdout
    repo = make_repo()
    repo.commit("one", {"a": "1\n"})
    # Completion costs `teamops kpi` nothing: the report still loads no completion machinery beyond Typer's own.
    assert "shellingham" not in {m.split(".")[0] for m in loaded_modules(["kpi", "activity"], repo.path)} - set(
        loaded_modules(["--version"], repo.path)
    )


def test_init_writes_config_and_database(cli, make_repo, monkeypatch):
    repo = make_repo()
    repo.commit("x", {"a": "1\n"})
    monkeypatch.chdir(repo.path)
    res = cli("init", "--yes")
    assert res.exit_code == 0, res.output
    text = (repo.path / "teamops.toml").read_text()
    assert 'path = "teamops.db"' in text and 'branches = ["main"]' in text
    assert (repo.path / "teamops.db").exists()
    again = cli("init", "--yes")
    assert again.exit_code == 2 and "already exists" in again.stderr
    assert cli("sync-commits").exit_code == 0
    doc = cli("doctor", "--offline")
    assert doc.exit_code == 0, doc.output


def test_doctor_reports_a_broken_repo_path(cli, isolated):
    (isolated / "teamops.toml").write_text('[[repos]]\npath = "missing"\n', encoding="utf-8")
    res = cli("doctor", "--offline")
    assert res.exit_code == 1
    assert "1 check failed: repo missing" in res.stderr


def test_doctor_with_a_github_repository_and_clickup(cli, isolated, make_repo):
    from tests.fakes.clickup import TOKEN, FakeClickUp
    from tests.fakes.github import FakeGitHub

    repo = make_repo("api")
    repo.commit("init", {"a": "1\n"})
    (isolated / "teamops.toml").write_text(
        '[[repos]]\ngithub = "acme/api"\n[clickup]\nteam_id = 9012345\n'
        '[notify.channels.team]\nkind = "slack"\nurl_env = "SLACK_URL"\n',
        encoding="utf-8",
    )
    offline = cli("doctor", "--offline")
    assert offline.exit_code == 1 and "Traceback" not in offline.output
    assert "3 checks failed: repo acme/api, clickup, channel team" in offline.stderr
    assert "$GITHUB_TOKEN is not set" in offline.stdout
    with FakeGitHub({"acme/api": repo.path}) as gh, FakeClickUp() as cu:
        env = {
            "GITHUB_TOKEN": gh.token,
            "TEAMOPS_GITHUB_API_URL": gh.url,
            "CLICKUP_TOKEN": TOKEN,
            "TEAMOPS_CLICKUP_API_URL": cu.url,
            "SLACK_URL": "https://hooks.slack.com/services/T0/B0/secret",
        }
        res = cli("doctor", "-f", "json", env=env)
        assert res.exit_code == 0, res.output
        checks = {c["check"]: c for c in json.loads(res.stdout)["rows"]}
        assert checks["repo acme/api"]["detail"].startswith("acme/api answers (default branch main")
        assert checks["clickup"]["detail"] == "answers; workspace 9012345 (Acme)"
        assert "secret" not in res.output and "offline" not in checks["clickup"]["detail"]
        cu.team_id = "111"
        wrong = cli("doctor", env=env)
        assert wrong.exit_code == 1 and "not in workspace 9012345" in wrong.stdout


def test_help_stays_the_same_however_many_times_a_process_runs_commands(cli):
    # Commands are built once per process and shared: their help must be escaped once, not per run.
    first = cli("sync-tasks", "--help").stdout
    for _ in range(10):
        cli("sync-tasks", "--help")
    assert cli("sync-tasks", "--help").stdout == first and "\\\\" not in first


def test_init_keeps_an_existing_database_and_a_new_one_in_a_clone_gets_an_ignore_hint(cli, make_repo, monkeypatch):
    repo = make_repo()
    repo.commit("one", {"a.py": "1\n"})
    monkeypatch.chdir(repo.path)
    first = cli("sync-commits")
    assert "hint: teamops.db is inside the git clone" in first.stderr and "teamops.db*" in first.stderr
    assert "hint:" not in cli("sync-commits").stderr  # said once, when it was created
    init = cli("init", "--yes")
    assert "kept the existing teamops.db (1 commit, 0 merges, 0 people)" in init.stderr, init.stderr
    (repo.path / ".gitignore").write_text("teamops.db*\n")
    (repo.path / "teamops.db").unlink()
    again = cli("init", "--yes", "--force")
    assert "created teamops.db" in again.stderr and "hint:" not in again.stderr
