"""The deployment files: the action and workflows as Actions would run them, cron and systemd, the wheel."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import yaml

import teamops
from tests.conftest import lines
from tests.fakes.github import FakeGitHub
from tests.support.paths import ROOT

BIN = Path(sys.executable).parent
WORKFLOWS = sorted((ROOT / "jobs" / "github").glob("*.yml"))
ACTION = yaml.safe_load((ROOT / "action.yml").read_text())


def actionlint() -> str:
    exe = shutil.which("actionlint", path=str(BIN)) or shutil.which("actionlint")
    assert exe, "actionlint is part of the test extras"
    return exe


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_workflows_pass_actionlint(path):
    res = subprocess.run([actionlint(), "-no-color", str(path)], capture_output=True, text=True)
    assert res.returncode == 0, res.stdout + res.stderr


def test_the_action_passes_actionlint_as_a_local_action(tmp_path):
    """actionlint reads a local action's metadata: a workflow using `./` checks action.yml and its inputs."""
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)  # actionlint finds local actions from the root
    shutil.copy(ROOT / "action.yml", tmp_path / "action.yml")
    flows = tmp_path / ".github" / "workflows"
    flows.mkdir(parents=True)
    good = {"run": "kpi", "python-version": "3.12", "state-branch": "s", "save-state": "false"}
    bad = {"command": "kpi"}
    for name, inputs in (("good", good), ("bad", bad)):
        flow = {
            "on": "push",
            "jobs": {
                "t": {
                    "runs-on": "ubuntu-latest",
                    "steps": [{"uses": "actions/checkout@v4"}, {"uses": "./", "with": inputs}],
                }
            },
        }
        (flows / f"{name}.yml").write_text(yaml.safe_dump(flow), encoding="utf-8")
    ok = subprocess.run(
        [actionlint(), "-no-color", ".github/workflows/good.yml"], cwd=tmp_path, capture_output=True, text=True
    )
    assert ok.returncode == 0, ok.stdout + ok.stderr
    wrong = subprocess.run(
        [actionlint(), "-no-color", ".github/workflows/bad.yml"], cwd=tmp_path, capture_output=True, text=True
    )
    assert wrong.returncode == 1 and 'input "command" is not defined' in wrong.stdout


def test_the_action_installs_from_its_own_checkout_never_by_name():
    scripts = "\n".join(s.get("run", "") for s in ACTION["runs"]["steps"])
    assert '-c "$GITHUB_ACTION_PATH/requirements.lock" "$GITHUB_ACTION_PATH"' in scripts
    assert not re.search(r"pip install[^\n]*\bteamops\b", scripts)
    for path in WORKFLOWS:
        assert "pip install" not in path.read_text(), path.name
    setup = next(s for s in ACTION["runs"]["steps"] if s.get("uses", "").startswith("actions/setup-python"))
    assert setup["with"]["cache"] == "pip" and "requirements.lock" in setup["with"]["cache-dependency-path"]


def teamops_step(workflow: dict) -> dict:
    (job,) = workflow["jobs"].values()
    return next(s for s in job["steps"] if "teamops@" in s.get("uses", ""))


def test_every_workflow_line_is_a_real_command(tmp_path):
    for path in WORKFLOWS:
        flow = yaml.safe_load(path.read_text())
        steps = [step for job in flow["jobs"].values() for step in job["steps"]]
        for step in steps:
            if "teamops@" not in step.get("uses", ""):
                continue
            for line in step["with"]["run"].splitlines():
                words = [w for w in shlex.split(line.split(">>")[0]) if not w.startswith("$")]
                command = [w for w in words if not w.startswith("-")][:2]
                res = subprocess.run(
                    [sys.executable, "-m", "teamops", *command, "--help"], cwd=tmp_path, capture_output=True, text=True
                )
                assert res.returncode == 0 and "Usage" in res.stdout, f"{path.name}: {line}"
        if path.name != "teamops-push.yml":  # every state writer queues in one group
            assert flow["concurrency"] == {"group": "teamops-state", "cancel-in-progress": False}, path.name


