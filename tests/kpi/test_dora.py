"""Delivery metrics on real repositories, with git itself as the ground truth for what each deployment shipped."""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
from pathlib import Path

import pytest

from teamops.kpi.dora import band

PATTERN = re.compile(r"^v?\d+(\.\d+)+$")
WINDOW = ["--since", "2026-11-02", "--until", "2026-11-22"]


def tag(repo, name: str, date: str, annotated: bool = False, force: bool = False, at: str = "HEAD") -> None:
    env = {"GIT_COMMITTER_DATE": date, "GIT_COMMITTER_NAME": "Rel", "GIT_COMMITTER_EMAIL": "rel@acme.io"}
    args = ["tag", *(["-f"] if force else []), *(["-a", "-m", name] if annotated else []), name, at]
    repo.git(*args, env=env)


def ground_truth(path: Path) -> dict[str, str]:
    """Each non-merge commit → the earliest release tag (by its own date) that contains it, per `git tag --contains`."""
    out = subprocess.run(
        ["git", "-C", str(path), "for-each-ref", "--format=%(refname:strip=2) %(creatordate:unix)", "refs/tags"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    when = {name: int(ts) for name, ts in (line.split() for line in out.splitlines()) if PATTERN.search(name)}
    shas = subprocess.run(
        ["git", "-C", str(path), "rev-list", "--all", "--no-merges"], capture_output=True, text=True, check=True
    ).stdout.split()
    first = {}
    for sha in shas:
        containing = subprocess.run(
            ["git", "-C", str(path), "tag", "--contains", sha], capture_output=True, text=True, check=True
        ).stdout.split()
        released = [t for t in containing if t in when]
        if released:
            first[sha] = min(released, key=lambda t: (when[t], t))
    return first


def stored(db: Path) -> dict[str, str]:
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "SELECT dc.sha, d.name FROM deployment_commits dc JOIN deployments d ON d.id = dc.deployment_id "
            "JOIN commits c ON c.sha = dc.sha AND c.is_merge = 0"
        ).fetchall()
    return dict(rows)


@pytest.fixture
def released(make_repo, cli, isolated):
    """Releases on main and on a maintenance branch, a pre-release, a revert, a tag with no new commit."""
    repo = make_repo()
    c = {}
    c[1] = repo.commit("one", {"a.py": "1\n"}, date="2026-11-02T10:00:00+00:00")
    c[2] = repo.commit("two", {"a.py": "2\n"}, date="2026-11-03T10:00:00+00:00")
    tag(repo, "v1.0", "2026-11-03T10:00:00+00:00")  # lightweight: the commit's own date
    repo.git("checkout", "-q", "-b", "release-1.0")
    c["m1"] = repo.commit("fix on 1.0", {"b.py": "fix\n"}, date="2026-11-03T20:00:00+00:00")
    tag(repo, "v1.0.1", "2026-11-03T20:00:00+00:00")
    repo.git("checkout", "-q", "main")
    c[3] = repo.commit("three", {"c.py": "3\n"}, date="2026-11-05T10:00:00+00:00")
    c[4] = repo.commit("four", {"d.py": "4\n"}, date="2026-11-06T10:00:00+00:00")
    tag(repo, "v1.1", "2026-11-10T09:00:00+09:00", annotated=True)  # the tagger's own timezone
    repo.commit(f'Revert "three"\n\nThis reverts commit {c[3]}.', {"c.py": ""}, date="2026-11-12T10:00:00+00:00")
    c[5] = repo.commit("five", {"e.py": "5\n"}, date="2026-11-16T10:00:00+00:00")
    tag(repo, "v2.0rc1", "2026-11-16T10:00:00+00:00")  # a pre-release: not a production deployment
    c[6] = repo.commit("six", {"f.py": "6\n"}, date="2026-11-17T10:00:00+00:00")
    tag(repo, "v2.0", "2026-11-17T10:00:00+00:00")
    tag(repo, "v2.0.1", "2026-11-20T10:00:00+00:00", annotated=True)  # no new commit
    res = cli("sync-commits", "--repo", str(repo.path), "--branch", "main", "--branch", "release-1.0")
    assert res.exit_code == 0, res.output
    return repo, c, isolated / "teamops.db"


def test_each_deployment_shipped_exactly_what_git_says(released):
    repo, _, db = released
    assert stored(db) == ground_truth(repo.path)
    with sqlite3.connect(db) as conn:
        rows = dict(conn.execute("SELECT name, deployed_at FROM deployments").fetchall())
    assert rows == {
        "v1.0": "2026-11-03T10:00:00Z",
        "v1.0.1": "2026-11-03T20:00:00Z",
        "v1.1": "2026-11-10T00:00:00Z",  # 09:00 in +09:00
        "v2.0": "2026-11-17T10:00:00Z",
        "v2.0.1": "2026-11-20T10:00:00Z",
    }


def test_the_four_keys_of_the_worked_example(cli, released):
    data = json.loads(cli("kpi", "dora", *WINDOW, "-f", "json").stdout)
    assert data["report"] == "dora" and data["deployments"] == 5
    assert data["deploys_per_week"] == 1.67 and data["weeks_with_deployment"] == 1.0
    # lead times (h): v1.0 24, 0; v1.0.1 0; v1.1 110, 86; v2.0 127 (the revert), 24, 0; v2.0.1 none
    assert (data["lead_time_median_h"], data["lead_time_p85_h"], data["commits_deployed"]) == (24.0, 110.0, 8)
    why = {r["deployment"]: r["why"] for r in data["rows"] if r["failed"]}
    assert why == {
        "v1.0": "hotfix v1.0.1 after 10 h (same line, contains it)",
        "v1.1": "a commit it shipped was reverted",
    }
    assert data["change_failure_rate"] == 0.4
    assert data["time_to_restore_median_h"] == 94.0  # 10 h (v1.0 → v1.0.1) and 178 h (v1.1 → v2.0)
    # the unplanned fixes: v1.0.1 (v1.0's hotfix) and v2.0 (it shipped v1.1's revert)
    assert (data["rework"], data["rework_rate"]) == (2, 0.4)
    assert data["bands"] == {
        "deploys_per_week": "high",
        "lead_time_hours": "high",
        "change_failure_rate": "low",
        "time_to_restore_hours": "medium",
    }
    assert data["band"] == "low" and data["edition"] == "Accelerate State of DevOps Report 2023"
    assert [w["deployments"] for w in data["weeks"]] == [2, 1, 2]
    md = cli("kpi", "dora", *WINDOW, "-f", "markdown").stdout
    assert "xychart-beta" in md and "bar [2, 1, 2]" in md and "line [1, 1, 0]" in md
    summary = cli("kpi", "summary", *WINDOW).stdout
    assert "delivery (DORA)" in summary and "change fail rate 40%" in summary and "rework rate 40%" in summary


def test_a_retag_and_a_deleted_tag_are_followed_and_nothing_is_walked_twice(cli, released):
    repo, c, db = released
    again = cli("-v", "sync-commits", "--repo", str(repo.path), "--branch", "main", "--branch", "release-1.0")
    assert "deployments of" not in again.stderr  # tags unchanged: not even looked at
    tag(repo, "v2.0", "2026-11-18T10:00:00+00:00", force=True, at=c[5])  # moved back to five
    repo.git("tag", "-d", "v1.0.1")
    moved = cli("-v", "sync-commits", "--repo", str(repo.path), "--branch", "main", "--branch", "release-1.0")
    assert "1 changed, 1 removed" in moved.stderr, moved.stderr
    assert stored(db) == ground_truth(repo.path)
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT COUNT(*) FROM deployments WHERE name = 'v1.0.1'").fetchone() == (0,)


def test_a_commit_released_on_a_branch_first_counts_from_there(cli, make_repo, isolated):
    repo = make_repo()
    base = repo.commit("base", {"a": "0\n"}, date="2026-11-02T10:00:00+00:00")
    tag(repo, "v1.0", "2026-11-02T10:00:00+00:00")
    repo.git("checkout", "-q", "-b", "release-1")
    fix = repo.commit("fix", {"b": "1\n"}, date="2026-11-03T10:00:00+00:00")
    tag(repo, "v1.0.1", "2026-11-04T10:00:00+00:00")
    repo.git("checkout", "-q", "main")
    repo.merge("release-1", date="2026-11-06T10:00:00+00:00")
    tag(repo, "v1.1", "2026-11-07T10:00:00+00:00")
    cli("sync-commits", "--repo", str(repo.path), "--branch", "main")
    assert stored(isolated / "teamops.db") == {base: "v1.0", fix: "v1.0.1"} == ground_truth(repo.path)


def test_deploy_record_from_a_deploy_job_and_a_pushed_tag_without_known_commits(cli, make_repo, isolated, monkeypatch):
    repo = make_repo()
    repo.commit("one", {"a": "1\n"}, date="2026-11-02T10:00:00+00:00")
    second = repo.commit("two", {"a": "2\n"}, date="2026-11-03T10:00:00+00:00")
    monkeypatch.chdir(repo.path)
    cli("sync-commits")
    ok = cli("deploy", "record", "--sha", "HEAD~1", "--at", "2026-11-02T12:00:00+01:00")
    assert ok.exit_code == 0 and "(success): added, 1 commits shipped first" in ok.stderr, ok.output
    failed = cli("deploy", "record", "--sha", second, "--status", "failure", "--at", "2026-11-03T12:00:00Z")
    assert failed.exit_code == 0
    again = cli("deploy", "record", "--sha", "HEAD~1", "--at", "2026-11-02T11:00:00Z")
    assert ": same" in again.stderr  # the same deployment recorded twice
    bad = cli("deploy", "record", "--sha", "nope", "--status", "ok")
    assert bad.exit_code == 5 and "--status must be success or failure" in bad.stderr
    listed = json.loads(cli("deploy", "list", "-f", "json").stdout)["rows"]
    assert [(r["status"], r["source"]) for r in listed] == [("success", "record"), ("failure", "record")]
    data = json.loads(cli("kpi", "dora", *WINDOW, "-f", "json").stdout)
    assert data["deployments"] == 1 and data["change_failure_rate"] == 0.5 and data["failed"] == 1
    # A pushed release tag of a repository known only by its name: a deployment with no commits known.
    event = isolated / "tag.json"
    event.write_text(
        json.dumps(
            {
                "ref": "refs/tags/v3.0",
                "before": "0" * 40,
                "after": "a" * 40,
                "created": True,
                "deleted": False,
                "forced": False,
                "commits": [],
                "head_commit": None,
                "repository": {"full_name": "acme/other", "pushed_at": 1795000000},
            }
        )
    )
    pushed = cli("sync-commits", "--event", str(event), "--event-name", "push")
    assert pushed.exit_code == 0 and "deployment v3.0 added" in pushed.stderr, pushed.output
    with sqlite3.connect(repo.path / "teamops.db") as conn:
        assert conn.execute(
            "SELECT deployed_at, (SELECT COUNT(*) FROM deployment_commits WHERE deployment_id = d.id) "
            "FROM deployments d WHERE name = 'v3.0'"
        ).fetchone() == ("2026-11-18T11:06:40Z", 0)


@pytest.mark.parametrize(
    ("metric", "value", "expected"),
    [
        ("deploys_per_week", 5, "elite"),
        ("deploys_per_week", 1, "high"),
        ("deploys_per_week", 0.25, "medium"),
        ("deploys_per_week", 0.2, "low"),
        ("lead_time_hours", 23.9, "elite"),
        ("lead_time_hours", 24 * 7 - 1, "high"),
        ("lead_time_hours", 24 * 29, "medium"),
        ("lead_time_hours", 24 * 31, "low"),
        ("change_failure_rate", 0.05, "elite"),
        ("change_failure_rate", 0.15, "medium"),
        ("change_failure_rate", 0.16, "low"),
        ("time_to_restore_hours", 0.5, "elite"),
        ("time_to_restore_hours", 23, "high"),
        ("time_to_restore_hours", 100, "medium"),
        ("time_to_restore_hours", 200, "low"),
        ("lead_time_hours", None, None),
    ],
)
def test_bands_of_the_2023_report(metric, value, expected):
    assert band(metric, value) == expected


def test_an_incident_task_fails_the_deployment_before_it_and_times_the_restore(cli, make_repo, isolated):
    repo = make_repo()
    repo.commit("one", {"a": "1\n"}, date="2026-11-02T10:00:00+00:00")
    tag(repo, "v1.0", "2026-11-02T10:00:00+00:00")
    repo.commit("two", {"a": "2\n"}, date="2026-11-09T10:00:00+00:00")
    tag(repo, "v1.1", "2026-11-09T10:00:00+00:00")
    cli("sync-commits", "--repo", str(repo.path))
    cli("people", "add", "ann")
    opened = {"TEAMOPS_NOW": "2026-11-10T08:00:00Z"}
    cli("task", "add", "Incident: checkout down", "-R", "ann", "-A", "ann", "--no-send", env=opened)
    cli("task", "add", "Write the changelog", "-R", "ann", "-A", "ann", "--no-send", env=opened)
    cli("task", "update", "1", "--status", "done", env={"TEAMOPS_NOW": "2026-11-10T11:30:00Z"})
    data = json.loads(cli("kpi", "dora", *WINDOW, "-f", "json").stdout)
    why = {r["deployment"]: r["why"] for r in data["rows"] if r["failed"]}
    assert why == {"v1.1": "incident: Incident: checkout down"}
    # from v1.1's deployment (9 Nov 10:00) to its incident's close (10 Nov 11:30)
    assert data["change_failure_rate"] == 0.5 and data["time_to_restore_median_h"] == 25.5


def test_per_team_and_per_repository(cli, make_repo, isolated):
    api, web = make_repo("api"), make_repo("web")
    api.commit("api work", {"a": "1\n"}, author=("Ann", "ann@acme.io"), date="2026-11-02T10:00:00+00:00")
    tag(api, "v1.0", "2026-11-03T10:00:00+00:00", annotated=True)
    web.commit("web work", {"w": "1\n"}, author=("Wes", "wes@acme.io"), date="2026-11-02T10:00:00+00:00")
    tag(web, "v0.9", "2026-11-04T10:00:00+00:00", annotated=True)
    cli("people", "add", "ann", "--email", "ann@acme.io", "--team", "core")
    cli("people", "add", "wes", "--email", "wes@acme.io", "--team", "front")
    cli("sync-commits", "--repo", str(api.path), "--repo", str(web.path))
    every = json.loads(cli("kpi", "dora", *WINDOW, "-f", "json").stdout)
    assert every["deployments"] == 2 and [r["deployments"] for r in every["repos"]] == [1, 1]
    core = json.loads(cli("kpi", "dora", *WINDOW, "--team", "core", "-f", "json").stdout)
    assert [r["deployment"] for r in core["rows"]] == ["v1.0"] and core["lead_time_median_h"] == 24.0
    web_only = json.loads(cli("kpi", "dora", *WINDOW, "--repo", "web", "-f", "json").stdout)
    assert [r["deployment"] for r in web_only["rows"]] == ["v0.9"] and web_only["lead_time_median_h"] == 48.0
    unknown = cli("kpi", "dora", "--team", "nope")
    assert unknown.exit_code == 5
    assert cli("kpi", "dora", "--repo", "nope").exit_code == 5


def test_a_long_window_charts_months_not_hundreds_of_weeks(cli, released):
    from tests.support.mermaid import blocks, parse_xychart

    md = cli("kpi", "dora", "--since", "2026-01-01", "--until", "2026-11-28", "-f", "markdown").stdout
    (chart,) = [parse_xychart(b) for b in blocks(md)]
    assert chart.title == "Deployments per month" and chart.labels[0] == "2026-01" and chart.labels[-1] == "2026-11"
    assert chart.bars == [[0.0] * 10 + [5.0]] and chart.lines == [[0.0] * 10 + [2.0]]


def is_ancestor(path: Path, a: str, b: str) -> bool:
    return subprocess.run(["git", "-C", str(path), "merge-base", "--is-ancestor", a, b], check=False).returncode == 0


@pytest.fixture
def two_lines(make_repo, cli, isolated):
    """Two maintained lines (1.0 on a branch, 1.1 then 2.0 on main) releasing within hours of each other."""
    repo = make_repo()
    repo.commit("one", {"a.py": "1\n"}, date="2026-11-02T08:00:00+00:00")
    tag(repo, "v1.0.0", "2026-11-02T10:00:00+00:00", annotated=True)
    repo.git("checkout", "-q", "-b", "release-1.0")
    repo.commit("fix for 1.0", {"b.py": "fix\n"}, date="2026-11-02T13:00:00+00:00")
    repo.git("checkout", "-q", "main")
    two = repo.commit("two", {"c.py": "2\n"}, date="2026-11-02T11:00:00+00:00")
    tag(repo, "v1.1.0", "2026-11-02T12:00:00+00:00", annotated=True)  # the next feature release, 2 h later
    tag(repo, "v1.0.1", "2026-11-02T14:00:00+00:00", annotated=True, at="release-1.0")  # 1.0's hotfix
    repo.git("checkout", "-q", "-b", "side", "v1.1.0")
    repo.commit("side work", {"s.py": "s\n"}, date="2026-11-05T09:00:00+00:00")
    repo.git("checkout", "-q", "main")
    repo.commit("three", {"d.py": "3\n"}, date="2026-11-05T09:00:00+00:00")
    tag(repo, "v2.0.0", "2026-11-05T10:00:00+00:00", annotated=True)
    # Same line, within the window, but cut from a commit before 2.0.0: not its hotfix.
    tag(repo, "v2.0.1", "2026-11-05T12:00:00+00:00", annotated=True, at="side")
    repo.commit(f'Revert "two"\n\nThis reverts commit {two}.', {"c.py": ""}, date="2026-11-09T09:00:00+00:00")
    tag(repo, "v2.1.0", "2026-11-09T10:00:00+00:00", annotated=True)
    res = cli(
        "sync-commits", "--repo", str(repo.path), "--branch", "main", "--branch", "release-1.0", "--branch", "side"
    )
    assert res.exit_code == 0, res.output
    return repo


def test_only_a_patch_release_of_the_same_line_that_contains_it_is_a_hotfix(cli, two_lines):
    data = json.loads(cli("kpi", "dora", *WINDOW, "-f", "json").stdout)
    why = {r["deployment"]: r["why"] for r in data["rows"] if r["failed"]}
    assert why == {
        "v1.0.0": "hotfix v1.0.1 after 4 h (same line, contains it)",
        "v1.1.0": "a commit it shipped was reverted",  # not failed by 1.0.1 (another line) nor by 2.0.0
    }
    # git agrees on the ancestry each verdict rests on
    assert is_ancestor(two_lines.path, "v1.0.0", "v1.0.1") and is_ancestor(two_lines.path, "v1.0.0", "v1.1.0")
    assert not is_ancestor(two_lines.path, "v2.0.0", "v2.0.1")
    assert data["change_failure_rate"] == round(2 / 6, 3)
    # v1.0.0 restored by its hotfix (4 h); v1.1.0 by v2.1.0, which shipped the revert (166 h)
    assert data["restores"] == 2 and data["time_to_restore_median_h"] == 85.0


def test_the_release_line_can_be_configured(cli, two_lines, isolated):
    # Lines named by the major number alone: 1.1.0 now shares 1.0.0's line and contains it.
    (isolated / "teamops.toml").write_text("[dora]\nrelease_line = '^v?(\\d+)\\.'\n")
    data = json.loads(cli("kpi", "dora", *WINDOW, "-f", "json").stdout)
    why = {r["deployment"]: r["why"] for r in data["rows"] if r["failed"]}
    assert why["v1.0.0"] == "hotfix v1.1.0 after 2 h (same line, contains it)"
    (isolated / "teamops.toml").write_text("[dora]\nrelease_line = '^v?\\d+'\n")
    bad = cli("kpi", "dora", *WINDOW)
    assert bad.exit_code == 3 and "dora.release_line" in bad.stderr and "Traceback" not in bad.output


@pytest.mark.parametrize(
    ("name", "line"),
    [("2.3.1", "2.3"), ("v2.3", "2.3"), ("2.3.0", "2.3"), ("v10", "10.0"), ("1.2.3.4", "1.2.3"), ("deploy-abc", None)],
)
def test_release_lines_of_version_names(name, line):
    from teamops.kpi.dora import release_line

    assert release_line(name) == line


def test_frequency_is_per_week_of_the_window_and_a_retag_is_no_hotfix(cli, make_repo, isolated):
    """Two tags in a 28-day window are 0.5 a week (not 2 ÷ the 5 ISO weeks it touches); `v2.0.0` 37 minutes
    after `v2.0`, with only docs between, names the same version: a re-tag, not a failure and its hotfix."""
    repo = make_repo()
    repo.commit("feature", {"a.py": "1\n"}, date="2026-11-10T10:00:00+00:00")
    tag(repo, "v2.0", "2026-11-10T10:00:00+00:00")
    repo.commit("docs: typo", {"README.md": "hi\n"}, date="2026-11-10T10:37:00+00:00")
    tag(repo, "v2.0.0", "2026-11-10T10:37:00+00:00")
    assert cli("sync-commits", "--repo", str(repo.path)).exit_code == 0
    data = json.loads(cli("kpi", "dora", "--since", "2026-11-04", "--until", "2026-12-01", "-f", "json").stdout)
    assert data["deployments"] == 2 and data["deploys_per_week"] == 0.5
    assert data["failed"] == 0 and data["change_failure_rate"] == 0.0
    assert "days ÷ 7" in data["definitions"]["deploys_per_week"]


def test_a_deployment_of_an_older_commit_rolls_back_the_one_before(cli, make_repo, isolated, monkeypatch):
    """v1.1 out, then v1.0's commit deployed again (a workflow dispatched for it, `deploy record`): v1.1 was
    rolled back; it failed, and was restored when the rollback shipped."""
    repo = make_repo()
    first = repo.commit("one", {"a": "1\n"}, date="2026-11-02T10:00:00+00:00")
    tag(repo, "v1.0", "2026-11-02T10:00:00+00:00")
    repo.commit("two", {"a": "2\n"}, date="2026-11-03T10:00:00+00:00")
    tag(repo, "v1.1", "2026-11-03T10:00:00+00:00")
    repo.commit("three", {"a": "3\n"}, date="2026-11-04T09:00:00+00:00")  # not deployed: no rollback of anything
    db = str(isolated / "teamops.db")
    cli("--db", db, "sync-commits", "--repo", str(repo.path))
    monkeypatch.chdir(repo.path)  # the deploy job runs in the clone
    back = cli("--db", db, "deploy", "record", "--sha", first, "--name", "to v1.0", "--at", "2026-11-04T10:00:00Z")
    assert back.exit_code == 0, back.output
    data = json.loads(cli("--db", db, "kpi", "dora", *WINDOW, "-f", "json").stdout)
    why = {r["deployment"]: r["why"] for r in data["rows"] if r["failed"]}
    assert why == {"v1.1": "rolled back by to v1.0 after 24 h"}
    assert data["time_to_restore_median_h"] == 24.0


def test_a_recorded_incident_fails_the_deployment_that_shipped_its_cause_once(cli, make_repo, isolated):
    """v1.0, v1.1 (ships c2), v1.2; an incident caused by c2 fails v1.1, not the last one before it; one without
    a cause fails v1.2 (the last before it opened); each counts once, and its resolve times the restore."""
    repo = make_repo()
    repo.commit("one", {"a": "1\n"}, date="2026-11-02T10:00:00+00:00")
    tag(repo, "v1.0", "2026-11-02T10:00:00+00:00")
    cause = repo.commit("two", {"a": "2\n"}, date="2026-11-03T10:00:00+00:00")
    tag(repo, "v1.1", "2026-11-03T10:00:00+00:00")
    repo.commit("three", {"a": "3\n"}, date="2026-11-05T10:00:00+00:00")
    tag(repo, "v1.2", "2026-11-05T10:00:00+00:00")
    cli("sync-commits", "--repo", str(repo.path))
    opened = cli(
        "incident", "open", "Checkout down", "--repo", "repo", "--cause", cause[:9], "--at", "2026-11-06T08:00:00Z"
    )
    assert opened.exit_code == 0 and "incident 1 opened in repo" in opened.stderr, opened.output
    assert cli("incident", "resolve", "1", "--at", "2026-11-06T11:00:00Z").exit_code == 0
    cli("incident", "open", "Slow search", "--at", "2026-11-07T09:00:00Z", "--severity", "sev3")
    data = json.loads(cli("kpi", "dora", *WINDOW, "-f", "json").stdout)
    why = {r["deployment"]: r["why"] for r in data["rows"] if r["failed"]}
    assert why == {
        "v1.1": "incident: Checkout down (caused by a change it shipped)",
        "v1.2": "incident: Slow search",
    }
    # v1.1 (3 Nov 10:00) to its incident's close (6 Nov 11:00); v1.2's incident is open: not recovered yet
    assert data["time_to_restore_median_h"] == 73.0
    listed = json.loads(cli("incident", "list", "--open", "-f", "json").stdout)["rows"]
    assert [(r["id"], r["title"], r["severity"]) for r in listed] == [(2, "Slow search", "sev3")]
    report = json.loads(cli("kpi", "incidents", *WINDOW, "-f", "json").stdout)
    assert [(r["incident"], r["recover_h"], r["deployment"], r["cause"]) for r in report["rows"]] == [
        ("incident 1", 3.0, "v1.1", cause[:9]),
        ("incident 2", None, "v1.2", None),
    ]
    assert (report["incidents"], report["open"], report["recover_median_h"]) == (2, 1, 3.0)


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["open", "x", "--cause", "rm -rf /"], "--cause must be a commit"),
        (["open", "x", "--repo", "nowhere"], "no repository 'nowhere' is synced"),
        (["open", "   "], "needs a title"),
        (["resolve", "9"], "no incident 9"),
        (["open", "x", "--at", "yesterday-ish"], "is not an ISO time"),
    ],
)
def test_bad_incident_input_is_one_line_and_exit_5(cli, isolated, args, needle):
    res = cli("incident", *args)
    assert res.exit_code == 5 and needle in res.stderr and "Traceback" not in res.output, res.output


