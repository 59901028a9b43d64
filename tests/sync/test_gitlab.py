"""GitLab as a source: a fake GitLab serving a real repository (git is the ground truth for commits), merge
requests whose reviews come from system notes, deployments, group patterns, webhooks, and the transport's
failures. One fake and one history per module; each test has its own database."""

from __future__ import annotations

import json
import sqlite3
import subprocess
from pathlib import Path

import pytest

from tests.conftest import GitBuilder
from tests.fakes.gitlab import TOKEN, FakeGitLab, at, deployment, merge_request, note
from tests.support.paths import FIXTURES

HOOKS = FIXTURES / "gitlab"


def when(day: int, hour: int = 9) -> str:
    return f"2026-10-{day:02d}T{hour:02d}:00:00+00:00"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory):
    """acme/api: topic-1 merged by a merge commit (!1, reviewed, unapproved and approved again), a squash
    merge (!2) of a branch whose own commit stays off main, an old commit merged late, a bot's commit, a
    co-authored one; an open draft by a bot (!3) and a closed one (!4). Deployments: success, failed,
    canceled, running. Also acme/web/site (a subgroup), an archived project and a fork."""
    root = tmp_path_factory.mktemp("gitlab")
    r = GitBuilder(root / "api")
    ann, bob = ("Ann Lee", "ann@acme.io"), ("Bob Stone", "bob@acme.io")
    r.commit("init", {"a.py": "1\n"}, author=ann, date=when(1))
    r.git("checkout", "-q", "-b", "old")
    old = r.commit("old work", {"old.py": "o\n" * 4}, author=bob, date=when(2))  # committed long before its merge
    r.git("checkout", "-q", "-b", "topic-1", "main")
    t1 = r.commit("export: first cut", {"export.py": "x\n" * 30}, author=ann, date=when(5, 9))
    t2 = r.commit("export: tests", {"test_export.py": "t\n" * 12}, author=ann, date=when(5, 13))
    r.git("checkout", "-q", "-b", "topic-2", "main")
    c3 = r.commit("login: fix", {"login.py": "l\n" * 5}, author=ann, date=when(6, 9))
    r.git("checkout", "-q", "main")
    m1 = r.merge("topic-1", date=when(7, 15))
    s2 = r.commit("Fix login", {"login.py": "l\n" * 5}, author=ann, date=when(8, 10))
    bot = r.commit("Update lib", {"req.txt": "lib==2\n"}, author=("renovate-bot", "bot@renovate.io"), date=when(8, 11))
    co = r.commit(
        "Pair on cache\n\nCo-authored-by: Bob Stone <bob@acme.io>", {"cache.py": "c\n" * 7}, author=ann, date=when(9)
    )
    late = r.merge("old", date=when(10))
    noreply = r.commit("Docs", {"README": "r\n"}, author=("Cy", "4567-cy@users.noreply.gitlab.com"), date=when(11))
    site = GitBuilder(root / "site")
    site.commit("site", {"index.html": "<p>\n"}, date=when(3))
    gone = GitBuilder(root / "gone")
    gone.commit("gone", {"x": "1\n"}, date=when(3))
    fake = FakeGitLab({"acme/api": r.path, "acme/web/site": site.path, "acme/old": gone.path, "acme/forked": gone.path})
    fake.projects["acme/old"].archived = True
    fake.projects["acme/forked"].fork = True
    api = fake.projects["acme/api"]
    api.merge_requests = [
        merge_request(1, "Add export", "ann", created=at(5, 14), merged=at(7, 15), merge_commit=m1, draft=False),
        merge_request(2, "Fix login", "ann", created=at(6, 10), merged=at(8, 10), squash_commit=s2),
        merge_request(3, "Update lib", "renovate-bot", created=at(8, 11), state="opened", draft=True),
        merge_request(4, "Try a thing", "bob", created=at(9, 9), updated=at(9, 12), state="closed"),
        merge_request(5, "Add search", "ann", created=at(12, 8), state="opened"),
    ]
    api.notes = {
        1: [
            note(11, "ann", "marked this merge request as ready", at(6, 8)),
            note(12, "ann", "requested review from @bob", at(6, 9)),
            note(13, "bob", "Looks good, one question about the CSV header.", at(6, 11), system=False),
            note(14, "bob", "approved this merge request", at(6, 12)),
            note(15, "bob", "unapproved this merge request", at(7, 9)),
            note(16, "bob", "approved this merge request", at(7, 14)),
            note(17, "ann", "Thanks!", at(7, 14), system=False),
        ],
        2: [
            note(21, "ann", "requested review from @carol and @bob", at(6, 11)),
            note(22, "carol", "approved this merge request", at(7, 10)),
        ],
        3: [note(31, "renovate-bot", "requested review from @bob", at(8, 12))],
        5: [note(51, "ann", "requested review from @bob", at(12, 9))],
    }
    api.mr_commits = {2: [c3]}
    api.deployments = [
        deployment(501, m1, "success", at(7, 16)),
        deployment(502, s2, "failed", at(8, 12)),
        deployment(503, s2, "canceled", at(8, 13)),
        deployment(504, bot, "running", at(8, 14)),
        deployment(505, m1, "success", at(8, 15), environment="staging"),
    ]
    shas = {"t1": t1, "t2": t2, "c3": c3, "m1": m1, "s2": s2, "bot": bot, "co": co, "late": late, "old": old}
    shas["noreply"] = noreply
    with fake:
        yield fake, r, shas