def run_action(workflow: Path, work: Path, env: dict[str, str], **more: str) -> list[subprocess.CompletedProcess[str]]:
    """The action's shell steps in order, as the runner would run them (setup-python, the install and
    actions/cache are the runner's part; the cache folder stays in place between runs here)."""
    step = teamops_step(yaml.safe_load(workflow.read_text()))
    inputs = {name: spec.get("default", "") for name, spec in ACTION["inputs"].items()} | step.get("with", {}) | more
    out = work / "github_output"
    done = []
    failed = False
    for s in ACTION["runs"]["steps"]:
        if "run" not in s or s.get("name", "").startswith("Install"):
            continue
        cond = s.get("if", "")
        if failed and "always()" not in cond:
            continue
        if any(
            f"inputs.{k} == 'true'" in cond and str(inputs[k]) != "true"
            for k in ("restore-state", "save-state", "summary", "report")
        ):
            continue
        outputs = dict(line.split("=", 1) for line in out.read_text().splitlines()) if out.exists() else {}
        values = {f"inputs.{k}": str(v) for k, v in inputs.items()}
        values["steps.save.outputs.generation"] = outputs.get("generation", "")
        values["steps.site.outputs.path"] = outputs.get("path", "")  # the Pages steps are the runner's part
        step_env = {
            k: re.sub(r"\$\{\{ ([\w.-]+) \}\}", lambda m, known=values: known.get(m[1], ""), str(v))
            for k, v in (s.get("env") or {}).items()
        }
        res = subprocess.run(
            ["bash", "-e", "-c", s["run"]],
            cwd=work,
            env={
                **env,
                **step_env,
                "GITHUB_OUTPUT": str(out),
            },
            capture_output=True,
            text=True,
            timeout=300,
        )
        done.append(res)
        failed = failed or res.returncode != 0
    return done


