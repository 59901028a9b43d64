"""`teamops task import` of a large tracker export: whole-process time for 100,000 rows.

Run from the repository root:  python -m benchmarks.task_import [--rows 100000]

Writes a plain CSV (key, title, a description, points, status, created, done, assignee) and times
`teamops task import` into a fresh database, then the same file again (every row unchanged).
Target: 100,000 rows in <= 10 s.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    opts = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="teamops-importbench-"))
    try:
        lines = ["key,title,description,points,status,created,done,assignee"]
        for i in range(opts.rows):
            done = f"2026-{1 + i % 12:02d}-{1 + i % 27:02d}" if i % 3 else ""
            status = "done" if done else "todo"
            lines.append(
                f'K-{i},Task number {i} about the export,"As a user I want thing {i}, so that it works",'
                f"{i % 13},{status},2025-{1 + i % 12:02d}-{1 + i % 27:02d},{done},dev{i % 25}@acme.io"
            )
        csv_path = work / "export.csv"
        csv_path.write_text("\n".join(lines) + "\n")
        cmd = [sys.executable, "-m", "teamops", "--quiet", "--db", str(work / "t.db"), "task", "import", str(csv_path)]
        for label in ("first import", "again (unchanged)"):
            start = time.perf_counter()
            subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
            took = time.perf_counter() - start
            print(
                f"{label:<18} {opts.rows:,} rows ({csv_path.stat().st_size / 1e6:.1f} MB): {took:.2f} s (target <= 10 s)"
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
