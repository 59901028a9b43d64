"""Analyze benchmark: LLM concurrency against a slow fake server, cache re-runs, heuristic speed.

Run from the repository root:  python -m benchmarks.analyze [--commits 500] [--latency 0.2]
                                                            [--concurrency 8] [--heuristic 100000]

Prints: wall time of `teamops analyze` for N commits against a fake OpenAI-compatible server that
answers after `latency` seconds, divided by the ideal N × latency ÷ concurrency (target <= 1.3);
requests made by a re-run (target 0); and heuristic commits per second on a synthetic repository
(target >= 5,000/s).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.fakes.openai import FakeOpenAI


def teamops(*args: str, env: dict[str, str] | None = None) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "teamops", "--quiet", *args], check=True, env=env)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--commits", type=int, default=500)
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--heuristic", type=int, default=100_000)
    opts = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="teamops-anbench-"))
    try:
        repo = work / "repo"
        subprocess.run([sys.executable, "-m", "tests.support.synth", str(repo), str(opts.commits)], check=True)
        db = str(work / "llm.db")
        teamops("--db", db, "sync-commits", "--repo", str(repo))
        with FakeOpenAI(latency=opts.latency) as fake:
            env = {**os.environ, "OPENAI_API_KEY": fake.key}
            args = [
                "--db",
                db,
                "analyze",
                "--model",
                "openai/gpt-4o-mini",
                "--api-base",
                fake.url,
                "--concurrency",
                str(opts.concurrency),
                "--budget-usd",
                "100",
            ]
            took = teamops(*args, env=env)
            calls = len(fake.requests)
            teamops(*args, env=env)
            rerun = len(fake.requests) - calls
        ideal = calls * opts.latency / opts.concurrency
        probe = "import os; os.environ['LITELLM_LOCAL_MODEL_COST_MAP'] = 'True'; import litellm"
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", probe], check=True)
        importing = time.perf_counter() - start
        print(
            f"LLM: {calls} calls at {opts.latency:.2f} s latency, concurrency {opts.concurrency}; ideal {ideal:.2f} s"
        )
        print(
            f"  whole process {took:.2f} s = {took / ideal:.2f}x the ideal; starting Python and importing litellm: {importing:.2f} s"
        )
        print(
            f"  estimating (whole process - import) {took - importing:.2f} s = {(took - importing) / ideal:.2f}x the ideal (target <= 1.3)"
        )
        print(f"re-run: {rerun} requests (target 0)")
        if opts.heuristic:
            big = work / "big"
            subprocess.run([sys.executable, "-m", "tests.support.synth", str(big), str(opts.heuristic)], check=True)
            hdb = str(work / "h.db")
            teamops("--db", hdb, "sync-commits", "--repo", str(big))
            from teamops.estimation.estimate import AnalyzeOptions, run_analyze
            from teamops.store.database import open_database

            database = open_database(hdb)
            start = time.perf_counter()
            result = run_analyze(database, AnalyzeOptions())
            took = time.perf_counter() - start
            print(
                f"heuristic: {result.estimated:,} commits in {took:.2f} s = {result.estimated / took:,.0f} commits/s "
                "(target >= 5,000/s)"
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
