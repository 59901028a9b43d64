"""Commits from GitHub through a fake GitHub on 127.0.0.1: pagination, cost, faults, resumption."""

from __future__ import annotations

import math
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from teamops.errors import ServiceError
from teamops.sources.github.client import GitHubClient
from tests.conftest import lines
from tests.fakes.github import FakeGitHub
from tests.support.synth import build_repo

TOKEN = "ghs_faketoken_123"


def commits_table(db: Path) -> list[tuple]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(
            "SELECT sha, author_name, author_email, authored_at, committed_at, message, additions, deletions, "
            "is_merge, parents, stats_missing FROM commits ORDER BY sha"
        ).fetchall()
    finally:
        conn.close()


@pytest.fixture
def project(make_repo):
    repo = make_repo("api")
    repo.commit("init", {"a.py": lines(10)}, author=("Alice", "alice@acme.io"), date="2026-10-01T09:00:00+02:00")
    repo.git("checkout", "-q", "-b", "feature")
    repo.commit("feature work", {"f.py": lines(4)}, author=("Bob", "bob@acme.io"), date="2026-10-02T09:00:00+00:00")
    repo.git("checkout", "-q", "main")
    repo.commit("main work", {"a.py": lines(12)}, author=("Alice", "alice@acme.io"), date="2026-10-03T09:00:00+02:00")
    repo.merge("feature", date="2026-10-04T09:00:00+00:00")
    return repo


def env_for(gh: FakeGitHub, **extra: str) -> dict[str, str]:
    return {"GITHUB_TOKEN": gh.token, "TEAMOPS_GITHUB_API_URL": gh.url, **extra}


def test_github_rows_match_a_local_sync_of_the_same_repository(project, cli, tmp_path):
    local_db, gh_db = tmp_path / "local.db", tmp_path / "gh.db"
    cli("--db", str(local_db), "sync-commits", "--repo", str(project.path))
    with FakeGitHub({"acme/api": project.path}, logins={"bob@acme.io": "bobby"}) as gh:
        res = cli("--db", str(gh_db), "sync-commits", "--repo", "acme/api", env=env_for(gh))
        assert res.exit_code == 0, res.output
        assert "synced 4 new commits (incl. merges) from acme/api (main)" in res.stderr
        # default branch, head, one history page, the release, deployment, incident issues and pull request
        # lists, and the ETag of the issues question the next sync asks
        assert "8 requests" in res.stderr
    assert commits_table(gh_db) == commits_table(local_db)
    conn = sqlite3.connect(gh_db)
    assert conn.execute("SELECT author_login FROM commits WHERE message = 'feature work'").fetchone() == ("bobby",)
    assert conn.execute("SELECT additions, deletions FROM commits WHERE is_merge = 1").fetchone() == (
        None,
        None,
    )
    # mapped through the GitHub login
    conn.close()
    cli("--db", str(gh_db), "people", "add", "bob", "--github", "bobby")
    res = cli("--db", str(gh_db), "kpi", "activity", "--person", "bob", "-f", "csv")
    assert "bob,,1," in res.stdout


def test_requests_used_and_a_no_change_rerun(tmp_path, cli):
    repo = build_repo(tmp_path / "big", 1000)
    with FakeGitHub({"acme/big": repo}) as gh:
        db = str(tmp_path / "t.db")
        assert cli("--db", db, "sync-commits", "--repo", "acme/big", env=env_for(gh)).exit_code == 0
        assert gh.counted() <= math.ceil(1000 / 100) + 7  # and the release, deployment, incident and pull request lists
        before = len(gh.log)
        res = cli("--db", db, "sync-commits", "--repo", "acme/big", env=env_for(gh))
        assert "up to date, 0 new commits" in res.stderr
        rerun = gh.log[before:]  # the head, releases, deployments, incidents, pull requests: conditional, all free
        assert len(rerun) == 5 and all(status == 304 for _, _, status in rerun)
        conn = sqlite3.connect(db)
        used, left = conn.execute(
            "SELECT requests_used, rate_limit_remaining FROM sync_state WHERE source LIKE 'github:%'"
        ).fetchone()
        assert used == 12 and left == gh.remaining