def test_a_monorepo_split_into_services_and_the_keys_per_team(cli, make_repo, isolated):
    """v1.0 ships api and web changes, v1.1 web only, v1.2 api only and is rolled back (v1.1's commit again):
    per service, each counts the deployments that shipped its paths; per team, those that shipped its work."""
    repo = make_repo()
    repo.commit(
        "both",
        {"services/api/a.py": "1\n", "web/w.js": "1\n"},
        author=("Ann", "ann@acme.io"),
        date="2026-11-02T09:00:00+00:00",
    )
    tag(repo, "v1.0", "2026-11-02T10:00:00+00:00")
    web = repo.commit("web", {"web/w.js": "2\n"}, author=("Wes", "wes@acme.io"), date="2026-11-03T09:00:00+00:00")
    tag(repo, "v1.1", "2026-11-03T10:00:00+00:00")
    repo.commit(
        "api", {"services/api/deep/b.py": "1\n"}, author=("Ann", "ann@acme.io"), date="2026-11-04T09:00:00+00:00"
    )
    tag(repo, "v1.2", "2026-11-04T10:00:00+00:00")
    (isolated / "teamops.toml").write_text(
        '[[services]]\nname = "api"\npaths = ["services/api/**"]\n[[services]]\nname = "web"\npaths = ["web/**"]\n'
    )
    cli("people", "add", "ann", "--email", "ann@acme.io", "--team", "core")
    cli("people", "add", "wes", "--email", "wes@acme.io", "--team", "front")
    cli("sync-commits", "--repo", str(repo.path))
    assert (
        cli(
            "deploy", "record", "--repo", "repo", "--sha", web, "--name", "back", "--at", "2026-11-04T12:00:00Z"
        ).exit_code
        == 0
    )
    by_service = json.loads(cli("kpi", "dora", *WINDOW, "--by", "service", "-f", "json").stdout)
    rows = {r["service"]: r for r in by_service["rows"]}
    assert (rows["api"]["deployments"], rows["api"]["change_failure_rate"]) == (2, 0.5)  # v1.0, v1.2 (rolled back)
    assert (rows["web"]["deployments"], rows["web"]["change_failure_rate"]) == (2, 0.0)  # v1.0, v1.1
    by_team = json.loads(cli("kpi", "dora", *WINDOW, "--by", "team", "-f", "json").stdout)
    assert {r["team"]: r["deployments"] for r in by_team["rows"]} == {"core": 2, "front": 1}
    table = cli("kpi", "dora", *WINDOW, "--by", "service")
    assert table.exit_code == 0 and "api" in table.stdout and "50%" in table.stdout
    assert cli("kpi", "dora", "--by", "planet").exit_code == 2


