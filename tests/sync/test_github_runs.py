"""Deploy workflows' runs as deployments, from a fake GitHub whose Actions listings follow GitHub's REST
description: shipped, failed attempts, cancelled, other branches and workflows, re-runs, runs under way, the
1,000-result cap, and one deployment counted once when a run's job also made a GitHub Deployment."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from tests.fakes.github import FakeGitHub, workflow_run

WORKFLOWS = [
    {"id": 11, "name": "Deploy", "path": ".github/workflows/deploy.yml", "state": "active"},
    {"id": 12, "name": "CI", "path": ".github/workflows/ci.yml", "state": "active"},
    {"id": 13, "name": "Deploy docs", "path": ".github/workflows/docs.yml", "state": "active"},
]


def day(n: int, hour: int = 10) -> str:
    return f"2026-10-{n:02d}T{hour:02d}:00:00Z"


@pytest.fixture
def shipped(make_repo, tmp_path):
    """main: c1..c4; Deploy ran for each (c2's first attempt failed, c3's was cancelled, c4's is running),
    once from a feature branch; CI ran too. The config names deploy.yml only."""
    repo = make_repo("api")
    shas = [repo.commit(f"change {i}", {"a.py": f"{i}\n"}, date=f"2026-10-0{i}T09:00:00+00:00") for i in range(1, 5)]
    runs = [
        workflow_run(101, 11, shas[0], day(1)),
        workflow_run(102, 11, shas[1], day(2), conclusion="failure"),
        workflow_run(103, 11, shas[2], day(3), conclusion="cancelled"),
        workflow_run(104, 11, shas[2], day(3, 11), branch="feature"),
        workflow_run(105, 12, shas[2], day(3, 12)),  # CI, not a deploy workflow
        workflow_run(106, 11, shas[3], day(4), status="in_progress"),
        workflow_run(107, 13, shas[3], day(4, 11)),  # "Deploy docs": not asked for
    ]
    config = tmp_path / "teamops.toml"
    config.write_text('[dora]\ndeploy_workflows = ["deploy.yml"]\n')
    return repo, shas, runs, config


def serve(repo, runs) -> FakeGitHub:
    gh = FakeGitHub({"acme/api": repo.path})
    gh.repos["acme/api"].workflows = WORKFLOWS
    gh.repos["acme/api"].runs = runs
    return gh


def deployed(db: Path) -> list[tuple]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute("SELECT name, sha, status, deployed_at, source FROM deployments ORDER BY name").fetchall()
    finally:
        conn.close()


def test_successful_runs_on_the_production_branch_are_deployments_and_re_runs_count_once(shipped, cli, tmp_path):
    repo, shas, runs, config = shipped
    db = tmp_path / "t.db"
    with serve(repo, runs) as gh:
        env = {"GITHUB_TOKEN": gh.token, "TEAMOPS_GITHUB_API_URL": gh.url, "TEAMOPS_CONFIG": str(config)}
        env["TEAMOPS_NOW"] = "2026-10-08T00:00:00Z"  # runs can be re-run for 30 days: these still may be
        res = cli("--db", str(db), "sync-commits", "--repo", "acme/api", "-v", env=env)
        assert res.exit_code == 0, res.output
        assert deployed(db) == [("run 101", shas[0], "success", day(1), "workflow")]
        assert "1 failed deploy attempts (not deployments)" in res.stderr
        # run 102 re-run: its second attempt ships; run 106 finishes
        runs[1].update(conclusion="success", run_attempt=2, updated_at=day(5))
        runs[5].update(status="completed", conclusion="success", updated_at=day(4, 12))
        assert cli("--db", str(db), "sync-commits", "--repo", "acme/api", env=env).exit_code == 0
        assert deployed(db) == [
            ("run 101", shas[0], "success", day(1), "workflow"),
            ("run 102", shas[1], "success", day(5), "workflow"),
            ("run 106", shas[3], "success", day(4, 12), "workflow"),
        ]
        # a re-run of 101 that fails: it shipped nothing after all
        runs[0].update(conclusion="failure", run_attempt=2, updated_at=day(6))
        assert cli("--db", str(db), "sync-commits", "--repo", "acme/api", env=env).exit_code == 0
        assert [name for name, *_ in deployed(db)] == ["run 102", "run 106"]
        before = gh.counted()
        assert cli("--db", str(db), "sync-commits", "--repo", "acme/api", env=env).exit_code == 0
        # nothing changed: the workflows' listing is counted, each deploy workflow's runs answer 304
        assert gh.counted() - before <= 3
    dora = cli("--db", str(db), "kpi", "dora", "--since", "2026-10-01", "--until", "2026-10-15", "-f", "json")
    rows = json.loads(dora.stdout)["rows"]
    assert sorted(r["deployment"] for r in rows if r.get("deployment")) == ["run 102", "run 106"]


def test_a_window_over_github_s_thousand_results_is_split_until_every_run_is_read(make_repo):
    from teamops.sources.github.client import GitHubClient
    from teamops.sources.github.runs import runs_between

    repo = make_repo("api")
    sha = repo.commit("one", {"a": "1\n"})
    runs = [
        workflow_run(1000 + i, 11, sha, f"2026-{1 + i // 250:02d}-{1 + i % 25:02d}T{i % 24:02d}:00:0{i % 10}Z")
        for i in range(2_500)
    ]
    with serve(repo, runs) as gh:
        client = GitHubClient(gh.url, gh.token)
        found = runs_between(client, "acme/api", 11, "main", "2008-01-01T00:00:00Z", "2026-12-31T00:00:00Z")
        assert sorted(r.id for r in found) == sorted(r["id"] for r in runs)
        assert not gh.violations


def test_a_run_and_the_github_deployment_its_job_made_count_once(tmp_path):
    from teamops.store.database import open_database
    from teamops.store.deployments import save_deployment, without_twins

    db = open_database(tmp_path / "t.db")
    db.execute(
        "INSERT INTO repos (key, name, kind, locator, created_at) VALUES ('github:acme/api', 'acme/api', 'github', 'acme/api', 'x')"
    )
    sha, other = "a" * 40, "b" * 40
    save_deployment(db, 1, "deployment 9", sha, "production", "2026-10-01T10:05:00Z", "success", "deployment")
    save_deployment(db, 1, "run 101", sha, "production", "2026-10-01T10:20:00Z", "success", "workflow")
    save_deployment(db, 1, "run 102", sha, "production", "2026-10-03T10:00:00Z", "success", "workflow")  # a redeploy
    save_deployment(db, 1, "run 103", other, "production", "2026-10-01T10:20:00Z", "success", "workflow")
    assert without_twins(db, 1, "workflow") == 1
    names = [r[0] for r in db.execute("SELECT name FROM deployments ORDER BY name")]
    assert names == ["deployment 9", "run 102", "run 103"]


RUN_HOOKS = Path(__file__).resolve().parents[1] / "fixtures" / "github-webhooks" / "workflow_run"


def test_a_workflow_run_event_of_a_deploy_workflow_is_a_deployment_and_its_failed_re_run_takes_it_back(cli, tmp_path):
    """octokit's real `workflow_run` payloads: test.yml on master, completed with success; then as requested."""
    db = tmp_path / "t.db"
    config = tmp_path / "teamops.toml"
    config.write_text('[dora]\ndeploy_workflows = ["test.yml"]\n')
    env = {"TEAMOPS_CONFIG": str(config)}
    args = ("--db", str(db), "sync-commits", "--event-name", "workflow_run", "--event")
    done = cli(*args, str(RUN_HOOKS / "completed.payload.json"), env=env)
    assert done.exit_code == 0, done.output
    assert deployed(db) == [
        ("run 289782451", "3484a3fb816e0859fd6e1cea078d76385ff50625", "success", "2020-10-05T16:33:49Z", "workflow")
    ]
    again = cli(*args, str(RUN_HOOKS / "completed.payload.json"), env=env)
    assert "0 new, 0 changed" in again.stderr and len(deployed(db)) == 1  # the same event twice: one deployment
    under_way = cli(*args, str(RUN_HOOKS / "requested.payload.json"), env=env)
    assert under_way.exit_code == 0 and "under way" in under_way.stderr
    payload = json.loads((RUN_HOOKS / "completed.payload.json").read_text())
    payload["workflow_run"].update(conclusion="failure", run_attempt=2, updated_at="2020-10-06T09:00:00Z")
    (tmp_path / "failed.json").write_text(json.dumps(payload))
    failed = cli(*args, str(tmp_path / "failed.json"), env=env)
    assert failed.exit_code == 0 and "failure: no deployment" in failed.stderr and deployed(db) == []
    config.write_text('[dora]\ndeploy_workflows = ["deploy.yml"]\n')
    other = cli(*args, str(RUN_HOOKS / "completed.payload.json"), env=env)
    assert "not a deploy workflow" in other.stderr and deployed(db) == []
    broken = tmp_path / "broken.json"
    broken.write_text('{"repository": {"full_name": "a/b"}, "workflow_run": {"id": "x"}}')
    bad = cli(*args, str(broken), env=env)
    assert bad.exit_code == 5 and "not a workflow_run payload" in bad.stderr


def test_a_deployment_status_event_stores_the_deployment_and_the_run_that_made_it_counts_once(cli, tmp_path):
    """octokit's real `deployment_status` payload (production, success); a deploy run of the same commit and
    minute, stored first from its own event, then counts once."""
    hooks = Path(__file__).resolve().parents[1] / "fixtures" / "github-webhooks"
    db = tmp_path / "t.db"
    config = tmp_path / "teamops.toml"
    config.write_text('[dora]\ndeploy_workflows = ["test.yml"]\n')
    env = {"TEAMOPS_CONFIG": str(config)}
    status = json.loads((hooks / "deployment_status" / "payload.json").read_text())
    run = json.loads((RUN_HOOKS / "completed.payload.json").read_text())
    run["repository"] = status["repository"]
    run["workflow_run"].update(head_sha=status["deployment"]["sha"], updated_at="2019-05-15T15:21:30Z")
    (tmp_path / "run.json").write_text(json.dumps(run))
    (tmp_path / "status.json").write_text(json.dumps(status))
    args = ("--db", str(db), "sync-commits", "--event")
    assert cli(*args, str(tmp_path / "run.json"), "--event-name", "workflow_run", env=env).exit_code == 0
    assert [name for name, *_ in deployed(db)] == ["run 289782451"]
    res = cli(*args, str(tmp_path / "status.json"), "--event-name", "deployment_status", env=env)
    assert res.exit_code == 0, res.output
    assert deployed(db) == [
        (
            "deployment 145988746",
            "f95f852bd8fca8fcc58a9a2d6c842781e32a215e",
            "success",
            "2019-05-15T15:20:55Z",
            "deployment",
        )
    ]
    status["deployment"]["environment"] = "staging"
    (tmp_path / "staging.json").write_text(json.dumps(status))
    staging = cli(*args, str(tmp_path / "staging.json"), "--event-name", "deployment_status", env=env)
    assert "not production" in staging.stderr and len(deployed(db)) == 1


def test_a_run_on_another_branch_whose_job_targets_production_counts_through_the_deployment_its_job_made(
    shipped, cli, tmp_path
):
    """Run 104 ran deploy.yml from a feature branch with a job in the production environment: GitHub made a
    Deployment of its commit there, which is the deployment (the run itself is not on the production branch)."""
    repo, shas, runs, config = shipped
    db = tmp_path / "t.db"
    with serve(repo, runs) as gh:
        gh.repos["acme/api"].deployments = [
            {
                "databaseId": 41,
                "createdAt": day(3, 11),
                "environment": "production",
                "commitOid": shas[2],
                "latestStatus": {"state": "SUCCESS", "createdAt": day(3, 12)},
            }
        ]
        env = {"GITHUB_TOKEN": gh.token, "TEAMOPS_GITHUB_API_URL": gh.url, "TEAMOPS_CONFIG": str(config)}
        env["TEAMOPS_NOW"] = "2026-10-08T00:00:00Z"
        assert cli("--db", str(db), "sync-commits", "--repo", "acme/api", env=env).exit_code == 0
    assert deployed(db) == [
        ("deployment 41", shas[2], "success", day(3, 12), "deployment"),
        ("run 101", shas[0], "success", day(1), "workflow"),
    ]


MONOREPO_WORKFLOWS = [
    {"id": 21, "name": "Deploy API", "path": ".github/workflows/deploy-api.yml", "state": "active"},
    {"id": 22, "name": "Web release", "path": ".github/workflows/web.yml", "state": "active"},
]


def test_a_monorepo_s_deploy_workflows_put_each_deployment_in_the_service_they_name(make_repo, cli, tmp_path):
    """Two services deployed by their own workflows from the same commits: `Deploy API` names the api (a word of
    its name), web.yml is named by the web service's `workflows`; a deployment no workflow made (recorded by
    hand) belongs to the services whose paths it first shipped. An incident counts for the service (and the
    team) of the deployment it fails."""
    repo = make_repo("mono")
    repo.commit("api: add", {"services/api/a.py": "1\n"}, date="2026-10-01T09:00:00+00:00")
    web = repo.commit("web: add", {"services/web/w.js": "1\n"}, date="2026-10-01T10:00:00+00:00")
    fix = repo.commit(
        "api: fix", {"services/api/a.py": "2\n"}, date="2026-10-02T09:00:00+00:00", author=("Bob", "bob@example.com")
    )
    runs = [workflow_run(201, 21, web, day(1, 12)), workflow_run(202, 22, web, day(1, 13))]
    config = tmp_path / "teamops.toml"
    config.write_text(
        '[dora]\ndeploy_workflows = ["deploy-*.yml", "web.yml"]\n'
        '[[services]]\nname = "api"\npaths = ["services/api/**"]\n'
        '[[services]]\nname = "web"\npaths = ["services/web/**"]\nworkflows = ["web.yml"]\n'
        '[[people]]\nhandle = "bob"\nemails = ["bob@example.com"]\nteam = "core"\n'
    )
    repo.git("remote", "add", "origin", "https://github.com/acme/mono.git")  # commits with their files
    db = str(tmp_path / "t.db")
    assert cli("--db", db, "sync-commits", "--repo", str(repo.path), env={"TEAMOPS_CONFIG": str(config)}).exit_code == 0
    gh = FakeGitHub({"acme/mono": repo.path})
    gh.repos["acme/mono"].workflows = MONOREPO_WORKFLOWS
    gh.repos["acme/mono"].runs = runs
    with gh:
        env = {"GITHUB_TOKEN": gh.token, "TEAMOPS_GITHUB_API_URL": gh.url, "TEAMOPS_CONFIG": str(config)}
        env["TEAMOPS_NOW"] = "2026-10-08T00:00:00Z"
        assert cli("--db", db, "sync-commits", "--repo", "acme/mono", env=env).exit_code == 0
        recorded = ("deploy", "record", "--repo", "acme/mono", "--sha", fix, "--at", day(2, 12))
        assert cli("--db", db, *recorded, env=env).exit_code == 0
        opened = ("incident", "open", "API errors", "--repo", "acme/mono", "--at", day(2, 15))
        assert cli("--db", db, *opened, env=env).exit_code == 0
        window = ("--since", "2026-10-01", "--until", "2026-10-08", "-f", "json")
        by = json.loads(cli("--db", db, "kpi", "dora", "--by", "service", *window, env=env).stdout)["rows"]
        assert [(r["service"], r["deployments"], r["incidents"]) for r in by] == [("api", 2, 1), ("web", 1, 0)]
        one = json.loads(cli("--db", db, "kpi", "dora", "--service", "WEB", *window, env=env).stdout)
        assert [r["deployment"] for r in one["rows"]] == ["run 202"] and one["service"] == "web"
        teams = json.loads(cli("--db", db, "kpi", "dora", "--by", "team", *window, env=env).stdout)["rows"]
        assert [(r["team"], r["deployments"], r["incidents"]) for r in teams] == [("core", 1, 1)]
        theirs = json.loads(cli("--db", db, "kpi", "incidents", "--service", "api", *window, env=env).stdout)
        assert [r["title"] for r in theirs["rows"]] == ["API errors"]
        assert json.loads(cli("--db", db, "kpi", "incidents", "--team", "core", *window, env=env).stdout)["rows"]
        none = json.loads(cli("--db", db, "kpi", "incidents", "--service", "web", *window, env=env).stdout)
        assert none["rows"] == []
        unknown = cli("--db", db, "kpi", "dora", "--service", "billing", env=env)
        assert unknown.exit_code == 5 and "no service 'billing'" in unknown.stderr