def test_incremental_sync_finds_commits_of_an_old_branch_merged_later(project, cli, tmp_path):
    db = str(tmp_path / "t.db")
    with FakeGitHub({"acme/api": project.path}) as gh:
        cli("--db", db, "sync-commits", "--repo", "acme/api", env=env_for(gh))
        # a branch started long ago, merged now: its commits are older than the stored head
        project.git("checkout", "-q", "-b", "old", "HEAD~2")
        project.commit("old branch work", {"o.py": lines(3)}, date="2026-09-01T09:00:00+00:00")
        project.git("checkout", "-q", "main")
        project.commit("newer main", {"n.py": lines(2)}, date="2026-10-05T09:00:00+00:00")
        project.merge("old", date="2026-10-06T09:00:00+00:00")
        gh.refresh("acme/api")
        res = cli("--db", db, "sync-commits", "--repo", "acme/api", env=env_for(gh))
        assert "synced 3 new commits" in res.stderr, res.stderr
    local = tmp_path / "local.db"
    cli("--db", str(local), "sync-commits", "--repo", str(project.path))
    assert commits_table(Path(db)) == commits_table(local)


def test_github_enterprise_url_and_graphql_path(project, cli, tmp_path):
    with FakeGitHub({"acme/api": project.path}) as gh:
        res = cli(
            "--db",
            str(tmp_path / "t.db"),
            "sync-commits",
            "--repo",
            "acme/api",
            env=env_for(gh, TEAMOPS_GITHUB_API_URL=gh.url + "/api/v3"),
        )
        assert res.exit_code == 0, res.output
        paths = {p.split("?")[0] for _, p, _ in gh.log}
        assert "/api/graphql" in paths and "/api/v3/repos/acme/api" in paths


def test_missing_token_is_a_config_error(project, cli, tmp_path):
    res = cli("--db", str(tmp_path / "t.db"), "sync-commits", "--repo", "acme/api")
    assert res.exit_code == 3 and "$GITHUB_TOKEN is not set" in res.stderr


def test_bad_token_is_exit_4_and_never_printed(project, cli, tmp_path):
    with FakeGitHub({"acme/api": project.path}) as gh:
        res = cli(
            "--db",
            str(tmp_path / "t.db"),
            "sync-commits",
            "--repo",
            "acme/api",
            env=env_for(gh, GITHUB_TOKEN="ghp_wrong_secret_value"),
        )
        assert res.exit_code == 4
        assert "rejected the token" in res.stderr and "$GITHUB_TOKEN" in res.stderr
        assert "ghp_wrong_secret_value" not in res.output


def test_unknown_repository_is_exit_4(project, cli, tmp_path):
    with FakeGitHub({"acme/api": project.path}) as gh:
        res = cli("--db", str(tmp_path / "t.db"), "sync-commits", "--repo", "acme/nope", env=env_for(gh))
        assert res.exit_code == 4 and "404" in res.stderr


class Sleeper:
    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


@pytest.mark.parametrize(
    ("kind", "on", "expect_wait"),
    [
        ("primary", "graphql", lambda w: 1 <= w <= 62),
        ("secondary", "graphql", lambda w: w == 30),
        ("429", "rest", lambda w: w == 30),
        ("graphql_rate_limited", "graphql", lambda w: 1 <= w <= 62),
        ("502", "graphql", lambda w: w == 1),
        ("drop", "graphql", lambda w: w == 1),
        ("bad_json", "graphql", lambda w: w == 1),
        ("deep_json", "graphql", lambda w: w == 1),
    ],
)
def test_client_waits_and_retries_each_fault(project, kind, on, expect_wait):
    with FakeGitHub({"acme/api": project.path}) as gh:
        gh.fail(kind, on=on, wait=30 if kind in ("secondary", "429") else 60)
        sleeper = Sleeper()
        client = GitHubClient(gh.url, gh.token, sleep=sleeper, max_wait_s=900, jitter=lambda: 0.0)
        head, _ = client.branch_head("acme/api", "main", None)
        pages = list(client.history("acme/api", head))
        assert sum(len(p.nodes) for p in pages) == 4
        assert len(sleeper.waits) == 1 and expect_wait(sleeper.waits[0]), sleeper.waits


