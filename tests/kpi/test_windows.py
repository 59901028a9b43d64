"""Default windows follow the data: an old history shows its last weeks, an empty range says what exists."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from teamops.kpi.windows import Window, resolve, suggest_last

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
PINNED = {"TEAMOPS_NOW": "2026-12-01T10:00:00Z"}


@pytest.fixture
def old_repo(make_repo, cli, isolated):
    """A project whose last commit is months old, as most public projects' clones are."""
    repo = make_repo()
    repo.commit("first", {"a.py": "1\n"}, author=("Ana", "ana@x.io"), date="2024-02-01T10:00:00+00:00")
    repo.commit("fix", {"a.py": "1\n2\n"}, author=("Ana", "ana@x.io"), date="2025-06-10T10:00:00+00:00")
    repo.commit("docs", {"b.md": "x\n"}, author=("Bo", "bo@x.io"), date="2025-06-14T20:00:00+00:00")
    db = str(isolated / "t.db")
    assert cli("--db", db, "sync-commits", "--repo", str(repo.path)).exit_code == 0
    assert cli("--db", db, "analyze").exit_code == 0
    return db


def test_resolve_keeps_a_window_that_has_data():
    win = resolve(None, None, None, NOW, default_weeks=4, latest_before=lambda m: "2026-11-30T09:00:00Z")
    assert (win.since, win.until, win.anchored_at) == ("2026-11-03T10:00:00Z", "2026-12-01T10:00:00Z", None)
    assert win.how == "the last 4 weeks"


def test_resolve_moves_an_empty_default_window_to_the_latest_activity():
    win = resolve(None, None, None, NOW, default_weeks=4, latest_before=lambda m: "2025-06-14T20:00:00Z")
    assert (win.since, win.until) == ("2025-05-18T00:00:00Z", "2025-06-15T00:00:00Z")
    assert win.label == "2025-05-18 to 2025-06-14"
    assert win.how == "the 4 weeks up to the latest activity, 2025-06-14; nothing since"


def test_resolve_never_moves_a_window_the_user_asked_for():
    asked = resolve("2026-11-01", "2026-11-07", None, NOW, default_weeks=4, latest_before=lambda m: "2020-01-01")
    assert (asked.since, asked.until, asked.how) == ("2026-11-01T00:00:00Z", "2026-11-08T00:00:00Z", None)
    assert resolve(None, None, "3d", NOW).since == "2026-11-28T10:00:00Z"
    assert resolve(None, None, None, NOW) == Window(None, None)


def test_suggestions_reach_past_the_latest_activity():
    for days in (3, 40, 200, 535, 2000):
        latest = NOW - timedelta(days=days)
        last = suggest_last(latest.isoformat(), NOW)
        win = resolve(None, None, last, NOW)
        assert win.since is not None and win.since < latest.strftime("%Y-%m-%dT%H:%M:%SZ"), (days, last)


def test_summary_of_an_old_history_shows_its_last_weeks_and_people(cli, old_repo):
    res = cli("--db", old_repo, "kpi", env=PINNED)
    assert res.exit_code == 0, res.output
    out = res.stdout
    assert "Team summary, 2025-05-18 to 2025-06-14" in out
    assert "the 4 weeks up to the latest activity, 2025-06-14; nothing since" in out
    assert "2 commits by 2 people (+2 / -0 lines)" in out
    assert "top people │ Ana 1, Bo 1" in out
    assert "history    │ commits from 2024-02-01 to 2025-06-14" in out
    assert "sync-commits" not in out and "n/a" not in out
    assert "add tasks and sprints" in out and "teamops sync-tasks" in out
    assert "(unmapped) Ana <ana@x.io>" in out  # the activity table of the same window


def test_summary_json_is_the_same_window(cli, old_repo):
    data = json.loads(cli("--db", old_repo, "kpi", "-f", "json", env=PINNED).stdout)
    assert (data["since"], data["until"]) == ("2025-05-18T00:00:00Z", "2025-06-15T00:00:00Z")
    assert data["totals"]["commits"] == 2 and data["totals"]["estimated_commits"] == 2
    assert {r["metric"] for r in data["rows"]} == {"period", "commits", "AI points", "top people", "history"}
    assert data["sprint"] is None and data["efficiency"] is None


def test_an_empty_range_says_what_exists_instead_of_asking_for_a_sync(cli, old_repo):
    res = cli("--db", old_repo, "kpi", "activity", "--last", "4w", env=PINNED)
    assert res.exit_code == 0
    assert res.stdout == (
        "no commits from 2026-11-03 to 2026-12-01; 3 commits stored, 2024-02-01 to 2025-06-14: try --last 19m\n"
    )
    hinted = json.loads(cli("--db", old_repo, "kpi", "activity", "--last", "19m", "-f", "json", env=PINNED).stdout)
    assert [r["commits"] for r in hinted["rows"]] == [1, 1]


