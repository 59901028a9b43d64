"""Delivery-metrics benchmark: deployments from 1,000 release tags on a 100,000-commit repository.

Run from the repository root:  python -m benchmarks.dora [--commits 100000] [--tags 1000]

Prints, measured in the same run:
- the floor: one `git log --format='%H %P'` of the whole history read through a pipe;
- the first computation, in-process (tags read, deployments stored, each deployment's first-shipped
  commits found and stored) and its ratio to the floor (target <= 2x), and the same as a whole
  `teamops sync-commits` process (commits already synced, so the tags are the only news);
- a re-run with nothing new, whole process (target <= 0.5 s);
- `teamops kpi dora` over all history, whole process.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.ingest import best_of, build_repo, timed


def teamops(*args: str) -> list[str]:
    return [sys.executable, "-m", "teamops", "--quiet", *args]


def tag_every(repo: Path, tags: int) -> None:
    """Lightweight release tags spread evenly over main's first-parent history, written as packed refs."""
    shas = subprocess.run(
        ["git", "-C", str(repo), "rev-list", "--first-parent", "--reverse", "main"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    step = max(1, len(shas) // tags)
    lines = [f"{sha} refs/tags/v{n // 100}.{n % 100}.0" for n, sha in enumerate(shas[step - 1 :: step][:tags])]
    packed = repo / ".git" / "packed-refs"
    packed.write_text(
        "# pack-refs with: peeled fully-peeled sorted \n" + "\n".join(sorted(lines, key=lambda x: x.split()[1])) + "\n"
    )


def in_process_first(db: Path, repo: Path) -> float:
    """sync_tags alone, in this process: what the first computation costs beyond start-up."""
    from teamops.config import Config
    from teamops.integrations.git_local import GitRepo
    from teamops.sources.git.commits import local_repo_row
    from teamops.sources.git.tags import sync_tags
    from teamops.store.database import open_database

    database = open_database(db)
    clone = GitRepo.open(repo)
    repo_id, _ = local_repo_row(database, clone)
    start = time.perf_counter()
    result = sync_tags(database, Config(), clone, repo_id)
    seconds = time.perf_counter() - start
    assert result is not None and result.added > 0
    database.conn.close()
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--commits", type=int, default=100_000)
    parser.add_argument("--tags", type=int, default=1_000)
    parser.add_argument("--runs", type=int, default=3)
    opts = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="teamops-bench-dora-"))
    try:
        t = time.perf_counter()
        repo = build_repo(work / "repo", opts.commits)
        base = work / "synced.db"
        subprocess.run(teamops("--db", str(base), "sync-commits", "--repo", str(repo)), check=True)
        tag_every(repo, opts.tags)
        print(
            f"built {opts.commits:,} commits, synced them and tagged {opts.tags:,} releases in {time.perf_counter() - t:.1f} s"
        )
        floor = best_of(
            opts.runs, lambda: timed(["git", "-C", str(repo), "log", "--all", "--format=%H %P"], subprocess.PIPE)
        )

        def first_in_process() -> float:
            db = work / "first.db"
            shutil.copy(base, db)
            return in_process_first(db, repo)

        def first_whole() -> float:
            db = work / "whole.db"
            shutil.copy(base, db)
            return timed(teamops("--db", str(db), "sync-commits", "--repo", str(repo)))

        ours = best_of(opts.runs, first_in_process)
        whole = best_of(opts.runs, first_whole)
        rerun = best_of(
            opts.runs, lambda: timed(teamops("--db", str(work / "whole.db"), "sync-commits", "--repo", str(repo)))
        )
        report = best_of(
            opts.runs, lambda: timed(teamops("--db", str(work / "whole.db"), "kpi", "dora", "--since", "2000-01-01"))
        )
        print(f"floor: git log --all --format='%H %P' | reader   {floor:6.2f} s")
        print(
            f"first computation, in-process                    {ours:6.2f} s   {ours / floor:.2f}x the floor (target <= 2x)"
        )
        print(f"first computation, whole sync-commits process    {whole:6.2f} s   {whole / floor:.2f}x the floor")
        print(f"re-run with nothing new, whole process           {rerun:6.2f} s   (target <= 0.5 s)")
        print(f"kpi dora over all history, whole process         {report:6.2f} s")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