def test_the_on_push_workflow_through_the_action_twice(make_repo, tmp_path):
    code = make_repo("api")
    code.commit("Add export", {"export.py": lines(30)}, author=("Octo Cat", "octo@acme.io"))
    origin = tmp_path / "ops.git"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(origin)], check=True)
    seed = tmp_path / "seed"
    subprocess.run(["git", "clone", "-q", str(origin), str(seed)], check=True, capture_output=True)
    (seed / "teamops.toml").write_text("# the ops repository's config\n", encoding="utf-8")
    subprocess.run(["git", "-C", str(seed), "add", "."], check=True)
    subprocess.run(
        ["git", "-C", str(seed), "-c", "user.name=o", "-c", "user.email=o@x", "commit", "-qm", "ops"], check=True
    )
    subprocess.run(["git", "-C", str(seed), "push", "-q", "origin", "HEAD:main"], check=True, capture_output=True)
    with FakeGitHub({"acme/api": code.path}) as gh:
        summaries = []
        for run in (1, 2):
            work = tmp_path / f"run{run}"
            subprocess.run(["git", "clone", "-q", "--depth=1", str(origin), str(work)], check=True, capture_output=True)
            summary = work / "summary.md"
            env = {
                **os.environ,
                "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
                "GITHUB_TOKEN": gh.token,
                "TEAMOPS_GITHUB_API_URL": gh.url,
                "REPOSITORY": "acme/api",
                "GITHUB_STEP_SUMMARY": str(summary),
                "OPENAI_API_KEY": "",
                "GIT_CONFIG_NOSYSTEM": "1",
                "HOME": str(tmp_path),
            }
            env.pop("TEAMOPS_NOW", None)
            (work / ".teamops-state").mkdir(exist_ok=True)
            if run == 2:
                shutil.copytree(tmp_path / "run1" / ".teamops-state", work / ".teamops-state", dirs_exist_ok=True)
            env["RUNNER_TEMP"] = str(work / "tmp")
            # The second run also builds the dashboard, as `report: true` asks.
            more = {"report": "true"} if run == 2 else {}
            results = run_action(ROOT / "jobs" / "github" / "teamops-on-push.yml", work, env, **more)
            assert [r.returncode for r in results] == [0] * (5 if more else 4), [r.stderr for r in results]
            summaries.append((results, summary.read_text()))
        first, second = summaries
        assert (
            "no saved state" in first[0][0].stderr
            and "synced 1 new commit (incl. merges) from acme/api" in first[0][1].stderr
        )
        assert "saved generation 1" in first[0][2].stderr and "Commit activity" in first[1]
        assert "- `teamops analyze`" in first[1] and "State: generation 1 saved" in first[1]
        assert "restored generation 1 from the cache folder" in second[0][0].stderr
        assert "acme/api (main): up to date" in second[0][1].stderr
        assert "wrote 2 pages" in second[0][2].stderr and "saved generation 2" in second[0][3].stderr
        assert "Dashboard: built, not published" in second[1] and "Dashboard" not in first[1]
        assert "acme/api" in (tmp_path / "run2" / "tmp" / "teamops-site" / "repos" / "acme-api.html").read_text()
    state = json.loads(
        subprocess.run(
            ["git", "--git-dir", str(origin), "show", "teamops-state:state.json"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    assert state["generation"] == 2


UNITS = sorted((ROOT / "jobs" / "systemd").glob("*.service")) + sorted((ROOT / "jobs" / "systemd").glob("*.timer"))


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
def test_systemd_units_pass_systemd_analyze_verify(tmp_path):
    for unit in UNITS:  # the paths of a real install, pointed at this checkout's teamops
        text = unit.read_text().replace("/srv/teamops/.venv/bin/teamops", str(BIN / "teamops"))
        (tmp_path / unit.name).write_text(text.replace("/srv/teamops", str(tmp_path)), encoding="utf-8")
    res = subprocess.run(
        ["systemd-analyze", "verify", *(str(tmp_path / u.name) for u in UNITS)], capture_output=True, text=True
    )
    assert res.returncode == 0, res.stdout + res.stderr
    assert all("UTC" in u.read_text() for u in UNITS if u.suffix == ".timer")


def test_cron_runs_in_utc_with_its_log_folder_made():
    cron = (ROOT / "jobs" / "crontab.example").read_text()
    entries = [line for line in cron.splitlines() if line and not line.startswith("#") and "=" not in line.split()[0]]
    assert "CRON_TZ" not in cron.replace("ignore CRON_TZ", "") and not re.search(r"^TZ=", cron, re.M)
    assert "install -d" in cron and "/var/log/teamops" in cron
    assert len(entries) == 3 and all(e.split()[5] == "cd" for e in entries)
    assert any(e.startswith("5 * * * *") and "remind eod" in e for e in entries)  # hourly, teamops handles zones


def test_the_version_comes_from_one_place():
    from importlib.metadata import version

    assert version("teamops") == teamops.__version__
    assert 'dynamic = ["version"]' in (ROOT / "pyproject.toml").read_text()
    res = subprocess.run([sys.executable, "-m", "teamops", "--version"], capture_output=True, text=True)
    assert res.stdout.strip() == f"teamops {teamops.__version__}"


def test_a_wheel_installs_with_its_package_data_and_init_works_in_an_empty_folder(tmp_path):
    dist = tmp_path / "dist"
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(dist), str(ROOT)],
        capture_output=True,
        text=True,
    )
    assert build.returncode == 0, build.stderr
    (wheel,) = dist.glob("teamops-*.whl")
    assert wheel.name.startswith(f"teamops-{teamops.__version__}-")
    names = zipfile.ZipFile(wheel).namelist()
    assert {"teamops/teamops.toml.example", "teamops/py.typed"} <= set(names)
    assert {"teamops/render/templates/page.html.j2", "teamops/render/templates/site.css"} <= set(names)
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target), str(wheel)], check=True
    )
    empty = tmp_path / "empty"
    empty.mkdir()
    env = {**os.environ, "PYTHONPATH": str(target), "HOME": str(tmp_path)}
    where = subprocess.run(
        [sys.executable, "-c", "import teamops; print(teamops.__file__)"], env=env, capture_output=True, text=True
    )
    assert where.stdout.startswith(str(target)), where.stdout  # the wheel's copy, not this checkout
    init = subprocess.run(
        [sys.executable, "-m", "teamops", "init", "--yes"], cwd=empty, env=env, capture_output=True, text=True
    )
    assert init.returncode == 0, init.stderr
    assert (empty / "teamops.toml.example").read_text() == (ROOT / "teamops" / "teamops.toml.example").read_text()
    assert "add a [[repos]] entry" in init.stderr  # no repository here: the hint says what to do first
    pages = subprocess.run(
        [sys.executable, "-m", "teamops", "report", "html", "--out", "pages"],
        cwd=empty,
        env=env,
        capture_output=True,
        text=True,
    )
    assert pages.returncode == 0 and "<style>" in (empty / "pages" / "index.html").read_text(), pages.stderr
    shown = subprocess.run(
        [sys.executable, "-m", "teamops", "config", "show"], cwd=empty, env=env, capture_output=True, text=True
    )
    assert shown.returncode == 0, shown.stderr