def test_a_person_filter_names_the_person_in_the_hint(cli, old_repo):
    assert cli("--db", old_repo, "people", "add", "ana", "--email", "ana@x.io").exit_code == 0
    res = cli("--db", old_repo, "kpi", "activity", "--person", "ana", "--since", "2025-06-01", env=PINNED)
    assert "no commits by ana from 2025-06-01 to 2026-12-01" not in res.stdout  # ana has one there
    res = cli("--db", old_repo, "kpi", "activity", "--person", "ana", "--since", "2025-07-01", env=PINNED)
    assert res.stdout.startswith(
        "no commits by ana since 2025-07-01; 2 commits by ana stored, 2024-02-01 to 2025-06-10"
    )


def test_init_next_hint_works_on_an_old_history(cli, make_repo, monkeypatch):
    repo = make_repo()
    repo.commit("old", {"a": "1\n"}, author=("Ana", "ana@x.io"), date="2025-01-10T10:00:00+00:00")
    monkeypatch.chdir(repo.path)
    init = cli("init", "--yes")
    assert "next: teamops sync-commits && teamops kpi" in init.stderr
    assert cli("sync-commits").exit_code == 0
    summary = cli("kpi", env=PINNED)
    assert summary.exit_code == 0 and "Ana 1" in summary.stdout


def test_efficiency_default_window_follows_the_last_finished_task(cli, isolated):
    old = {"TEAMOPS_NOW": "2025-03-03T09:00:00Z"}
    cli("people", "add", "ann", env=old)
    cli("task", "add", "Ship", "-R", "ann", "-A", "ann", "--no-send", env=old)
    cli("task", "update", "1", "--status", "in_progress", env=old)
    cli("task", "done", "1", env={"TEAMOPS_NOW": "2025-03-04T09:00:00Z"})
    data = json.loads(cli("kpi", "efficiency", "-f", "json", env=PINNED).stdout)
    assert data["until"] == "2025-03-05T00:00:00Z" and [r["task"] for r in data["rows"]] == ["#1"]
    cyc = json.loads(cli("kpi", "cycle-time", "-f", "json", env=PINNED).stdout)
    assert cyc["tasks"] == 1


def test_once_there_are_tasks_every_section_speaks_of_one_period(cli, make_repo):
    """A task done yesterday moves the default window to the last 4 weeks, and commits, deployments and pull
    requests are counted over that same period (none), with the stored history named, never mixed in."""
    repo = make_repo()
    for day in (3, 10, 20):
        repo.commit(
            f"work {day}",
            {f"f{day}.py": "1\n"},
            author=("Ann", "ann@acme.io"),
            date=f"2026-03-{day:02d}T10:00:00+00:00",
        )
    repo.git("tag", "v1.0.0")
    cli("sync-commits", "--repo", str(repo.path))
    cli("people", "add", "ann", "--email", "ann@acme.io")
    now = {"TEAMOPS_NOW": "2026-12-01T10:00:00Z"}
    cli("task", "add", "Fresh", "-R", "ann", "-A", "ann", "--no-send", env={"TEAMOPS_NOW": "2026-11-30T10:00:00Z"})
    cli("task", "done", "1", env={"TEAMOPS_NOW": "2026-11-30T12:00:00Z"})
    data = json.loads(cli("kpi", "-f", "json", env=now).stdout)
    assert data["since"][:10] == "2026-11-03"  # the default window follows the newest activity: the task
    assert data["totals"]["commits"] == 0 and data["commit_window"] is None
    assert data["dora"]["deployments"] == 0 and data["delivery_window"] is None
    table = cli("kpi", env=now).stdout
    assert "none in this period" in table and "commits from 2026-03-03 to 2026-03-20" in table
    assert "Commit activity" not in table  # no table of another period under this one's title
    # A window asked for is kept as it is.
    asked = json.loads(cli("kpi", "summary", "--last", "2w", "-f", "json", env=now).stdout)
    assert asked["totals"]["commits"] == 0 and asked["commit_window"] is None


def test_dora_on_an_old_history_suggests_a_window_that_holds_deployments(cli, make_repo):
    repo = make_repo()
    repo.commit("one", {"a.py": "1\n"}, date="2025-01-10T10:00:00+00:00")
    repo.git("tag", "v1.0.0")
    cli("sync-commits", "--repo", str(repo.path))
    res = cli("kpi", "dora", "--last", "6m", env={"TEAMOPS_NOW": "2026-12-01T10:00:00Z"})
    assert "1 deployment stored, 2025-01-10 to 2025-01-10: try --last 25m" in res.stdout + res.stderr, res.output
    hinted = cli("kpi", "dora", "--last", "25m", "-f", "json", env={"TEAMOPS_NOW": "2026-12-01T10:00:00Z"})
    assert json.loads(hinted.stdout)["deployments"] == 1