def env_for(fake: FakeGitLab, **extra: str) -> dict[str, str]:
    return {"GITLAB_TOKEN": TOKEN, "TEAMOPS_GITLAB_URL": fake.url, **extra}


def rows(db: Path, sql: str, *params: object) -> list[tuple]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def synced(cli, fake, tmp_path: Path, *args: str) -> Path:
    db = tmp_path / "t.db"
    res = cli("--db", str(db), "sync-commits", "--repo", "gitlab:acme/api", *args, env=env_for(fake))
    assert res.exit_code == 0, res.output
    return db


def test_commits_match_git_and_a_second_run_costs_one_request_per_stream(cli, world, tmp_path):
    fake, repo, shas = world
    before = len(fake.log)
    db = synced(cli, fake, tmp_path)
    truth = set(repo.git("rev-list", "main").split())
    stored = {sha for (sha,) in rows(db, "SELECT sha FROM commits")}
    assert stored == truth  # the old commit merged late is there: its parent walk found it
    counts = repo.git("log", "--no-merges", "--numstat", "--format=%x1e%H", "main").split("\x1e")[1:]
    for block in counts:
        sha, *lines = block.strip().splitlines()
        adds = sum(int(line.split("\t")[0]) for line in lines if line)
        assert rows(db, "SELECT additions FROM commits WHERE sha = ?", sha) == [(adds,)]
    merges = {sha for (sha,) in rows(db, "SELECT sha FROM commits WHERE is_merge = 1")}
    assert merges == {shas["m1"], shas["late"]}
    assert len(fake.log) - before <= 12
    first = len(fake.log)
    res = cli("--db", str(db), "sync-commits", "--repo", "gitlab:acme/api", env=env_for(fake))
    assert res.exit_code == 0 and "up to date, 0 new commits" in res.output
    again = [path for path, _, _ in fake.log[first:]]
    assert len(again) == 3, again  # commits, merge requests, deployments: one page each
    assert rows(db, "SELECT COUNT(*) FROM commits")[0][0] == len(truth)


