"""Deploy-workflow runs as deployments: what `sync-commits` spends on GitHub's Actions listings.

Run from the repository root:  python -m benchmarks.github_runs [--runs 5000]

A synthetic repository (tests/support/synth.py) served by the fake GitHub with one deploy workflow whose runs
(90% successful, 5% failed, 5% cancelled) span two years, at N and 2N runs. Prints the Actions requests of a
first sync beside the budget ⌈runs/100⌉ + 5 (+ the splits GitHub's 1,000-result cap forces: a window over it
costs one page that is not read on), the deployments stored, the counted requests of a re-run with nothing
new (target: at most 3, the 304s GitHub does not count left out), and the whole-process time.
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

from tests.fakes.github import FakeGitHub, workflow_run
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5000)
    opts = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="teamops-runsbench-"))
    print(f"{'runs':>6} {'actions requests':>17} {'budget':>7} {'deployments':>12} {'re-run counted':>15} {'time':>7}")
    try:
        repo = build_repo(work / "repo", 2000)
        config = work / "teamops.toml"
        config.write_text('[dora]\ndeploy_workflows = ["deploy.yml"]\n')
        for n in (opts.runs, 2 * opts.runs):
            with FakeGitHub({"acme/bench": repo}) as gh:
                gh.repos["acme/bench"].workflows = [
                    {"id": 11, "name": "Deploy", "path": ".github/workflows/deploy.yml"}
                ]
                gh.repos["acme/bench"].runs = runs_for(repo, n)
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
                started = time.perf_counter()
                subprocess.run(args, env=env, check=True)
                seconds = time.perf_counter() - started
                actions = sum(1 for _, path, _ in gh.log if "/actions/" in path)
                before = len(gh.log)
                subprocess.run(args, env=env, check=True)
                again = sum(1 for _, path, status in gh.log[before:] if "/actions/" in path and status != 304)
                import sqlite3

                conn = sqlite3.connect(db)
                stored = conn.execute("SELECT COUNT(*) FROM deployments WHERE source = 'workflow'").fetchone()[0]
                conn.close()
                print(f"{n:>6,} {actions:>17} {math.ceil(n / 100) + 5:>7} {stored:>12,} {again:>15} {seconds:>6.1f}s")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
