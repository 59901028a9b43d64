"""Pull requests: what a sync of many costs against the fake GitHub, and `kpi prs` / `kpi reviews` on many.

Run from the repository root:  python -m benchmarks.pulls [--pulls 10000] [--reviews 3] [--report-pulls 100000]

1. A repository with `--pulls` pull requests of `--reviews` reviews each on the fake GitHub: the
   requests of a first sync (target for the pull requests: ceil(N/50) + 3), and of a re-run with
   nothing changed (target: 0 counted; conditional requests answered 304 are free).
2. `--report-pulls` merged pull requests (three reviews each) written with the store's writer; each
   report's whole process beside its floor, as benchmarks/kpi.py measures it: the SQL it ran,
   replayed in a bare Python that also imports Typer when that SQL takes under 0.1 s. Target <= 2x.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.kpi import QUICK_SQL_S, TRACE, _floor, _timed
from tests.fakes.github import FakeGitHub, pull_node

NOW = "2026-11-24T12:00:00Z"
COMMITS = 200
HISTORY_PAGES = math.ceil(COMMITS / 100)


def sync_cost(work: Path, pulls: int, reviews: int) -> None:
    repo = work / "repo"
    subprocess.run([sys.executable, "-m", "tests.support.synth", str(repo), str(COMMITS)], check=True)
    rng = random.Random(7)
    nodes = []
    for n in range(1, pulls + 1):
        day = 1 + n % 28
        reviewers = [(f"dev{rng.randrange(20)}", "APPROVED", f"2026-10-{day:02d}T15:00:00Z") for _ in range(reviews)]
        nodes.append(
            pull_node(
                n,
                author=f"dev{n % 20}",
                created=f"2026-10-{day:02d}T09:00:00Z",
                updated=f"2026-10-{day:02d}T{n % 24:02d}:{n % 60:02d}:00Z",
                merged=f"2026-10-{day:02d}T17:00:00Z",
                state="MERGED",
                reviews=reviewers,
            )
        )
    with FakeGitHub({"acme/big": repo}) as gh:
        gh.repos["acme/big"].pulls = nodes
        gh.remaining = 1_000_000
        env = {**os.environ, "GITHUB_TOKEN": gh.token, "TEAMOPS_GITHUB_API_URL": gh.url}
        args = [sys.executable, "-m", "teamops", "--quiet", "--db", str(work / "sync.db"), "sync-commits"]
        start = time.perf_counter()
        subprocess.run([*args, "--repo", "acme/big"], env=env, check=True)
        took = time.perf_counter() - start
        first = gh.counted()
        # the pull requests' share: their listing and every GraphQL request but the history's pages
        listing = sum(1 for _, path, status in gh.log if status != 304 and "/pulls" in path)
        pull_requests = listing + sum(1 for _, path, _ in gh.log if "graphql" in path) - HISTORY_PAGES
        before = len(gh.log)
        subprocess.run([*args, "--repo", "acme/big"], env=env, check=True)
        rerun = gh.log[before:]
    print(f"{pulls:,} pull requests with {pulls * reviews:,} reviews: first sync {took:.1f} s")
    print(f"  requests, all:                 {first:>6,}")
    target = math.ceil(pulls / 50) + 3
    print(f"  of them for pull requests:     {pull_requests:>6,}  (target ceil(N/50) + 3 = {target:,})")
    print(f"  re-run, nothing changed:       {len(rerun):>6} requests, {sum(1 for e in rerun if e[2] != 304)} counted")


def build(db: Path, pulls: int) -> None:
    from teamops.records import PullRecord, ReviewRecord
    from teamops.store.commits import save_repo
    from teamops.store.database import open_database
    from teamops.store.pulls import save_pulls

    conn = open_database(db)
    repo_id = save_repo(conn, "github:acme/big", "acme/big", "github", "acme/big")
    rng = random.Random(11)
    batch = []
    for n in range(1, pulls + 1):
        day = f"2026-{1 + n % 10:02d}-{1 + n % 28:02d}"
        reviews = [
            ReviewRecord(f"R{n}-{i}", f"dev{rng.randrange(30)}", "user", "APPROVED", f"{day}T{10 + i}:00:00Z")
            for i in range(3)
        ]
        batch.append(
            PullRecord(
                source="github",
                number=n,
                title=f"Change {n}",
                author=f"dev{n % 30}",
                author_kind="user",
                state="merged",
                draft=False,
                created_at=f"{day}T08:00:00Z",
                updated_at=f"{day}T16:00:00Z",
                ready_at=f"{day}T09:00:00Z",
                merged_at=f"{day}T16:00:00Z",
                additions=rng.randrange(1, 800),
                deletions=rng.randrange(0, 200),
                first_commit_at=f"{day}T07:00:00Z",
                reviews=reviews,
            )
        )
        if len(batch) == 2000:
            save_pulls(conn, repo_id, batch)
            batch = []
    if batch:
        save_pulls(conn, repo_id, batch)
    conn.execute("ANALYZE")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.conn.close()


def reports(work: Path, pulls: int, runs: int) -> None:
    db = work / "big.db"
    start = time.perf_counter()
    build(db, pulls)
    print(f"{pulls:,} merged pull requests and {3 * pulls:,} reviews written in {time.perf_counter() - start:.0f} s")
    env = {"TEAMOPS_NOW": NOW, "PATH": "/usr/bin:/bin"}
    print(f"{'report':<8} {'teamops':>8} {'sql':>8} {'floor':>8} {'floor':>6} {'ratio':>6}")
    for report in ("prs", "reviews"):
        args = ["--db", str(db), "kpi", report, "--since", "2026-01-01", "--until", "2027-01-01"]
        best = min(_timed([sys.executable, "-m", "teamops", *args], env) for _ in range(runs))
        traced = subprocess.run([sys.executable, "-c", TRACE, *args], capture_output=True, text=True, env=env)
        info = json.loads(next(x for x in traced.stderr.splitlines() if x.startswith("TRACE "))[6:])
        sql_file = work / f"{report}.json"
        sql_file.write_text(json.dumps(info["sql"]))
        floor, sql_s = _floor(db, sql_file, runs, typer=False)
        if sql_s < QUICK_SQL_S:
            floor, sql_s = _floor(db, sql_file, runs, typer=True)
        kind = "+typer" if sql_s < QUICK_SQL_S else "sql"
        print(f"{report:<8} {best:>7.2f}s {sql_s:>7.3f}s {floor:>7.2f}s {kind:>6} {best / floor:>5.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pulls", type=int, default=10_000)
    parser.add_argument("--reviews", type=int, default=3)
    parser.add_argument("--report-pulls", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    opts = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="teamops-pullbench-"))
    try:
        sync_cost(work, opts.pulls, opts.reviews)
        reports(work, opts.report_pulls, opts.runs)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