def test_merge_requests_take_reviews_requests_and_readiness_from_notes(cli, world, tmp_path):
    fake, _repo, shas = world
    db = synced(cli, fake, tmp_path)
    got = {
        n: rest
        for n, *rest in rows(
            db,
            "SELECT number, state, draft, ready_at, first_review_requested_at, first_review_at, approved_at, "
            "author_kind, merge_commit_sha, source FROM pull_requests",
        )
    }
    assert got[1][:7] == ["merged", 0, at(6, 8), at(6, 9), at(6, 11), at(7, 14), "user"]  # re-approval counts
    assert got[1][8] == "gitlab"
    assert got[2][5] == at(7, 10) and got[2][7] == shas["s2"]  # the squash commit
    assert got[3][0] == "open" and got[3][1] == 1 and got[3][6] == "bot"
    assert got[4][0] == "closed"
    commits = {n: {s for (s,) in rows(db, "SELECT sha FROM pr_commits WHERE number = ?", n)} for n in (1, 2)}
    assert commits[1] == {shas["t1"], shas["t2"]}  # what the merge commit brought, read from the stored history
    assert commits[2] == {shas["c3"]}  # from GitLab's list (a squash leaves the branch off main)
    reviews = rows(db, "SELECT reviewer, state FROM pr_reviews WHERE number = 1 ORDER BY submitted_at")
    assert reviews == [("bob", "COMMENTED"), ("bob", "DISMISSED"), ("bob", "APPROVED")]  # the author's own is none
    waiting = rows(db, "SELECT number, reviewer, pending FROM pr_review_requests ORDER BY number, reviewer")
    assert (2, "carol", 0) in waiting and (3, "bob", 1) in waiting


def test_kpi_reports_read_gitlab_like_any_source(cli, world, tmp_path):
    fake, _repo, _shas = world
    db = synced(cli, fake, tmp_path)
    assert (
        cli("--db", str(db), "people", "add", "bobby", "--email", "bob@acme.io", "--account", "gitlab:bob").exit_code
        == 0
    )
    assert cli("--db", str(db), "people", "add", "cy", "--account", "gitlab:cy").exit_code == 0
    assert cli("--db", str(db), "people", "add", "annie", "--account", "gitlab:ann").exit_code == 0
    # added after the sync: her merge requests are hers at once, as her commits are
    assert rows(db, "SELECT number, handle FROM pull_requests p JOIN people e ON e.id = p.person_id ORDER BY 1") == [
        (1, "annie"),
        (2, "annie"),
        (4, "bobby"),
        (5, "annie"),
    ]
    assert rows(db, "SELECT COUNT(*) FROM commits c JOIN people p ON p.id = c.person_id WHERE p.handle = 'cy'") == [
        (1,)
    ]
    prs = cli("--db", str(db), "kpi", "prs", "--since", "2026-10-01", "--until", "2026-11-01", "-f", "json")
    assert prs.exit_code == 0, prs.output
    assert json.dumps(json.loads(prs.stdout)).count('"merged"') >= 0
    reviews = cli("--db", str(db), "kpi", "reviews", "--since", "2026-10-01", "--until", "2026-11-01", "-f", "json")
    assert reviews.exit_code == 0, reviews.output
    assert "bobby" in reviews.stdout  # bob's GitLab account is a person now
    dora = cli("--db", str(db), "kpi", "dora", "--since", "2026-10-01", "--until", "2026-11-01", "-f", "json")
    assert dora.exit_code == 0, dora.output
    deployed = rows(db, "SELECT name, status FROM deployments ORDER BY name")
    assert deployed == [("deployment 501", "success"), ("deployment 502", "failure")]  # canceled, running, staging: no


def test_a_running_deployment_is_read_again_once_it_finishes(cli, world, tmp_path):
    fake, _repo, _shas = world
    db = synced(cli, fake, tmp_path)
    running = next(d for d in fake.projects["acme/api"].deployments if d["id"] == 504)
    running.update(status="success", updated_at=at(8, 18), finished_at=at(8, 18))
    try:
        synced(cli, fake, tmp_path)
        assert rows(db, "SELECT status, deployed_at FROM deployments WHERE name = 'deployment 504'") == [
            ("success", "2026-10-08T18:00:00Z")
        ]
    finally:
        running.update(status="running", updated_at=at(8, 14), finished_at=None)


