"""Deploy-workflow runs and incident issues: what `sync-commits` spends on GitHub's Actions and issues listings.

Run from the repository root:  python -m benchmarks.github_runs [--runs 5000]

A synthetic repository (tests/support/synth.py) served by the fake GitHub with one deploy workflow whose runs
(90% successful, 5% failed, 5% cancelled) span two years, and one issue labelled `incident` for every ten runs
(most closed, a tenth naming their cause), at N and 2N runs. Prints the Actions and issues requests of a
first sync beside the budget ⌈runs/100⌉ + ⌈issues/100⌉ + 5 (no timeline is read: labels come with each
issue), the deployments and incidents stored, the counted requests of a re-run with nothing new (target: at
most 3, the 304s GitHub does not count left out), the whole-process time, and the time `kpi dora` and `kpi
incidents` take over the two years beside a floor: `kpi dora` over a day with nothing in it (the process, the
config, the database opened).
"""

from __future__ import annotations

import argparse
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

from tests.fakes.github import FakeGitHub, issue, workflow_run
from tests.support.synth import build_repo


def runs_for(repo: Path, n: int) -> list[dict]:
    shas = subprocess.run(
        ["git", "-C", str(repo), "rev-list", "--reverse", "main"], capture_output=True, text=True
    ).stdout.split()
    start = datetime(2024, 11, 1)
    runs = []
    for i in range(n):
        created = start + timedelta(minutes=i * (2 * 365 * 24 * 60 // n))
        conclusion = "failure" if i % 20 == 7 else "cancelled" if i % 20 == 13 else "success"
        sha = shas[min(len(shas) - 1, i * len(shas) // n)]
        runs.append(workflow_run(10_000 + i, 11, sha, created.strftime("%Y-%m-%dT%H:%M:%SZ"), conclusion=conclusion))
    return runs


def issues_for(runs: list[dict]) -> list[dict]:
    """One incident issue after every tenth run: filed an hour after it, nine in ten closed three hours later."""
    out = []
    for k, run in enumerate(runs[5::10]):
        opened = datetime.strptime(run["created_at"], "%Y-%m-%dT%H:%M:%SZ") + timedelta(hours=1)
        closed = (opened + timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M:%SZ") if k % 10 else None
        body = f"Root cause: {run['head_sha'][:10]}" if k % 10 == 3 else "Users see errors."
        at = opened.strftime("%Y-%m-%dT%H:%M:%SZ")
        out.append(
            issue(k + 1, f"Incident {k + 1}", at, labels=("incident", f"sev{1 + k % 3}"), closed=closed, body=body)
        )
    return out


def timed(args: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(args, env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5000)
    opts = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="teamops-runsbench-"))
    print(
        f"{'runs':>6} {'issues':>6} {'requests':>9} {'budget':>7} {'deployments':>12} {'incidents':>10} "
        f"{'re-run counted':>15} {'sync':>6} {'kpi dora':>9} {'kpi incidents':>14} {'floor':>6}"
    )
    try:
        repo = build_repo(work / "repo", 2000)
        config = work / "teamops.toml"
        config.write_text('[dora]\ndeploy_workflows = ["deploy.yml"]\n')
        keep = os.environ.get("BENCH_KEEP")
        for n in (opts.runs, 2 * opts.runs):
            with FakeGitHub({"acme/bench": repo}) as gh:
                gh.repos["acme/bench"].workflows = [
                    {"id": 11, "name": "Deploy", "path": ".github/workflows/deploy.yml"}
                ]
                runs = runs_for(repo, n)
                gh.repos["acme/bench"].runs = runs
                gh.repos["acme/bench"].issues = issues_for(runs)
                env = {
                    **os.environ,
                    "GITHUB_TOKEN": gh.token,
                    "TEAMOPS_GITHUB_API_URL": gh.url,
                    "TEAMOPS_CONFIG": str(config),
                    "TEAMOPS_NOW": "2026-11-01T00:00:00Z",
                }
                db = work / f"{n}.db"
                args = [
                    sys.executable,
                    "-m",
                    "teamops",
                    "--quiet",
                    "--db",
                    str(db),
                    "sync-commits",
                    "--repo",
                    "acme/bench",
                ]
                seconds = timed(args, env)
                listings = ("/actions/", "/issues")
                used = sum(1 for _, path, _ in gh.log if any(part in path for part in listings))
                before = len(gh.log)
                subprocess.run(args, env=env, check=True)
                again = sum(
                    1 for _, path, status in gh.log[before:] if any(p in path for p in listings) and status != 304
                )
                import sqlite3

                conn = sqlite3.connect(db)
                stored = conn.execute("SELECT COUNT(*) FROM deployments WHERE source = 'workflow'").fetchone()[0]
                incidents = conn.execute("SELECT COUNT(*) FROM incidents").fetchone()[0]
                conn.close()
                window = ["--since", "2024-11-01", "--until", "2026-11-01", "--format", "json"]
                base = [sys.executable, "-m", "teamops", "--db", str(db), "kpi"]
                floor = timed([*base, "dora", "--since", "2000-01-01", "--until", "2000-01-02", "-f", "json"], env)
                dora = timed([*base, "dora", *window], env)
                listed = timed([*base, "incidents", *window], env)
                n_issues = len(gh.repos["acme/bench"].issues)
                budget = math.ceil(n / 100) + math.ceil(n_issues / 100) + 5
                print(
                    f"{n:>6,} {n_issues:>6,} {used:>9} {budget:>7} {stored:>12,} {incidents:>10,} {again:>15} "
                    f"{seconds:>5.1f}s {dora:>8.1f}s {listed:>13.1f}s {floor:>5.1f}s"
                )
    finally:
        if keep:
            print(f"kept in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
