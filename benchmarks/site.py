"""Dashboard benchmark: `teamops report html` on 100,000 commits, 1,000 deployments and 20 people in 4 teams.

Run from the repository root:  python -m benchmarks.site [--commits 100000] [--tags 1000]

Prints, measured in the same run:
- the floor: every section's report computed in-process (the queries the `kpi` commands run), no chart
  drawn and no HTML;
- the whole site built in-process, and its ratio to the floor;
- the whole `teamops report html` process (target <= 2 s), pages written, and index.html's size
  (target <= 500 KB).
"""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import subprocess
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from benchmarks.dora import tag_every
from benchmarks.ingest import best_of, build_repo, teamops, timed

PEOPLE, TEAMS = 20, 4


def spread(db: Path) -> None:
    """Twenty people in four teams, the commits dealt among them (the synthetic history has five authors)."""
    for n in range(PEOPLE):
        handle = f"dev{n:02d}"
        team = f"team-{n % TEAMS}"
        subprocess.run(teamops("--db", str(db), "people", "add", handle, "--team", team), check=True)
    conn = sqlite3.connect(db)
    with conn:
        ids = [pid for (pid,) in conn.execute("SELECT id FROM people ORDER BY id")]
        conn.execute("CREATE TEMP TABLE deal (k INTEGER PRIMARY KEY, pid INTEGER)")
        conn.executemany("INSERT INTO deal VALUES (?, ?)", list(enumerate(ids)))
        conn.execute("UPDATE commits SET person_id = (SELECT pid FROM deal WHERE k = commits.id % ?)", [len(ids)])
    conn.close()


def in_process(db: Path, out: Path | None) -> float:
    """The site's sections (out None: computed only) or the whole site written, in this process."""
    from teamops.config import Config
    from teamops.render.site import Site, build
    from teamops.store.reader import open_reader

    reader = open_reader(db, None)
    assert reader is not None
    now = datetime.now(UTC)
    start = time.perf_counter()
    if out is None:  # the reports alone: no chart drawn, no page written
        import teamops.render.svg as svg

        draw, svg.svg = svg.svg, lambda chart, ident: ""
        try:
            Site(reader, Config(), now).pages()
        finally:
            svg.svg = draw
    else:
        build(reader, Config(), out, now)
    seconds = time.perf_counter() - start
    reader.close()
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--commits", type=int, default=100_000)
    parser.add_argument("--tags", type=int, default=1_000)
    parser.add_argument("--runs", type=int, default=3)
    opts = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="teamops-bench-site-"))
    try:
        t = time.perf_counter()
        repo = build_repo(work / "repo", opts.commits)
        tag_every(repo, opts.tags)
        db = work / "t.db"
        subprocess.run(teamops("--db", str(db), "sync-commits", "--repo", str(repo)), check=True)
        spread(db)
        print(
            f"built {opts.commits:,} commits, {opts.tags:,} release tags and {PEOPLE} people, synced, "
            f"in {time.perf_counter() - t:.1f} s"
        )
        floor = best_of(opts.runs, lambda: in_process(db, None))
        site = best_of(opts.runs, lambda: in_process(db, work / "site-a"))
        whole = best_of(
            opts.runs, lambda: timed(teamops("--db", str(db), "report", "html", "--out", str(work / "site")))
        )
        pages = sorted((work / "site").rglob("*.html"))
        index_kb = (work / "site" / "index.html").stat().st_size / 1024
        total_kb = sum(p.stat().st_size for p in pages) / 1024
        print(f"floor: every section's report, no chart, in-process    {floor:6.2f} s")
        print(f"the whole site written, in-process                    {site:6.2f} s   {site / floor:.2f}x the floor")
        print(f"teamops report html, whole process                    {whole:6.2f} s   (target <= 2 s)")
        print(f"{len(pages)} pages, {total_kb:,.0f} KB; index.html {index_kb:,.0f} KB (target <= 500 KB)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