def test_a_group_pattern_takes_subgroups_and_leaves_archived_and_forks(cli, world, tmp_path):
    fake, _repo, _shas = world
    (tmp_path / "teamops.toml").write_text('[[repos]]\ngitlab = "acme/*"\nexclude = ["api"]\n')
    db = tmp_path / "t.db"
    res = cli("--config", str(tmp_path / "teamops.toml"), "--db", str(db), "sync-commits", env=env_for(fake))
    assert res.exit_code == 0, res.output
    assert rows(db, "SELECT locator FROM repos ORDER BY locator") == [("acme/web/site",)]
    (tmp_path / "teamops.toml").write_text('[[repos]]\ngitlab = "acme/*"\nexclude = ["api", "site"]\nforks = true\n')
    res = cli("--config", str(tmp_path / "teamops.toml"), "--db", str(db), "sync-commits", env=env_for(fake))
    assert res.exit_code == 0, res.output
    assert ("acme/forked",) in rows(db, "SELECT locator FROM repos")


def test_a_clone_of_the_project_shares_its_repository_and_brings_the_commits(cli, world, tmp_path):
    fake, repo, _shas = world
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(repo.path), str(clone)], check=True)
    subprocess.run(["git", "-C", str(clone), "remote", "set-url", "origin", "git@gitlab.com:acme/api.git"], check=True)
    db = tmp_path / "t.db"
    assert cli("--db", str(db), "sync-commits", "--repo", str(clone)).exit_code == 0
    before = fake.requests("/repository/commits")
    res = cli("--db", str(db), "sync-commits", "--repo", "gitlab:acme/api", env=env_for(fake))
    assert res.exit_code == 0, res.output
    assert fake.requests("/repository/commits") == before  # the clone has them
    assert rows(db, "SELECT kind, locator, path IS NOT NULL FROM repos") == [("gitlab", "acme/api", 1)]
    assert rows(db, "SELECT COUNT(*) FROM pull_requests WHERE source = 'gitlab'") == [(5,)]


@pytest.mark.parametrize(
    ("status", "needle", "code"),
    [(401, "GitLab rejected the token", 4), (403, "GitLab refused", 4), (404, "GitLab found nothing", 4)],
)
def test_refusals_are_one_line_each(cli, world, tmp_path, status, needle, code):
    fake, _repo, _shas = world
    fake.fail(status, on="/projects/acme%2Fapi", times=1)
    res = cli("--db", str(tmp_path / "t.db"), "sync-commits", "--repo", "gitlab:acme/api", env=env_for(fake))
    assert res.exit_code == code and needle in res.stderr and "Traceback" not in res.output
    assert TOKEN not in res.output


def test_a_429_is_waited_out_as_retry_after_says(cli, world, tmp_path):
    fake, _repo, _shas = world
    fake.fail(429, on="/merge_requests", times=2)
    start = len(fake.log)
    db = synced(cli, fake, tmp_path)
    statuses = [s for p, _, s in fake.log[start:] if p.endswith("/merge_requests")]
    assert statuses[:3] == [429, 429, 200]
    assert rows(db, "SELECT COUNT(*) FROM pull_requests") == [(5,)]


def test_pages_past_ten_thousand_records_follow_x_next_page_without_totals(world):
    from teamops.sources.gitlab.client import GitLabClient

    fake, _repo, _shas = world
    api = fake.projects["acme/api"]
    saved = api.releases
    api.releases = [{"tag_name": f"v{i}", "released_at": f"2026-01-01T00:00:{i % 60:02d}Z"} for i in range(10_050)]
    try:
        client = GitLabClient(fake.url, TOKEN)
        got = sum(len(page) for page in client.pages("/projects/acme%2Fapi/releases", None, "releases"))
        assert got == 10_050 and client.requests == 101
    finally:
        api.releases = saved


