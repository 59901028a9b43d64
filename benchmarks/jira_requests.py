"""Jira request cost and time: `teamops sync-tasks` over a Jira Cloud site served by the fake Jira.

Run from the repository root:  python -m benchmarks.jira_requests [--issues 20000]

Builds a site of N issues in one project over a year of two-week sprints on one board: each issue planned
into a sprint, estimated, moved To Do → In Progress → In Review → Done (most of them), some re-estimated, some
carried over; one in fifty has a long changelog (past the 100 entries a search embeds). At N and 2N it prints:
- the requests teamops used, beside the budget ⌈issues/100⌉ + ⌈cut changelogs/1000⌉ + boards + sprint pages
  + 5 (the field listing and the board listing among the five);
- the search requests of a no-change re-run (target: one per pass);
- the whole-process time of the first sync and the floor measured in the same run: a bare httpx client
  fetching exactly the pages teamops fetched (what any reader of the same answers must pay), their ratio,
  and how teamops' time beyond the floor grew from N to 2N (linear: about 2x).
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
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from tests.fakes.jira import EMAIL, TOKEN, FakeJira, Site, user

START = datetime(2025, 11, 3, 9, tzinfo=UTC)
PEOPLE = [user(f"acct-{k}", f"Person {k}", f"p{k}@acme.example" if k % 2 else None) for k in range(12)]


def build(n: int) -> tuple[Site, datetime]:
    """A year of sprints on board 1 and n issues of project BIG, each with its own history."""
    site = Site()
    site.board(1, "BIG")
    sprints = []
    for k in range(26):
        begin = START + timedelta(days=14 * k)
        state = "closed" if k < 24 else ("active" if k == 24 else "future")
        sprints.append(site.sprint(1, 100 + k, f"BIG Sprint {k + 1}", begin, begin + timedelta(days=12), state))
    for i in range(n):
        k = (i * 25) // n  # the sprint it is planned into
        begin = START + timedelta(days=14 * k)
        created = begin - timedelta(days=3, minutes=i % 600)
        who = PEOPLE[i % len(PEOPLE)]
        issue = site.issue(f"BIG-{i + 1}", f"Issue {i + 1}", created, points=float(1 + i % 8), reporter=who)
        site.plan(issue, created + timedelta(hours=1), [sprints[k]], by=who)
        site.assign(issue, created + timedelta(hours=2), who)
        at = begin + timedelta(hours=1 + i % 200)
        site.move(issue, at, "In Progress", who)
        if i % 5 == 0:
            site.estimate(issue, at + timedelta(hours=2), float(2 + i % 8), who)
        if i % 50 == 7:  # a long history: past the 100 entries a search embeds
            for j in range(60):
                site.move(issue, at + timedelta(minutes=3 + 2 * j), "In Review", who)
                site.move(issue, at + timedelta(minutes=4 + 2 * j), "In Progress", who)
        if i % 10 != 9:
            site.move(issue, at + timedelta(hours=30), "In Review", who)
            site.move(issue, at + timedelta(hours=50), "Done", who)
        elif k + 1 < len(sprints):
            site.plan(issue, begin + timedelta(days=12, hours=2), [sprints[k], sprints[k + 1]], by=who)
    return site, START + timedelta(days=14 * 26 + 1)  # after every change: a re-run finds nothing new


def floor_seconds(url: str, log: list[tuple[str, str, Any]]) -> float:
    """The same requests with a bare client, bodies as teamops sent them: what reading the answers costs."""
    started = time.perf_counter()
    with httpx.Client(auth=(EMAIL, TOKEN), timeout=60) as client:
        for method, path, body in log:
            client.request(method, url + path, json=body)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--issues", type=int, default=20_000)
    opts = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="teamops-jirabench-"))
    print(
        f"{'issues':>7} {'cut':>4} {'requests':>9} {'budget':>7} {'re-run search':>14} "
        f"{'teamops':>8} {'floor':>7} {'ratio':>6} {'beyond floor':>13}"
    )
    beyond = []
    try:
        for n in (opts.issues, 2 * opts.issues):
            site, now = build(n)
            cut = sum(1 for i in site.issues.values() if len(i.histories) > 100)
            with FakeJira(site, now) as fake:
                recorded: list[tuple[str, str, Any]] = []
                original = fake._answer

                def keep(
                    h: Any,
                    method: str,
                    path: str,
                    query: dict[str, str],
                    body: Any,
                    *,
                    into: list[tuple[str, str, Any]] = recorded,
                    answer: Any = original,
                ) -> int:
                    full = path + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")
                    into.append((method, full, body))
                    return int(answer(h, method, path, query, body))

                fake._answer = keep  # type: ignore[method-assign]
                config = work / "teamops.toml"
                config.write_text(f'[jira]\nurl = "{fake.url}"\nprojects = ["BIG"]\n')
                env = {
                    **os.environ,
                    "TEAMOPS_CONFIG": str(config),
                    "JIRA_EMAIL": EMAIL,
                    "JIRA_API_TOKEN": TOKEN,
                    "TEAMOPS_NOW": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
                }
                db = work / f"{n}.db"
                args = [sys.executable, "-m", "teamops", "--quiet", "--db", str(db), "sync-tasks"]
                started = time.perf_counter()
                subprocess.run(args, env=env, check=True)
                seconds = time.perf_counter() - started
                used = len(fake.log)
                first = list(recorded)
                before = len(fake.log)
                subprocess.run(args, env=env, check=True)
                again = sum(1 for _, path, _ in fake.log[before:] if path.endswith("/search/jql"))
                floor = floor_seconds(fake.url, first)
            sprint_pages = math.ceil(26 / 50)
            budget = math.ceil(n / 100) + math.ceil(cut / 1000) + 1 + sprint_pages + 5
            beyond.append(seconds - floor)
            print(
                f"{n:>7,} {cut:>4} {used:>9} {budget:>7} {again:>14} {seconds:>7.1f}s {floor:>6.1f}s "
                f"{seconds / floor:>5.1f}x {seconds - floor:>12.1f}s"
            )
        print(f"time beyond the floor, 2N against N: {beyond[1] / beyond[0]:.2f}x")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
