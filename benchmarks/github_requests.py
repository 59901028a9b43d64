"""GitHub request cost: what `teamops sync-commits --repo owner/name` spends against a fake GitHub.

Run from the repository root:  python -m benchmarks.github_requests [--sizes 1000 10000] [--latency 0]

For N commits with line counts it prints the requests teamops used, beside what the REST API needs
(one list request per 100 commits plus one get-commit request per commit, since only get-commit
carries line counts), and the requests a no-change re-run uses.
Targets: <= ceil(N/100) + 3 requests for N commits, plus the three listings (releases, deployments, incident issues)
the delivery metrics read and the ETag of the issues question the next sync asks; a no-change re-run <= 2 counted
requests (304s are free at GitHub).
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

from tests.fakes.github import FakeGitHub


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10_000])
    parser.add_argument("--latency", type=float, default=0.0, help="seconds the fake server waits per request")
    opts = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="teamops-ghbench-"))
    print(f"{'commits':>8} {'teamops':>8} {'target':>7} {'REST':>7} {'re-run':>7} {'counted':>8} {'time':>7}")
    try:
        for n in opts.sizes:
            repo = work / f"r{n}"
            subprocess.run([sys.executable, "-m", "tests.support.synth", str(repo), str(n)], check=True)
            with FakeGitHub({"acme/bench": repo}) as gh:
                gh.latency = opts.latency
                env = {**os.environ, "GITHUB_TOKEN": gh.token, "TEAMOPS_GITHUB_API_URL": gh.url}
                args = [
                    sys.executable,
                    "-m",
                    "teamops",
                    "--quiet",
                    "--db",
                    str(work / f"{n}.db"),
                    "sync-commits",
                    "--repo",
                    "acme/bench",
                ]
                start = time.perf_counter()
                subprocess.run(args, env=env, check=True)
                took = time.perf_counter() - start
                first = len(gh.log)
                subprocess.run(args, env=env, check=True)
                rerun = len(gh.log) - first
                counted = sum(1 for _, _, status in gh.log[first:] if status != 304)
            rest = math.ceil(n / 100) + n
            target = math.ceil(n / 100) + 3 + 3 + 1
            print(f"{n:>8,} {first:>8,} {target:>7,} {rest:>7,} {rerun:>7} {counted:>8} {took:>6.1f}s")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