def test_push_hook_needs_the_webhook_token_and_stores_the_commits(cli, world, tmp_path):
    fake, _repo, shas = world
    payload = {
        "object_kind": "push",
        "event_name": "push",
        "ref": "refs/heads/main",
        "before": "0" * 40,
        "after": shas["co"],
        "project": {"path_with_namespace": "acme/api", "default_branch": "main"},
        "commits": [
            {
                "id": shas["co"],
                "message": "Pair on cache\n",
                "title": "Pair on cache",
                "timestamp": "2026-10-09T11:00:00+02:00",
                "author": {"name": "Ann Lee", "email": "ann@acme.io"},
                "added": ["cache.py"],
                "modified": [],
                "removed": [],
            }
        ],
        "total_commits_count": 1,
    }
    event = tmp_path / "push.json"
    event.write_text(json.dumps(payload))
    db = tmp_path / "t.db"
    env = {"GITLAB_WEBHOOK_TOKEN": "s3cret"}
    args = ("--db", str(db), "sync-commits", "--event", str(event), "--event-name", "Push Hook")
    wrong = cli(*args, "--signature", "nope", env=env)
    assert wrong.exit_code == 5 and "does not match" in wrong.stderr
    assert not db.exists() or rows(db, "SELECT COUNT(*) FROM commits") == [(0,)]
    ok = cli(*args, "--signature", "s3cret", env=env)
    assert ok.exit_code == 0, ok.output
    assert rows(db, "SELECT sha, committed_at FROM commits") == [(shas["co"], "2026-10-09T09:00:00Z")]
    synced(cli, fake, tmp_path)  # the sync completes the line counts
    assert rows(db, "SELECT additions FROM commits WHERE sha = ?", shas["co"]) == [(7,)]


def test_merge_request_and_deployment_hooks_from_real_payloads(cli, tmp_path):
    db = tmp_path / "t.db"
    mr = cli(
        "--db",
        str(db),
        "sync-commits",
        "--event",
        str(HOOKS / "merge_request.json"),
        "--event-name",
        "Merge Request Hook",
    )
    assert mr.exit_code == 0, mr.output
    assert rows(db, "SELECT number, title, state, author, created_at FROM pull_requests") == [
        (1, "MS-Viewport", "open", "user1", "2013-12-03T17:23:34Z")
    ]
    staging = cli(
        "--db", str(db), "sync-commits", "--event", str(HOOKS / "deployment.json"), "--event-name", "Deployment Hook"
    )
    assert staging.exit_code == 0 and "not a finished deployment to production" in staging.stderr
    payload = json.loads((HOOKS / "deployment.json").read_text())
    payload["environment"] = "production"
    payload["commit_url"] = payload["commit_url"].replace("279484c09fbe69ededfced8c1bb6e6d24616b468", "a" * 40)
    (tmp_path / "prod.json").write_text(json.dumps(payload))
    prod = cli(
        "--db", str(db), "sync-commits", "--event", str(tmp_path / "prod.json"), "--event-name", "Deployment Hook"
    )
    assert prod.exit_code == 0, prod.output
    assert rows(db, "SELECT name, sha, status, deployed_at FROM deployments") == [
        ("deployment 15", "a" * 40, "success", "2021-04-28T19:50:00Z")
    ]
    bad = cli("--db", str(db), "sync-commits", "--event", str(HOOKS / "deployment.json"), "--event-name", "Push Hook")
    assert bad.exit_code == 5 and "not a Push Hook payload" in bad.stderr


@pytest.mark.parametrize(
    ("toml", "needle"),
    [
        ('[[repos]]\ngitlab = "no-slash"\n', "repos[0].gitlab must look like"),
        ('[[repos]]\ngitlab = "a/b"\npath = "."\n', "repos[0] needs exactly one of"),
        ('[gitlab]\nurl = "ftp://x"\n', "gitlab.url must be an http(s) URL"),
        ('[gitlab]\nurll = "https://x"\n', "gitlab.urll is not a known key"),
        ("[gitlab]\ntimeout_s = 0\n", "gitlab.timeout_s must be from 1"),
    ],
)
def test_bad_gitlab_settings_are_one_line_and_exit_3(cli, tmp_path, toml, needle):
    (tmp_path / "teamops.toml").write_text(toml)
    res = cli("--config", str(tmp_path / "teamops.toml"), "config", "show")
    assert res.exit_code == 3 and needle in res.stderr and "Traceback" not in res.output