def test_repeated_5xx_gives_up_with_exit_4_message(project):
    with FakeGitHub({"acme/api": project.path}) as gh:
        gh.fail("503", on="rest", times=10)
        client = GitHubClient(gh.url, gh.token, sleep=Sleeper(), max_retries=3)
        with pytest.raises(ServiceError, match="after 4 attempts: HTTP 503"):
            client.branch_head("acme/api", "main", None)


def test_wait_longer_than_the_cap_stops_and_keeps_pages(tmp_path, cli):
    repo = build_repo(tmp_path / "big", 450)
    with FakeGitHub({"acme/big": repo}) as gh:
        db = tmp_path / "t.db"
        gh.fail("primary", on="graphql", wait=3600, times=1)
        gh.faults[0].after = 2  # the third history page hits the primary limit
        res = cli("--db", str(db), "sync-commits", "--repo", "acme/big", env=env_for(gh))
        assert res.exit_code == 4
        assert "more than [github] max_wait_s = 900 s" in res.stderr
        assert "everything fetched so far is stored" in res.stderr
        assert len(commits_table(db)) == 200
        res = cli("--db", str(db), "sync-commits", "--repo", "acme/big", env=env_for(gh))
        assert res.exit_code == 0 and "synced 250 new commits" in res.stderr
    local = tmp_path / "local.db"
    cli("--db", str(local), "sync-commits", "--repo", str(repo))
    assert commits_table(db) == commits_table(local)


@pytest.mark.slow
def test_kill_mid_backfill_then_resume_matches_clean_run(tmp_path):
    repo = build_repo(tmp_path / "big", 3000)
    with FakeGitHub({"acme/big": repo}) as gh:
        gh.latency = 0.02
        env = {**os.environ, "GITHUB_TOKEN": gh.token, "TEAMOPS_GITHUB_API_URL": gh.url}

        def run(db: Path) -> subprocess.Popen[bytes]:
            return subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "teamops",
                    "--db",
                    str(db),
                    "-q",
                    "sync-commits",
                    "--repo",
                    "acme/big",
                ],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )

        clean = tmp_path / "clean.db"
        assert run(clean).wait(120) == 0
        killed = tmp_path / "killed.db"
        gh.graphql_seen, gh.hold_after = 0, 10  # the 11th page waits: the run is killed while it does
        proc = run(killed)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None and gh.graphql_seen <= 10:
            time.sleep(0.01)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        gh.hold_after = None
        gh.release.set()
        partial = len(commits_table(killed))
        assert 0 < partial < 3000
        pages_before = sum(1 for _, p, _ in gh.log if p == "/graphql")
        assert run(killed).wait(120) == 0
        resumed_pages = sum(1 for _, p, _ in gh.log if p == "/graphql") - pages_before
        assert resumed_pages <= math.ceil((3000 - partial) / 100) + 1  # resumed at the cursor
    assert commits_table(killed) == commits_table(clean)


