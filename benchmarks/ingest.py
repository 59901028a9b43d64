"""Ingest benchmark: `teamops sync-commits` against raw `git log --numstat` on synthetic histories shaped like
a GitHub project (merge and squash subjects, edited merge titles, `pull/N` merges, a bot, release tags every
~50 commits, maintenance lines only their tags reach: tests/support/synth.py), at N and 2N commits.

Run from the repository root:  python -m benchmarks.ingest [--commits 25000] [--memory-commits 100000]

Prints, measured in the same run, at N and at 2N:
- the floor: `git log --numstat -z` with its output read through a pipe (what any reader must pay;
  the same command writing to /dev/null is printed too, for reference);
- teamops' whole-process time for a first sync, and its ratio to the floor (target <= 1.5x);
- a no-change re-run's whole-process time (target <= 0.5 s);
- how teamops' time beyond start-up grew from N to 2N (linear: ~2x);
- peak resident memory of the teamops process itself on a larger repository (target <= 150 MB),
  beside the peak of the git child it reads from.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

# Runs teamops in-process and reports its own peak RSS apart from its children's (git).
RSS_PROBE = """
import atexit, json, resource, sys
def report():
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    sys.__stderr__.write("RSS " + json.dumps([own, kids]) + "\\n")
atexit.register(report)
sys.argv = ["teamops"] + sys.argv[1:]
from teamops.cli.app import main
main()
"""


def build_repo(path: Path, commits: int) -> Path:
    """Built in a child process, so this process stays small (Linux carries peak RSS across exec)."""
    subprocess.run([sys.executable, "-m", "tests.support.synth", str(path), str(commits), "--github"], check=True)
    return path


def timed(args: list[str], sink: int | None = subprocess.DEVNULL) -> float:
    start = time.perf_counter()
    proc = subprocess.run(args, check=True, stdout=sink)
    _ = proc.stdout
    return time.perf_counter() - start


def best_of(n: int, fn: Callable[[], float]) -> float:
    return min(fn() for _ in range(n))


def teamops(*args: str) -> list[str]:
    return [sys.executable, "-m", "teamops", "--quiet", *args]


def fresh(db: Path) -> Path:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    return db


def measure(repo: Path, db: Path, runs: int) -> tuple[float, float, float, float]:
    """(first sync, no-change re-run, floor through a pipe, git log to /dev/null), best of `runs` each."""
    git_log = ["git", "-C", str(repo), "log", "--numstat", "-z", "main"]
    devnull = best_of(runs, lambda: timed(git_log))
    floor = best_of(runs, lambda: timed(git_log, subprocess.PIPE))
    ours = best_of(runs, lambda: timed(teamops("--db", str(fresh(db)), "sync-commits", "--repo", str(repo))))
    rerun = best_of(runs, lambda: timed(teamops("--db", str(db), "sync-commits", "--repo", str(repo))))
    return ours, rerun, floor, devnull


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--commits", type=int, default=25_000)
    parser.add_argument("--memory-commits", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    opts = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="teamops-bench-"))
    try:
        small = build_repo(work / "small", 60)
        base = best_of(
            opts.runs, lambda: timed(teamops("--db", str(fresh(work / "s.db")), "sync-commits", "--repo", str(small)))
        )
        print(f"start-up: a first sync of 60 commits takes {base:.2f} s")
        beyond = []
        for n in (opts.commits, 2 * opts.commits):
            t = time.perf_counter()
            repo = build_repo(work / f"repo{n}", n)
            print(f"\n{n:,} commits built with git fast-import in {time.perf_counter() - t:.1f} s")
            ours, rerun, floor, devnull = measure(repo, work / f"ingest{n}.db", opts.runs)
            beyond.append(ours - base)
            print(f"git log --numstat > /dev/null        {devnull:6.2f} s   (reference)")
            print(f"floor: git log --numstat | reader    {floor:6.2f} s")
            print(
                f"teamops sync-commits, whole process  {ours:6.2f} s   {ours / floor:.2f}x the floor (target <= 1.5x)"
            )
            print(f"no-change re-run, whole process      {rerun:6.2f} s   (target <= 0.5 s)")
        print(
            f"\nfrom N to 2N, teamops' time beyond start-up grew {beyond[1] / max(beyond[0], 0.01):.2f}x (linear: ~2x)"
        )
        if opts.memory_commits:
            big = build_repo(work / "big", opts.memory_commits)
            proc = subprocess.run(
                [
                    sys.executable,
                    "-c",
                    RSS_PROBE,
                    "--quiet",
                    "--db",
                    str(work / "big.db"),
                    "sync-commits",
                    "--repo",
                    str(big),
                ],
                check=True,
                capture_output=True,
                text=True,
            )
            line = next(x for x in proc.stderr.splitlines() if x.startswith("RSS "))
            own, git = json.loads(line[4:])
            print(
                f"peak RSS, {opts.memory_commits:,} commits: teamops {own / 1024:.0f} MB (target <= 150 MB), its git child {git / 1024:.0f} MB"
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
