"""Shared fixtures: an isolated environment per test, real git repositories, and the CLI."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from teamops.cli.app import app
from tests.support.team import team  # noqa: F401  (shared by the task, sprint and RACI tests)

# Tests that time or kill real processes run one after another in two lanes (a worker each), so at
# most two of them share the machine while the rest of the suite spreads over the other workers.
TIMED_MODULES = {"test_notify_overlap.py", "test_jobs.py", "test_state.py", "test_resume.py"}
LANE_A = {"test_state.py", "test_resume.py", "test_github.py", "test_clickup.py"}
# Tests that import litellm in their own process (3 s of CPU each time) share one worker, so it is
# imported once per run rather than once per worker.
LITELLM_MODULES = {"test_estimate.py", "test_cassettes.py", "test_model_offline.py", "test_suggest_model.py"}
LITELLM_TESTS = {
    "test_analyze_says_when_an_estimate_saw_only_part_of_a_commit",
    "test_model_writes_the_document_through_litellm",
}


def _environment_in_python_only() -> None:
    """Tests change os.environ alone and hand it to every child, so the C environment never moves.

    glibc's setenv frees the environment's old array when it adds a name, while libfaketime (the
    suite's second pass, 400 days ahead) reads that array from every thread that waits for the GIL:
    a worker died of it, a segmentation fault in a server thread. os.environ stays the truth for
    Python; a child started without env= gets a copy of it, as it would have got the C one.
    """

    def putenv(key: str | bytes, value: str | bytes) -> None:
        """What the real one refuses is refused (a .env with a NUL in it is such a test)."""
        if any("\0" in part if isinstance(part, str) else b"\0" in part for part in (key, value)):
            raise ValueError("embedded null byte")
        if not key or ("=" in key if isinstance(key, str) else b"=" in key):
            raise ValueError("illegal environment variable name")

    os.putenv = putenv
    os.unsetenv = lambda key: None  # type: ignore[assignment]
    start = subprocess.Popen.__init__

    def popen(self: subprocess.Popen, args: object, *rest: object, **kwargs: object) -> None:
        if len(rest) < 10 and kwargs.get("env") is None:  # env is Popen's eleventh parameter
            kwargs["env"] = dict(os.environ)
        start(self, args, *rest, **kwargs)  # type: ignore[arg-type]

    subprocess.Popen.__init__ = popen  # type: ignore[method-assign]


_environment_in_python_only()


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the groups
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        # The litellm lane first: its one kill test imports litellm too, and runs alone there as well.
        if item.path.name in LITELLM_MODULES or item.originalname in LITELLM_TESTS:
            item.add_marker(pytest.mark.xdist_group("litellm"))
        elif item.path.name in TIMED_MODULES or item.get_closest_marker("slow") or item.get_closest_marker("timed"):
            lane = "a" if item.path.name in LANE_A else "b"
            item.add_marker(pytest.mark.xdist_group(f"timed-{lane}"))


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test runs in its own folder with no teamops, GitHub or git settings leaking in."""
    for var in list(os.environ):
        # COLUMNS and LINES: pytest-xdist gives its workers the terminal's; output must not depend on it.
        if var.startswith(("TEAMOPS_", "GITHUB_", "GIT_", "CLICKUP_", "OPENAI_")) or var in ("CI", "COLUMNS", "LINES"):
            monkeypatch.delenv(var, raising=False)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("NO_COLOR", "1")
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    from teamops import clock

    clock.pin(None)  # a moment pinned by an earlier test's run does not leak into this one
    return work


@dataclass
class Result:
    exit_code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def run_cli(*args: str, env: dict[str, str] | None = None, input: str | None = None) -> Result:
    """Run teamops in-process, stdout and stderr apart, as a user's shell would see them."""
    runner = CliRunner()
    res = runner.invoke(app, list(args), env=env, input=input, catch_exceptions=True)
    if res.exception and not isinstance(res.exception, SystemExit):
        raise res.exception
    return Result(res.exit_code, res.stdout, res.stderr)


@pytest.fixture
def cli():
    return run_cli


class GitBuilder:
    """A real repository in tmp_path with helpers to commit as anyone at any time."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.mkdir(parents=True, exist_ok=True)
        self.git("init", "-q", "-b", "main")
        self.git("config", "user.name", "Default Dev")
        self.git("config", "user.email", "default@dev.io")
        self.git("config", "commit.gpgsign", "false")

    def git(self, *args: str, env: dict[str, str] | None = None) -> str:
        full_env = {**os.environ, **(env or {})}
        out = subprocess.run(
            ["git", "-C", str(self.path), *args],
            capture_output=True,
            text=True,
            env=full_env,
            check=True,
        )
        return out.stdout.strip()

    def commit(
        self,
        message: str,
        files: dict[str, str | bytes] | None = None,
        author: tuple[str, str] = ("Default Dev", "default@dev.io"),
        date: str = "2026-11-02T10:00:00+00:00",
    ) -> str:
        for name, content in (files or {}).items():
            target = self.path / name
            target.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                target.write_bytes(content)
            else:
                target.write_text(content, encoding="utf-8")
            self.git("add", name)
        env = {
            "GIT_AUTHOR_NAME": author[0],
            "GIT_AUTHOR_EMAIL": author[1],
            "GIT_AUTHOR_DATE": date,
            "GIT_COMMITTER_NAME": author[0],
            "GIT_COMMITTER_EMAIL": author[1],
            "GIT_COMMITTER_DATE": date,
        }
        self.git("commit", "-q", "--allow-empty", "--allow-empty-message", "-m", message, env=env)
        return self.git("rev-parse", "HEAD")

    def merge(self, branch: str, date: str = "2026-11-03T10:00:00+00:00") -> str:
        env = {"GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date}
        self.git("merge", "-q", "--no-ff", "--no-edit", branch, env=env)
        return self.git("rev-parse", "HEAD")


@pytest.fixture(scope="session")
def big_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """20,000 commits by five authors (tests/support/synth.py), built once per worker: read, never written."""
    from tests.support.synth import build_repo

    return build_repo(tmp_path_factory.mktemp("shared") / "big", 20_000)


@pytest.fixture
def make_repo(tmp_path: Path):
    def make(name: str = "repo") -> GitBuilder:
        return GitBuilder(tmp_path / name)

    return make


def lines(n: int, tag: str = "x") -> str:
    return "".join(f"{tag} {i}\n" for i in range(n))
