"""A small team's real history for the dashboard's tests: two teams, hostile names, releases, a sprint."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.conftest import GitBuilder, lines

NOW = {"TEAMOPS_NOW": "2026-11-14T09:00:00Z"}
HOSTILE_NAME = "<img src=x onerror=alert(1)>Eve"
HOSTILE_TEAM = '"><script>alert(2)</script>'
EMAILS = ("ann@web.example", "ben@ops.example", "eve@web.example", "zed@nobody.example")


def at(when: str) -> dict[str, str]:
    return {"TEAMOPS_NOW": when}


def build_world(cli: Any, root: Path) -> Path:
    """A clone with four authors over nine weeks, three releases (one a hotfix), a merge, two services, an
    incident, and a sprint."""
    repo = GitBuilder(root / "app")
    authors = [
        ("Ann Archer", EMAILS[0]),
        ("Ben Baker", EMAILS[1]),
        ("Eve", EMAILS[2]),
        ("Zed Unmapped", EMAILS[3]),
    ]
    n = 0
    for week in range(9):
        for k, who in enumerate(authors[: 1 + (week % 4)]):
            n += 1
            day = 1 + week * 7 + k
            month, dom = (9, day) if day <= 30 else (10, day - 30)
            repo.commit(
                f"change {n}",
                {f"src/m{n}.py": lines(5 + n * 3)},
                author=who,
                date=f"2026-{month:02d}-{dom:02d}T10:00:00+00:00",
            )
        if week == 2:
            repo.git("tag", "-a", "v1.0.0", "-m", "v1.0.0", env={"GIT_COMMITTER_DATE": "2026-09-17T12:00:00+00:00"})
        if week == 5:
            repo.git("tag", "-a", "v1.1.0", "-m", "v1.1.0", env={"GIT_COMMITTER_DATE": "2026-10-08T12:00:00+00:00"})
    # two changes an assistant co-wrote: the dashboard's AI section
    for n, day in ((1, 20), (2, 22)):
        repo.commit(
            f"assisted change {n}\n\nCo-Authored-By: Claude <noreply@anthropic.com>",
            {f"src/ai{n}.py": lines(4 + n)},
            author=authors[n - 1],
            date=f"2026-10-{day:02d}T11:00:00+00:00",
        )
    repo.git("checkout", "-q", "-b", "feature")
    repo.commit("feature work", {"src/feature.py": lines(40)}, author=authors[1], date="2026-10-28T10:00:00+00:00")
    repo.git("checkout", "-q", "main")
    repo.merge("feature", date="2026-10-29T10:00:00+00:00")
    repo.commit("fix the release", {"src/m1.py": lines(3)}, author=authors[0], date="2026-10-29T12:00:00+00:00")
    repo.git("tag", "-a", "v1.1.1", "-m", "v1.1.1", env={"GIT_COMMITTER_DATE": "2026-10-29T13:00:00+00:00"})

    # two services of the one repository, by their paths; an incident the day after v1.1.0 (fixed by v1.1.1)
    (root / "teamops.toml").write_text(
        '[[services]]\nname = "core"\npaths = ["src/m*.py"]\n'
        '[[services]]\nname = "feature"\npaths = ["src/feature.py"]\n'
    )
    t0 = at("2026-11-01T12:00:00Z")
    for args in (
        ["ann", "--name", "Ann Archer", "--email", EMAILS[0], "--team", "web"],
        ["ben", "--name", "Ben Baker", "--email", EMAILS[1], "--team", "ops"],
        ["eve", "--name", HOSTILE_NAME, "--email", EMAILS[2], "--team", HOSTILE_TEAM],
    ):
        assert cli("people", "add", *args, env=t0).exit_code == 0
    assert cli("sync-commits", "--repo", str(repo.path), env=t0).exit_code == 0
    opened = ["incident", "open", "Checkout <b>down</b>", "--at", "2026-10-09T09:00:00Z", "--severity", "sev2"]
    assert cli(*opened, env=t0).exit_code == 0
    assert cli("incident", "resolve", "1", "--at", "2026-10-09T15:00:00Z", env=t0).exit_code == 0
    cli("sprint", "add", "S1 <i>", "--start", "2026-11-02", "--end", "2026-11-13", env=t0)
    for title, pts in (("A", "3"), ("B", "5"), ("C", "2")):
        args = ["task", "add", title, "-R", "ann", "-A", "ben", "--points", pts, "--sprint", "S1 <i>", "--no-send"]
        assert cli(*args, env=t0).exit_code == 0
    cli("sprint", "start", "S1 <i>", env=at("2026-11-02T08:00:00Z"))
    cli("task", "update", "1", "--status", "done", env=at("2026-11-04T16:00:00Z"))
    cli("task", "update", "2", "--status", "done", env=at("2026-11-12T12:00:00Z"))
    return repo.path


def json_of(cli: Any, command: list[str]) -> dict[str, Any]:
    """What a section's command prints with --format json, at the moment the site was built."""
    res = cli(*command, "--format", "json", env=NOW)
    assert res.exit_code == 0, res.output
    return dict(json.loads(res.stdout))
