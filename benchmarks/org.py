"""A whole organisation against a fake GitHub: requests spent and what side-by-side workers buy.

Run from the repository root:  python -m benchmarks.org [--repos 200] [--commits 500] [--latency 0.1]

One synthetic history is served as `--repos` repositories of one organisation, each answer delayed by
`--latency` seconds (as a distant API is). `teamops sync-commits --repo 'bench/*'` runs at
concurrency 1 and at 4, each into a fresh database. Prints requests beside the target
sum(ceil(N_i/100)) + 3 per repository + ceil(R/100) (the listing), and the wall times with their
ratio (target: concurrency 4 at least 3x faster than 1).
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

from tests.fakes.github import FakeGitHub, ServedRepo


def run(gh: FakeGitHub, db: Path, concurrency: int) -> tuple[float, int]:
    """Whole-process wall time and counted requests of one sync of the organisation."""
    env = {**os.environ, "GITHUB_TOKEN": gh.token, "TEAMOPS_GITHUB_API_URL": gh.url}
    args = [sys.executable, "-m", "teamops", "--quiet", "--db", str(db), "sync-commits", "--repo", "bench/*"]
    before = gh.counted()
    start = time.perf_counter()
    subprocess.run([*args, "--concurrency", str(concurrency)], env=env, check=True)
    return time.perf_counter() - start, gh.counted() - before


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repos", type=int, default=200)
    parser.add_argument("--commits", type=int, default=500)
    parser.add_argument("--latency", type=float, default=0.1, help="seconds the fake server waits per request")
    opts = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="teamops-orgbench-"))
    try:
        source = work / "history"
        subprocess.run([sys.executable, "-m", "tests.support.synth", str(source), str(opts.commits)], check=True)
        names = [f"bench/r{i:03d}" for i in range(opts.repos)]
        with FakeGitHub({names[0]: source}) as gh:
            commits = gh.repos[names[0]].commits
            for name in names[1:]:
                gh.repos[name] = ServedRepo(source, commits)
            gh.latency = opts.latency
            gh.remaining = gh.limit = 1_000_000
            n = len(commits)
            target = opts.repos * (math.ceil(n / 100) + 3) + math.ceil(opts.repos / 100)
            serial, serial_requests = run(gh, work / "one.db", 1)
            side, side_requests = run(gh, work / "four.db", 4)
        print(f"{opts.repos} repositories x {n:,} commits, {opts.latency * 1000:.0f} ms per request")
        print(f"{'concurrency':>11} {'requests':>9} {'target':>7} {'wall':>8}")
        print(f"{1:>11} {serial_requests:>9,} {target:>7,} {serial:>7.1f}s")
        print(f"{4:>11} {side_requests:>9,} {target:>7,} {side:>7.1f}s")
        print(f"speed-up at 4: {serial / side:.2f}x (target >= 3x)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
