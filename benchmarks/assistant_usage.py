"""Copilot usage reports: a first sync of a year of an organisation's reports through the fake GitHub, and
`kpi ai --usage` over it, each beside a floor measured in the same run, at N and 2N people.

Run from the repository root:  python -m benchmarks.assistant_usage [--people 250]

Sync floor: the same report files downloaded with a bare httpx client and each line parsed with json.loads
(what any reader must do). Report floor: one SQL scan of the window's account-days joined to identities.
Targets: requests = 2, and 2 per older day with a report (1 without); time linear in account-days.
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from tests.fakes.github import CopilotReports, FakeGitHub, copilot_user

NOW = "2026-12-07T12:00:00Z"
LATEST = date(2026, 12, 5)
DAYS = 365


def reports(people: int, seed: int = 1) -> CopilotReports:
    """A year of `people` accounts, each active on three days in five."""
    rng = random.Random(seed)
    found = CopilotReports(latest=LATEST.isoformat())
    day = LATEST - timedelta(days=DAYS - 3)
    while day <= LATEST:
        iso = day.isoformat()
        found.users[iso] = [
            copilot_user(
                iso,
                f"dev{p}",
                prompts=rng.randint(0, 20),
                generations=(g := rng.randint(1, 40)),
                acceptances=rng.randint(0, g),
                suggested=rng.randint(10, 300),
                added=rng.randint(0, 120),
            )
            for p in range(people)
            if rng.random() < 0.6
        ]
        day += timedelta(days=1)
    return found


def floor_sync(gh: FakeGitHub, asked: list[str]) -> float:
    """The same API requests and every file the sync read, fetched and parsed line by line by a bare client."""
    import httpx

    urls = [f"{gh.url}/_reports/{name}?sig={r.signature}" for r in gh.copilot.values() for name in r.served]
    began = time.perf_counter()
    with httpx.Client(headers={"Authorization": f"token {gh.token}"}) as api:
        for path in asked:
            api.get(gh.url + path)
    with httpx.Client() as http:
        for url in urls:
            for line in http.get(url).content.splitlines():
                json.loads(line)
    return time.perf_counter() - began


def run(people: int, work: Path) -> None:
    gh = FakeGitHub({"acme/api": make_repo(work / "api")})
    gh.copilot["acme"] = reports(people)
    config = work / "teamops.toml"
    config.write_text(
        f'[[repos]]\npath = "{work / "api"}"\n\n[github]\ncopilot_orgs = ["acme"]\ncopilot_days = {DAYS}\n'
    )
    db = work / f"usage-{people}.db"
    env = {
        "GITHUB_TOKEN": gh.token,
        "TEAMOPS_GITHUB_API_URL": gh.url,
        "TEAMOPS_CONFIG": str(config),
        "TEAMOPS_NOW": NOW,
    }
    with gh:
        began = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "teamops", "--db", str(db), "sync-commits"],
            env={**env, "PATH": "/usr/bin:/bin"},
            capture_output=True,
            text=True,
        )
        took = time.perf_counter() - began
        assert done.returncode == 0, done.stderr
        asked = [path for _, path, _ in gh.log if "/copilot/" in path]
        floor = floor_sync(gh, asked)
    rows = sqlite3.connect(db).execute("SELECT count(*) FROM assistant_users").fetchone()[0]
    report = gh.copilot["acme"]
    first, start = LATEST - timedelta(days=DAYS - 2), LATEST - timedelta(days=27)
    older = [(first + timedelta(days=i)).isoformat() for i in range((start - first).days)]
    target = 2 + sum(2 if day in report.users else 1 for day in older)  # a day without a report: one 404
    print(
        f"{people:>5} people, {rows:>7,} account-days: sync {took:5.2f} s (whole process), floor {floor:5.2f} s, "
        f"{took / floor:4.1f}x; {len(asked)} requests (target {target})"
    )
    from teamops.kpi.assistant_usage import assistant_usage
    from teamops.store.database import open_database

    store = open_database(str(db))
    for by in ("week", "person"):
        began = time.perf_counter()
        assistant_usage(store, "2025-12-01T00:00:00Z", "2026-12-07T00:00:00Z", by)
        took = time.perf_counter() - began
        began = time.perf_counter()
        store.execute(
            "SELECT count(*), sum(lines_added) FROM assistant_users u LEFT JOIN identities i "
            "ON i.kind = u.account_kind AND i.value = lower(u.login) WHERE u.day >= '2025-12-01'"
        ).fetchall()
        floor = time.perf_counter() - began
        print(f"        kpi ai --usage --by {by:<6} {took:5.3f} s, floor {floor:5.3f} s, {took / floor:4.1f}x")


def make_repo(path: Path) -> Path:
    path.mkdir(parents=True)
    subprocess.run(["git", "init", "-q", "-b", "main", str(path)], check=True)
    subprocess.run(
        [
            "git",
            "-C",
            str(path),
            "-c",
            "user.name=A",
            "-c",
            "user.email=a@b.c",
            "commit",
            "-q",
            "--allow-empty",
            "-m",
            "x",
        ],
        check=True,
    )
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=250)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for n in (args.people, 2 * args.people):
            run(n, Path(tmp) / str(n))


if __name__ == "__main__":
    main()