def test_doctor_and_config_show_know_the_gitlab_section(cli, world, tmp_path):
    fake, _repo, _shas = world
    (tmp_path / "teamops.toml").write_text('[[repos]]\ngitlab = "acme/api"\n[gitlab]\nenvironment = "prod"\n')
    cfg = str(tmp_path / "teamops.toml")
    shown = cli("--config", cfg, "config", "show", "-f", "json", env=env_for(fake))
    src = {r["key"]: (r["value"], r["source"]) for r in json.loads(shown.stdout)["rows"]}
    assert src["gitlab.environment"] == ("prod", "file") and src["gitlab.url"][1] == "env"
    assert src["repos[0].gitlab"] == ("acme/api", "file")
    doctor = cli("--config", cfg, "--db", str(tmp_path / "t.db"), "doctor", env=env_for(fake))
    assert "acme/api answers (default branch main" in doctor.output, doctor.output
    offline = cli("--config", cfg, "--db", str(tmp_path / "t.db"), "doctor", "--offline", env={})
    assert "$GITLAB_TOKEN is not set" in offline.output


def test_a_group_in_one_process_equals_two_shards_merged(cli, world, tmp_path):
    from tests.sync.test_org import rows_by_natural_key

    fake, repo, _ = world
    env = env_for(fake)
    one = tmp_path / "one.db"
    both = ("--repo", "gitlab:acme/api", "--repo", "gitlab:acme/web/site")
    assert cli("--db", str(one), "sync-commits", *both, env=env).exit_code == 0
    plan = cli("--db", str(one), "shard", "plan", "--shards", "2", *both, env=env)
    assert plan.exit_code == 0, plan.output
    matrix = json.loads(plan.stdout)["include"]
    assert sorted(r for m in matrix for r in m["repos"].split()) == ["gitlab:acme/api", "gitlab:acme/web/site"]
    shards = []
    for entry in matrix:
        shard = tmp_path / f"shard-{entry['shard']}.db"
        args = [a for r in entry["repos"].split() for a in ("--repo", r)]
        assert cli("--db", str(shard), "sync-commits", *args, env=env).exit_code == 0
        shards.append(str(shard))
    merged = tmp_path / "merged.db"
    res = cli("--db", str(merged), "merge", *shards)
    assert res.exit_code == 0, res.output
    assert rows_by_natural_key(merged) == rows_by_natural_key(one)
    assert rows(
        merged, "SELECT COUNT(*) FROM commits c JOIN repos r ON r.id = c.repo_id WHERE r.locator = 'acme/api'"
    ) == [(int(repo.git("rev-list", "--count", "main")),)]
    again = len(fake.log)  # the merged file's cursors carry on: a sync there finds nothing new
    assert cli("--db", str(merged), "sync-commits", *both, env=env).exit_code == 0
    # one page per stream: commits, merge requests, deployments; and releases for the project without deployments
    assert len(fake.log) - again == 3 + 4


