"""GitLab request cost and time: `teamops sync-commits` over a group of projects served by a fake GitLab.

Run from the repository root:  python -m benchmarks.gitlab_requests [--projects 3] [--commits 1000] [--mrs 300]

Builds `--projects` projects of N commits (a merge every third commit, tests/support/synth.py) with
`--mrs` merge requests each (every one merged with a merge commit, a review request and an approval in
its notes), then at N and 2N prints:
- the requests teamops used per project, beside the budget: ceil(commits/100) + ceil(MRs/100) + notes
  pages + 5 per project;
- the requests a no-change re-run used per project (target: at most one per stream);
- the whole-process time, and the floor measured in the same run: bare httpx clients fetching exactly
  the pages teamops fetched, one thread per project as teamops' workers do (what any reader of the same
  answers must pay), and their ratio;
- how teamops' time beyond the floor grew from N to 2N (linear: about 2x).
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
from pathlib import Path
from urllib.parse import urlencode

import httpx

from tests.fakes.gitlab import FakeGitLab, merge_requests_from_merges
from tests.support.synth import build_repo


def floor_seconds(fake: FakeGitLab, log: list[tuple[str, dict[str, list[str]], int]], projects: list[str]) -> float:
    """Fetch every page teamops fetched with bare clients, one thread per project as teamops' workers run them:
    what reading the same answers costs, before any of teamops' own work."""
    from concurrent.futures import ThreadPoolExecutor

    def fetch(name: str) -> None:
        prefix = f"/api/v4/projects/{name.replace('/', '%2F')}"
        with httpx.Client(headers={"PRIVATE-TOKEN": fake.token}) as client:
            for path, query, _ in log:
                if path.startswith(prefix):
                    client.get(f"{fake.url}{path}?{urlencode({k: v[0] for k, v in query.items()})}").json()

    started = time.perf_counter()
    with ThreadPoolExecutor(len(projects)) as pool:
        list(pool.map(fetch, projects))
    return time.perf_counter() - started


def run(work: Path, projects: int, commits: int, mrs: int) -> tuple[float, float, list[int], list[int], list[int]]:
    paths = {f"bench/p{i}": build_repo(work / f"{commits}-p{i}", commits, merge_every=2) for i in range(projects)}
    with FakeGitLab(paths) as fake:
        made = [merge_requests_from_merges(fake, name, mrs) for name in paths]
        env = {**os.environ, "GITLAB_TOKEN": fake.token, "TEAMOPS_GITLAB_URL": fake.url}
        args = [sys.executable, "-m", "teamops", "--quiet", "--db", str(work / f"{commits}.db"), "sync-commits"]
        args += [a for name in paths for a in ("--repo", f"gitlab:{name}")]
        started = time.perf_counter()
        subprocess.run(args, env=env, check=True)
        seconds = time.perf_counter() - started
        first = list(fake.log)
        per_project = [
            sum(1 for p, _, _ in first if p.startswith(f"/api/v4/projects/{n.replace('/', '%2F')}")) for n in paths
        ]
        budgets = []
        for name, n in zip(paths, made, strict=True):
            total = int(
                subprocess.run(
                    ["git", "-C", str(paths[name]), "rev-list", "--count", "main"], capture_output=True, text=True
                ).stdout
            )
            budgets.append(math.ceil(total / 100) + math.ceil(n / 100) + n + 5)
        subprocess.run(args, env=env, check=True)
        again = fake.log[len(first) :]
        rerun = [
            sum(1 for p, _, _ in again if p.startswith(f"/api/v4/projects/{n.replace('/', '%2F')}")) for n in paths
        ]
        floor = floor_seconds(fake, first, list(paths))
    return seconds, floor, per_project, budgets, rerun


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--projects", type=int, default=3)
    parser.add_argument("--commits", type=int, default=1000)
    parser.add_argument("--mrs", type=int, default=300)
    opts = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="teamops-glbench-"))
    print(
        f"{'commits':>8} {'MRs':>5} {'requests/project':>18} {'budget':>7} {'re-run':>7} {'teamops':>8} {'floor':>7} {'ratio':>6}"
    )
    try:
        beyond = []
        for scale in (1, 2):
            commits, mrs = opts.commits * scale, opts.mrs * scale
            seconds, floor, used, budgets, rerun = run(work, opts.projects, commits, mrs)
            beyond.append(seconds - floor)
            print(
                f"{commits:>8,} {mrs:>5} {'/'.join(map(str, used)):>18} {max(budgets):>7} {max(rerun):>7} "
                f"{seconds:>7.2f}s {floor:>6.2f}s {seconds / floor:>5.1f}x"
            )
            if any(u > b for u, b in zip(used, budgets, strict=True)):
                print("  over the budget", file=sys.stderr)
        print(f"time beyond the floor grew {beyond[1] / beyond[0]:.2f}x from N to 2N")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
