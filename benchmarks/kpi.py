"""KPI benchmark: every `teamops kpi` report on a large synthetic database, beside the SQL's own cost.

Run from the repository root:  python -m benchmarks.kpi [--commits 1000000] [--tasks 100000] [--events 1000000] [--keep big.db]

The generator writes people, repos, commits with estimates, sprints, tasks with roles and events
straight into a teamops database. For each report it prints the whole-process time of
`python -m teamops kpi REPORT -f json` (and, beside it, of the default table) and the floor: the exact SQL statements that report ran
(captured with sqlite3's trace callback), replayed through the sqlite3 module in a bare Python
process; when that SQL takes under 0.1 s, the bare process also imports Typer, since no Typer command
can start for less. Targets: each report <= 0.5 s and <= 2x its floor; no report imports litellm or PyGithub.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

# Below this much SQL the process start dominates, so the floor is a bare Python that imports Typer
# (the least any Typer command pays) and then runs the same SQL.
QUICK_SQL_S = 0.1
REPORTS = ["summary", "velocity", "burndown", "efficiency", "cycle-time", "activity", "ai"]
# The marks assistants leave, on one commit in five and one in eleven: what `kpi ai` finds.
MARKS = {
    5: "\n\nCo-Authored-By: Claude <noreply@anthropic.com>",
    11: "\n\nCo-authored-by: Cursor <cursoragent@cursor.com>",
}
NOW = "2026-11-24T12:00:00Z"
TRACE = """
import json, sys
sys.argv = ["teamops"] + sys.argv[1:]
import sqlite3
statements = []
real_connect = sqlite3.connect
def connect(*a, **k):
    conn = real_connect(*a, **k)
    conn.set_trace_callback(statements.append)
    return conn
sqlite3.connect = connect
try:
    from teamops.cli.app import main
    main()
except SystemExit:
    pass
finally:
    heavy = sorted(m for m in ("litellm", "github") if m in sys.modules)
    sys.__stderr__.write("TRACE " + json.dumps({"sql": statements, "heavy": heavy}) + "\\n")
"""
FLOOR = """
import json, sqlite3, sys, time
if sys.argv[3:] == ["typer"]:
    import typer
statements = json.load(open(sys.argv[2]))
start = time.perf_counter()
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
for sql in statements:
    conn.execute(sql).fetchall()