def test_several_pages_of_commits_and_merge_requests_within_the_request_budget(cli, tmp_path):
    """⌈commits/100⌉ + ⌈merge requests/100⌉ + one page of notes each + 5 (here 450 commits on 5 pages, 140
    merge requests on 2); a run that finds nothing new: one request per stream."""
    import math

    from tests.fakes.gitlab import merge_requests_from_merges
    from tests.support.synth import build_repo

    path = build_repo(tmp_path / "big", 450, merge_every=2)
    with FakeGitLab({"acme/big": path}) as fake:
        mrs = merge_requests_from_merges(fake, "acme/big", 140)
        db = tmp_path / "t.db"
        args = ("--db", str(db), "sync-commits", "--repo", "gitlab:acme/big")
        res = cli(*args, env=env_for(fake))
        assert res.exit_code == 0, res.output
        commits = len(
            subprocess.run(["git", "-C", str(path), "rev-list", "main"], capture_output=True, text=True).stdout.split()
        )
        assert rows(db, "SELECT COUNT(*) FROM commits") == [(commits,)]
        assert rows(db, "SELECT COUNT(*) FROM pull_requests WHERE approved_at IS NOT NULL") == [(mrs,)]
        assert rows(db, "SELECT COUNT(DISTINCT number) FROM pr_commits") == [(mrs,)]  # from the graph, no request
        budget = math.ceil(commits / 100) + math.ceil(mrs / 100) + mrs + 5
        assert len(fake.log) <= budget, (len(fake.log), budget)
        first = len(fake.log)
        assert cli(*args, env=env_for(fake)).exit_code == 0
        assert len(fake.log) - first == 4  # commits, merge requests, deployments, releases (it has no deployments)


def test_activity_the_dashboard_and_review_reminders_from_gitlab(cli, world, tmp_path):
    fake, repo, _ = world
    config = tmp_path / "teamops.toml"
    config.write_text(
        '[[repos]]\ngitlab = "acme/api"\n'
        '[[people]]\nhandle = "bob"\nemails = ["bob@acme.io"]\naccounts = { gitlab = "bob" }\ntimezone = "Europe/Berlin"\n'
        '[[people]]\nhandle = "ann"\nemails = ["ann@acme.io"]\naccounts = { gitlab = "ann" }\n'
        '[notify.channels.team]\nkind = "webhook"\nurl = "http://127.0.0.1:9/hook"\n'
        '[notify.routes]\nreview_reminder = ["team"]\n'
    )
    env = {**env_for(fake), "TEAMOPS_CONFIG": str(config)}
    db = str(tmp_path / "t.db")
    assert cli("--db", db, "sync-commits", env=env).exit_code == 0
    activity = cli(
        "--db", db, "kpi", "activity", "--since", "2026-10-01", "--until", "2026-11-01", "-f", "json", env=env
    )
    people = {r["person"]: r for r in json.loads(activity.stdout)["rows"]}
    for who in ("ann", "bob"):  # as `git log --no-merges` says
        truth = repo.git("log", "--no-merges", "--format=%H", f"--author={who}@acme.io", "main").split()
        assert people[who]["commits"] == len(truth) > 0
    # Monday 12 Oct, 09:00 UTC (11:00 in Berlin): asked; by Wednesday 15:00 UTC, 22 of bob's working hours
    nudged = cli("--db", db, "remind", "reviews", "--no-send", env={**env, "TEAMOPS_NOW": "2026-10-14T15:00:00Z"})
    assert nudged.exit_code == 0, nudged.output
    assert rows(Path(db), "SELECT number, reviewer FROM review_nudges") == [(5, "bob")]  # !3 is a draft
    site = tmp_path / "site"
    built = cli("--db", db, "report", "html", "--out", str(site), env=env)
    assert built.exit_code == 0, built.output
    pages = {p.relative_to(site).as_posix() for p in site.rglob("*.html")}
    assert "index.html" in pages and any(p.startswith("people/") for p in pages)
    assert "acme/api" in (site / "index.html").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("email", "found"),
    [
        ("4567-cy@users.noreply.gitlab.com", ("gitlab", "cy")),
        ("cy@users.noreply.gitlab.com", ("gitlab", "cy")),  # gitlab.com's older form
        ("12-ann.lee@users.noreply.gitlab.acme.io", ("gitlab", "ann.lee")),  # a self-managed instance
        ("12345+alicel@users.noreply.github.com", ("github", "alicel")),
        ("123-bob@users.noreply.github.com", ("github", "123-bob")),  # a GitHub login may hold a dash
        ("bob@users.noreply.acme.io", None),  # no id: nobody's private address that teamops knows
        ("ann@acme.io", None),
    ],
)
def test_private_addresses_name_the_account_of_the_right_service(email, found):
    from teamops.sources import account_of

    assert account_of(email) == found