@pytest.fixture(scope="module")
def huge_commits(tmp_path_factory):
    """A repository whose commits change 350 and 3,200 files: more than one page, more than GitHub lists."""
    path = tmp_path_factory.mktemp("huge") / "huge"
    git = ["git", "-C", str(path), "-c", "user.name=Dev", "-c", "user.email=dev@acme.io"]
    subprocess.run(["git", "init", "-q", "-b", "main", str(path)], check=True)
    shas = []
    for n, count in (("a", 350), ("b", 3200)):
        folder = path / n
        folder.mkdir()
        for i in range(count):
            (folder / f"f{i}.txt").write_text(f"{n} {i}\n")
        subprocess.run([*git, "add", "-A"], check=True)
        subprocess.run(
            [*git, "commit", "-q", "-m", f"{count} files"], check=True, env={**os.environ, "GIT_CONFIG_NOSYSTEM": "1"}
        )
        shas.append(subprocess.run([*git, "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip())
    return path, shas


def test_a_commit_with_more_than_300_files_gets_them_all_without_per_page(huge_commits):
    path, (medium, _) = huge_commits
    with FakeGitHub({"acme/huge": path}) as gh:
        client = GitHubClient(gh.url, TOKEN)
        files = client.commit_files("acme/huge", medium, 350)
        assert len(files) == 350 and files.cut == "" and files[0][1].startswith("@@")
        pages = [p for _, p, _ in gh.log if f"/commits/{medium}" in p]
        assert len(pages) == 2 and "per_page" not in "".join(pages)  # GitHub's own 300 a page


def test_more_than_3000_files_come_from_the_diff_or_the_cut_is_said(huge_commits):
    path, (_, huge) = huge_commits
    with FakeGitHub({"acme/huge": path}) as gh:
        client = GitHubClient(gh.url, TOKEN)
        whole = client.commit_files("acme/huge", huge, 3200)
        assert len(whole) == 3200 and whole.cut == ""  # the 10 listed pages, then the diff media type
        assert sorted(p for p, _ in whole)[:2] == ["b/f0.txt", "b/f1.txt"] and whole[0][1].startswith("@@")
        gh.diff_unavailable = True
        listed = client.commit_files("acme/huge", huge, 3200)
        assert len(listed) == 3000
        assert listed.cut.startswith("GitHub lists 3,000 of its 3,200 files and gave no whole diff")


def test_analyze_says_when_an_estimate_saw_only_part_of_a_commit(huge_commits, cli, tmp_path):
    from tests.fakes.openai import FakeOpenAI

    path, (_, huge) = huge_commits
    db = str(tmp_path / "gh.db")
    with FakeGitHub({"acme/huge": path}) as gh, FakeOpenAI() as llm:
        assert cli("--db", db, "sync-commits", "--repo", "acme/huge", env=env_for(gh)).exit_code == 0
        gh.diff_unavailable = True
        env = {**env_for(gh), "OPENAI_API_KEY": llm.key}
        res = cli("--db", db, "analyze", "--model", "openai/gpt-4o-mini", "--api-base", llm.url, env=env)
        assert res.exit_code == 0, res.output
        assert f"estimated on part of {huge[:10]}: GitHub lists 3,000 of its 3,200 files" in res.stderr


def test_releases_and_deployments_come_through_the_api_incrementally(project, cli, tmp_path):
    shas = subprocess.run(
        ["git", "-C", str(project.path), "rev-list", "--first-parent", "--reverse", "main"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()  # init, main work, the merge
    db = str(tmp_path / "gh.db")
    with FakeGitHub({"acme/api": project.path}) as gh:
        served = gh.repos["acme/api"]
        served.releases = [
            {
                "tagName": "v2.0.0-rc1",
                "publishedAt": "2026-10-04T12:00:00Z",
                "createdAt": "2026-10-04T12:00:00Z",
                "isDraft": False,
                "isPrerelease": True,
                "tagCommit": {"oid": shas[2]},
            },
            {
                "tagName": "v1.0.0",
                "publishedAt": "2026-10-01T12:00:00+02:00",
                "createdAt": "2026-10-01T09:00:00Z",
                "isDraft": False,
                "isPrerelease": False,
                "tagCommit": {"oid": shas[0]},
            },
        ]
        served.deployments = [
            {
                "databaseId": 7,
                "createdAt": "2026-10-04T10:00:00Z",
                "environment": "production",
                "commitOid": shas[2],
                "latestStatus": {"state": "IN_PROGRESS", "createdAt": "2026-10-04T10:00:00Z"},
            },
            {
                "databaseId": 5,
                "createdAt": "2026-10-03T10:00:00Z",
                "environment": "staging",
                "commitOid": shas[1],
                "latestStatus": {"state": "SUCCESS", "createdAt": "2026-10-03T10:05:00Z"},
            },
        ]
        first = cli("--db", db, "-v", "sync-commits", "--repo", "acme/api", env=env_for(gh))
        assert first.exit_code == 0 and "deployments of acme/api: 1 new" in first.stderr, first.output
        assert gh.violations == []
        # the deployment in progress finishes: read again, though the listing did not change
        served.deployments[0]["latestStatus"] = {"state": "SUCCESS", "createdAt": "2026-10-04T10:30:00Z"}
        second = cli("--db", db, "-v", "sync-commits", "--repo", "acme/api", env=env_for(gh))
        assert "deployments of acme/api: 1 new" in second.stderr, second.output
        before = len(gh.log)
        third = cli("--db", db, "sync-commits", "--repo", "acme/api", env=env_for(gh))
        assert third.exit_code == 0 and all(status == 304 for _, _, status in gh.log[before:])
    conn = sqlite3.connect(db)
    rows = conn.execute("SELECT name, sha, deployed_at, source FROM deployments ORDER BY deployed_at").fetchall()
    assert rows == [
        ("v1.0.0", shas[0], "2026-10-01T10:00:00Z", "release"),  # published at 12:00 in +02:00
        ("deployment 7", shas[2], "2026-10-04T10:30:00Z", "deployment"),
    ]
    shipped = dict(
        conn.execute(
            "SELECT dc.sha, d.name FROM deployment_commits dc JOIN deployments d ON d.id = dc.deployment_id"
        ).fetchall()
    )
    everything = subprocess.run(
        ["git", "-C", str(project.path), "rev-list", "main"], capture_output=True, text=True, check=True
    ).stdout.split()
    assert shipped == {sha: ("v1.0.0" if sha == shas[0] else "deployment 7") for sha in everything}
    conn.close()


@pytest.mark.parametrize(
    ("refused", "status", "permission"), [("deployments", 403, "Deployments"), ("releases", 404, "Contents")]
)
def test_a_token_without_a_delivery_permission_still_syncs_the_commits(
    project, cli, tmp_path, refused, status, permission
):
    shas = subprocess.run(
        ["git", "-C", str(project.path), "rev-list", "--reverse", "main"], capture_output=True, text=True, check=True
    ).stdout.split()
    db = str(tmp_path / "gh.db")
    with FakeGitHub({"acme/api": project.path}) as gh:
        served = gh.repos["acme/api"]
        served.releases = [
            {
                "tagName": "v1.0.0",
                "publishedAt": "2026-10-01T12:00:00Z",
                "createdAt": "2026-10-01T12:00:00Z",
                "isDraft": False,
                "isPrerelease": False,
                "tagCommit": {"oid": shas[0]},
            }
        ]
        served.deployments = [
            {
                "databaseId": 9,
                "createdAt": "2026-10-02T10:00:00Z",
                "environment": "production",
                "commitOid": shas[0],
                "latestStatus": {"state": "SUCCESS", "createdAt": "2026-10-02T10:00:00Z"},
            }
        ]
        gh.refused = {refused: status}
        res = cli("--db", db, "sync-commits", "--repo", "acme/api", env=env_for(gh))
        assert res.exit_code == 0, res.output
        warnings = [line for line in res.stderr.splitlines() if line.startswith("warning:")]
        assert len(warnings) == 1 and f"the {permission} permission" in warnings[0] and f"({status}" in warnings[0]
        assert gh.violations == []
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT COUNT(*) FROM commits").fetchone()[0] == len(shas)
    sources = {r[0] for r in conn.execute("SELECT source FROM deployments")}
    assert sources == ({"release"} if refused == "deployments" else {"deployment"})