print(time.perf_counter() - start)
"""


def build(db_path: Path, commits: int, tasks: int, events: int) -> None:
    """Create the schema with teamops itself (reports no longer create a database), then fill it fast."""
    from teamops.store.database import open_database

    open_database(db_path).conn.close()
    rnd = random.Random(7)
    conn = sqlite3.connect(db_path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute("BEGIN")
    people = 40
    conn.executemany(
        "INSERT INTO people (id, handle, given_name, team, created_at, updated_at) VALUES (?, ?, ?, ?, 'x', 'x')",
        [(i, f"dev{i}", f"Developer {i}", f"team{i % 5}") for i in range(1, people + 1)],
    )
    conn.execute("INSERT INTO repos (id, key, name, kind, created_at) VALUES (1, 'git:bench', 'bench', 'git', 'x')")
    base = 1_600_000_000
    span = 1_795_000_000 - base

    def iso(ts: float) -> str:
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))

    batch = []
    for i in range(1, commits + 1):
        ts = base + span * i / commits
        merge = i % 50 == 0
        batch.append(
            (
                i,
                1,
                f"{i:040x}",
                f"Developer {i % people + 1}",
                f"dev{i % people + 1}@acme.io",
                i % people + 1,
                iso(ts),
                60,
                iso(ts),
                f"change {i}" + "".join(mark for every, mark in MARKS.items() if not merge and i % every == 0),
                None if merge else rnd.randint(1, 400),
                None if merge else rnd.randint(0, 200),
                None if merge else rnd.randint(1, 8),
                int(merge),
            )
        )
        if len(batch) == 50_000:
            conn.executemany(
                "INSERT INTO commits (id, repo_id, sha, author_name, author_email, person_id, authored_at, "
                "author_tz_offset, committed_at, message, additions, deletions, files_changed, is_merge) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                batch,
            )
            batch = []
    conn.execute(
        "INSERT INTO estimates (commit_id, repo_id, sha, model, prompt_version, status, points, hours, confidence, "
        "rationale, created_at) SELECT id, repo_id, sha, 'heuristic', 'h1', 'ok', (id % 5) + 1, (id % 7) * 0.5, 0.3, "
        "'', authored_at FROM commits"
    )
    # what sync and analyze keep beside each commit
    conn.execute(
        "UPDATE commits SET author_day = date(authored_at, author_tz_offset || ' minutes'), "
        "ai_points = (id % 5) + 1, ai_hours = (id % 7) * 0.5"
    )
    sprints = 60
    first = time.mktime(time.strptime("2024-08-05", "%Y-%m-%d"))
    for s in range(1, sprints + 1):
        start = first + (s - 1) * 14 * 86400
        end = start + 11 * 86400
        status = "closed" if s < sprints else "active"
        conn.execute(
            "INSERT INTO sprints (id, name, start_date, end_date, status, started_at, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, 'x')",
            [
                s,
                f"Sprint {s}",
                time.strftime("%Y-%m-%d", time.gmtime(start)),
                time.strftime("%Y-%m-%d", time.gmtime(end)),
                status,
                iso(start),
            ],
        )
    rows: list[tuple[Any, ...]] = []
    roles: list[tuple[int, str, int]] = []
    evs: list[tuple[int, str, str, str | None, str | None]] = []
    snap: list[tuple[int, int, int | None, str]] = []
    per_task = max(1, events // tasks)
    for t in range(1, tasks + 1):
        sprint = t % (sprints + 20) + 1 if t % (sprints + 20) < sprints else None
        created = base + span * t / tasks
        if sprint:
            created = first + (sprint - 1) * 14 * 86400 - 86400
        started = created + rnd.randint(1, 5) * 86400
        done = started + rnd.randint(1, 6) * 86400
        finished = t % 4 != 0
        points = None if t % 17 == 0 else rnd.choice([1, 2, 3, 5, 8])
        rows.append(
            (
                t,
                f"T-{t}",
                f"Task {t}",
                "done" if finished else "in_progress",
                points,
                8.0,
                9.0,
                sprint,
                iso(started),
                iso(done) if finished else None,
                iso(created),
                iso(created),
            )
        )
        roles += [(t, "R", t % people + 1), (t, "A", (t + 1) % people + 1)]
        evs.append((t, iso(created), "created", None, f"Task {t}"))
        evs.append((t, iso(created), "status", None, "todo"))
        evs.append((t, iso(started), "status", "todo", "in_progress"))
        if finished:
            evs.append((t, iso(done), "status", "in_progress", "done"))
        if sprint:
            evs.append((t, iso(created), "sprint", None, f"Sprint {sprint}"))
            evs.append((t, iso(created), "points", None, str(points) if points else None))
            snap.append((sprint, t, points, iso(created + 86400)))
        for k in range(max(0, per_task - 6)):
            evs.append((t, iso(created + k), "spent_hours", None, str(k)))
    conn.executemany(
        "INSERT INTO tasks (id, key, title, status, points, estimate_hours, spent_hours, sprint_id, started_at, done_at, "
        "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )
    conn.executemany("INSERT INTO task_roles (task_id, role, person_id) VALUES (?, ?, ?)", roles)
    conn.executemany("INSERT INTO task_events (task_id, at, field, old, new) VALUES (?, ?, ?, ?, ?)", evs)
    conn.executemany(
        "INSERT INTO sprint_tasks (sprint_id, task_id, committed_points, snapshot_at) VALUES (?, ?, ?, ?)", snap
    )
    conn.execute("COMMIT")
    conn.execute("ANALYZE")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    print(f"database: {commits:,} commits, {tasks:,} tasks, {len(evs):,} task events, {sprints} sprints")


def _floor(db: Path, sql_file: Path, runs: int, typer: bool) -> tuple[float, float]:
    """The best whole-process time of replaying a report's SQL, and the SQL's own share of it."""
    best = (float("inf"), float("inf"))
    for _ in range(runs):
        cmd = [sys.executable, "-c", FLOOR, str(db), str(sql_file)] + (["typer"] if typer else [])
        start = time.perf_counter()
        out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
        best = min(best, (time.perf_counter() - start, float(out)))
    return best


def _timed(cmd: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, env=env)
    return time.perf_counter() - start


def find_assists(db_path: Path) -> int:
    """The assisted commits among every stored one, as the first sync after an upgrade finds them."""
    from teamops.assists.detect import detect
    from teamops.config import Config
    from teamops.store.database import open_database

    db = open_database(db_path)
    try:
        return detect(db, Config())
    finally:
        db.conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--commits", type=int, default=1_000_000)
    parser.add_argument("--tasks", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--keep", type=Path, help="build the database at this path once and reuse it on later runs")
    opts = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="teamops-kpibench-"))
    try:
        db = opts.keep or work / "big.db"
        if not db.exists():
            t = time.perf_counter()
            build(db, opts.commits, opts.tasks, opts.events)
            print(f"built in {time.perf_counter() - t:.0f} s")
            t = time.perf_counter()
            found = find_assists(db)
            print(f"AI assists: {found:,} commits found in {time.perf_counter() - t:.1f} s (what sync-commits runs)")
        env = {"TEAMOPS_NOW": NOW, "PATH": "/usr/bin:/bin"}
        starts = {
            "python": [sys.executable, "-c", "pass"],
            "python + import typer": [sys.executable, "-c", "import typer"],
            "teamops --version": [sys.executable, "-m", "teamops", "--version"],
        }
        for label, cmd in starts.items():
            best = min(_timed(cmd, env) for _ in range(opts.runs))
            print(f"start-up, {label}: {best:.3f} s")
        print(
            f"{'report':<12} {'teamops':>8} {'sql':>8} {'floor':>8} {'floor':>6} {'ratio':>6} {'table':>8}  heavy imports"
        )
        for report in REPORTS:
            args = ["--db", str(db), "kpi", report, "-f", "json"]

            best = min(_timed([sys.executable, "-m", "teamops", *args], env) for _ in range(opts.runs))
            table = min(_timed([sys.executable, "-m", "teamops", *args[:-2]], env) for _ in range(opts.runs))
            traced = subprocess.run([sys.executable, "-c", TRACE, *args], capture_output=True, text=True, env=env)
            info = json.loads(next(x for x in traced.stderr.splitlines() if x.startswith("TRACE "))[6:])
            sql_file = work / f"{report}.json"
            sql_file.write_text(json.dumps(info["sql"]))
            floor, sql_s = _floor(db, sql_file, opts.runs, typer=False)
            if sql_s < QUICK_SQL_S:
                floor, sql_s = _floor(db, sql_file, opts.runs, typer=True)
            heavy = ", ".join(info["heavy"]) or "none"
            kind = "+typer" if sql_s < QUICK_SQL_S else "sql"
            print(
                f"{report:<12} {best:>7.2f}s {sql_s:>7.3f}s {floor:>7.2f}s {kind:>6} {best / floor:>5.2f}x "
                f"{table:>7.2f}s  {heavy}"
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