def deep(n: int) -> str:
    return "[" * n + "]" * n


@pytest.mark.parametrize(
    ("name", "body", "needle"),
    [
        ("Push Hook", b"\xff\xfe not json", "not valid JSON"),
        ("Push Hook", b"[1, 2]", "is a JSON list, not a GitLab webhook payload"),
        ("Push Hook", ('{"object_kind": "push", "project": ' + deep(100_000) + "}").encode(), "not valid JSON"),
        ("Push Hook", b'{"object_kind": "push", "project": {"path_with_namespace": 5}}', "names no project"),
        (
            "Push Hook",
            b'{"object_kind": "push", "project": {"path_with_namespace": "a/b"}, "commits": [{"id": "x; rm -rf /"}]}',
            "no valid id or timestamp",
        ),
        (
            "Merge Request Hook",
            b'{"object_kind": "merge_request", "project": {"path_with_namespace": "a/b"}, '
            b'"object_attributes": {"iid": "7"}}',
            "has no iid",
        ),
        (
            "Deployment Hook",
            b'{"object_kind": "deployment", "project": {"path_with_namespace": "a/b"}, "environment": "production", '
            b'"status": "success", "deployment_id": 1, "commit_url": "javascript:alert(1)"}',
            "names no id, commit or time",
        ),
    ],
    ids=["bytes", "a-list", "nested", "project", "commit-id", "iid", "commit-url"],
)
def test_hostile_gitlab_payloads_are_one_line_exit_5_and_store_nothing(cli, tmp_path, name, body, needle):
    event = tmp_path / "event.json"
    event.write_bytes(body)
    db = tmp_path / "t.db"
    res = cli("--db", str(db), "sync-commits", "--event", str(event), "--event-name", name)
    assert res.exit_code == 5 and needle in res.stderr and "Traceback" not in res.output, res.output
    assert len(res.stderr.strip().splitlines()) == 1
    if db.exists():
        stored = rows(db, "SELECT (SELECT COUNT(*) FROM commits) + (SELECT COUNT(*) FROM pull_requests)")
        assert stored == [(0,)]


def test_a_gitlab_payload_over_its_cap_is_refused_before_it_is_read_whole(cli, tmp_path):
    (tmp_path / "teamops.toml").write_text("[gitlab]\nevent_max_mb = 1\n")
    event = tmp_path / "event.json"
    event.write_bytes(b'{"object_kind": "push", "pad": "' + b"x" * 1_100_000 + b'"}')
    res = cli(
        "--config", str(tmp_path / "teamops.toml"), "sync-commits", "--event", str(event), "--event-name", "Push Hook"
    )
    assert res.exit_code == 5 and "larger than 1 MB" in res.stderr


def test_answers_gitlab_should_not_send_are_skipped_not_crashed_on(world):
    """Records the API hands back are validated field by field: nothing of a malformed one reaches the store."""
    from teamops.sources.gitlab.records import commit, deployment, merge_request, read_notes

    assert commit({"id": "../../etc", "committed_date": "2026-10-01T00:00:00Z"}) is None
    assert commit({"id": "a" * 40, "committed_date": "yesterday"}) is None
    assert commit("not a dict") is None
    assert merge_request({"iid": True}, None, None) is None
    assert merge_request({"iid": -3}, None, None) is None
    assert deployment({"id": "1", "sha": "a" * 40, "status": "success"}) is None
    assert deployment({"id": 1, "sha": "a" * 40, "status": "canceled"}) is None
    notes = read_notes(
        [None, 5, {"system": True, "body": 7}, {"system": "yes", "body": "approved this merge request"}], "ann"
    )
    assert notes.reviews == [] and notes.requests == []