def test_services_need_a_name_and_paths(cli, isolated):
    (isolated / "teamops.toml").write_text('[[services]]\nname = "api"\npaths = []\n')
    res = cli("config", "show")
    assert res.exit_code == 3 and "services[0].paths must list its paths" in res.stderr


def test_the_deployment_that_ships_an_incident_s_fix_is_rework(cli, make_repo, isolated):
    repo = make_repo()
    repo.commit("one", {"a": "1\n"}, date="2026-11-02T10:00:00+00:00")
    tag(repo, "v1.0", "2026-11-02T10:00:00+00:00")
    repo.commit("two", {"a": "2\n"}, date="2026-11-03T10:00:00+00:00")
    tag(repo, "v1.1", "2026-11-03T10:00:00+00:00")
    fix = repo.commit("fix the crash", {"a": "3\n"}, date="2026-11-03T12:30:00+00:00")
    cli("sync-commits", "--repo", str(repo.path))
    cli("incident", "open", "Crash on login", "--at", "2026-11-03T12:00:00Z")
    cli("deploy", "record", "--repo", "repo", "--sha", fix, "--name", "hotfix", "--at", "2026-11-03T13:00:00Z")
    cli("incident", "resolve", "1", "--at", "2026-11-03T14:00:00Z")
    data = json.loads(cli("kpi", "dora", *WINDOW, "-f", "json").stdout)
    assert {r["deployment"]: r["failed"] for r in data["rows"]} == {"v1.0": False, "v1.1": True, "hotfix": False}
    assert (data["rework"], data["rework_rate"]) == (1, 0.333)  # the hotfix shipped the incident's fix
