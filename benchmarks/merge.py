"""Merging shard databases against inserting the same rows into one file, measured in the same run.

Run from the repository root:  python -m benchmarks.merge [--shards 10] [--commits 100000]

Each shard holds one repository of `--commits` commits, written by the store's own batch writer (as
a sync writes them). The floor writes all of the shards' rows into one fresh file the same way;
`teamops merge`'s work (teamops.merge.merge_file, in this process like the floor) then merges the
shards into another fresh file. Target: the merge within 2x the floor.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

from teamops.records import CommitRecord
from teamops.store.commits import commit_row, save_commit_rows, save_repo
from teamops.store.database import open_database

BATCH = 2000


def records(repo: int, n: int) -> list[CommitRecord]:
    """`n` commits of one repository: a chain, a few authors, line counts."""
    out = []
    parent = ""
    for i in range(n):
        sha = f"{repo:04x}{i:036x}"
        out.append(
            CommitRecord(
                sha=sha,
                parents=[parent] if parent else [],
                author_name=f"Dev {i % 17}",
                author_email=f"dev{i % 17}@acme.io",
                authored_at=f"20{20 + i % 6}-{1 + i % 12:02d}-{1 + i % 28:02d}T10:00:00Z",
                author_tz_offset=0,
                committed_at=f"20{20 + i % 6}-{1 + i % 12:02d}-{1 + i % 28:02d}T10:00:00Z",
                message=f"Change {i} of repository {repo}\n\nWith a body line.",
                additions_total=i % 50,
                deletions_total=i % 7,
                files_total=1 + i % 4,
                files_known=False,
            )
        )
        parent = sha
    return out


def write(path: Path, shards: list[list[CommitRecord]], first: int = 0) -> float:
    """Seconds to write these repositories' commits (numbered from `first`) into a fresh file with the
    store's writer."""
    db = open_database(path)
    start = time.perf_counter()
    for i, commits in enumerate(shards, start=first):
        repo_id = save_repo(db, f"github:bench/r{i}", f"bench/r{i}", "github", f"bench/r{i}")
        rows = [commit_row(repo_id, c, None) for c in commits]
        for k in range(0, len(rows), BATCH):
            save_commit_rows(db, rows[k : k + BATCH], None)
    took = time.perf_counter() - start
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.conn.close()
    return took


def main() -> None:
    from teamops.merge import merge_file

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shards", type=int, default=10)
    parser.add_argument("--commits", type=int, default=100_000)
    opts = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="teamops-mergebench-"))
    try:
        data = [records(i, opts.commits) for i in range(opts.shards)]
        files = [work / f"shard-{i}.db" for i in range(opts.shards)]
        for i, (path, commits) in enumerate(zip(files, data, strict=True)):
            write(path, [commits], first=i)
        floor = write(work / "one.db", data)
        into = open_database(work / "merged.db")
        start = time.perf_counter()
        for path in files:
            merge_file(into, path)
        merged = time.perf_counter() - start
        stored = into.execute("SELECT COUNT(*) FROM commits").fetchone()[0]
        start = time.perf_counter()
        for path in files:
            merge_file(into, path)
        again = time.perf_counter() - start
        into.conn.close()
        total = opts.shards * opts.commits
        assert stored == total, (stored, total)
        print(f"{opts.shards} shards x {opts.commits:,} commits ({total:,} rows)")
        print(f"floor: the same rows into one file   {floor:7.2f} s")
        print(f"merge: the shards into a fresh file  {merged:7.2f} s  ({merged / floor:.2f}x the floor; target <= 2x)")
        print(f"merge again (nothing new)            {again:7.2f} s")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
