"""Pull requests and reviews: from the fake GitHub (answers built on a real repository), from real webhook
payloads, inferred from a clone; the stages, the review load, and review nudges sent once."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys

import pytest

from tests.fakes.github import FakeGitHub, pull_node
from tests.support.paths import FIXTURES

WEBHOOKS = FIXTURES / "github-webhooks"


def env_for(gh: FakeGitHub, **extra: str) -> dict[str, str]:
    return {"GITHUB_TOKEN": gh.token, "TEAMOPS_GITHUB_API_URL": gh.url, **extra}


def at(day: int, hour: int) -> str:
    return f"2026-10-{day:02d}T{hour:02d}:00:00+00:00"


def z(day: int, hour: int) -> str:
    return f"2026-10-{day:02d}T{hour:02d}:00:00Z"


@pytest.fixture
def shop(make_repo):
    """main: init; topic-1 (two commits) merged by a merge commit as #1; "Fix login (#2)" squashed; a
    rebased bump (#4); release v1.0.0 on the last. topic-2 holds #2's own commit, never merged."""
    r = make_repo("api")
    r.commit("init", {"a.py": "1\n"}, date=at(1, 9))
    r.git("checkout", "-q", "-b", "topic-1")
    c1 = r.commit("export: first cut", {"export.py": "x\n" * 30}, author=("Alice", "alice@acme.io"), date=at(5, 9))
    c2 = r.commit("export: tests", {"test_export.py": "t\n" * 12}, author=("Alice", "alice@acme.io"), date=at(5, 13))
    r.git("checkout", "-q", "-b", "topic-2", "main")
    c3 = r.commit("login: fix", {"login.py": "l\n" * 5}, author=("Alice", "alice@acme.io"), date=at(7, 9))
    r.git("checkout", "-q", "main")
    env = {"GIT_AUTHOR_DATE": at(7, 9), "GIT_COMMITTER_DATE": at(7, 9)}
    r.git(
        "merge",
        "-q",
        "--no-ff",
        "-m",
        "Merge pull request #1 from acme/topic-1",
        "-m",
        "Add export",
        "topic-1",
        env=env,
    )
    m1 = r.git("rev-parse", "HEAD")
    s2 = r.commit("Fix login (#2)", {"login.py": "l\n" * 5}, author=("Alice", "alice@acme.io"), date=at(8, 10))
    r4 = r.commit("Bump lib", {"req.txt": "lib==2\n"}, author=("dependabot[bot]", "bot@x.io"), date=at(8, 13))
    nodes = [
        pull_node(
            1,
            title="Add export",
            author="alice",
            created=z(5, 14),
            merged=z(7, 9),
            state="MERGED",
            merge_commit=m1,
            commits=[(c1, z(5, 9)), (c2, z(5, 13))],
            events=[("ReviewRequestedEvent", z(6, 9), "bob"), ("ReadyForReviewEvent", z(6, 9), None)],
            reviews=[("alice", "COMMENTED", z(6, 8)), ("bob", "COMMENTED", z(6, 11)), ("carol", "APPROVED", z(6, 15))],
            additions=42,
            deletions=0,
        ),
        pull_node(
            2,
            title="Fix login",
            author="alice",
            created=z(7, 10),
            merged=z(8, 10),
            state="MERGED",
            merge_commit=s2,
            commits=[(c3, z(7, 9))],
            reviews=[("dave", "DISMISSED", z(7, 12))],
            additions=5,
            deletions=0,
        ),
        pull_node(
            3,
            title="Rework everything",
            author=None,  # a deleted account
            created=z(8, 9),
            updated=z(9, 9),
            draft=False,
            events=[
                ("ReadyForReviewEvent", z(8, 10), None),
                ("ConvertToDraftEvent", z(8, 11), None),
                ("ReadyForReviewEvent", z(9, 9), None),
                ("ReviewRequestedEvent", z(9, 9), "bob"),
            ],
            requested=["bob", "team:core"],
            head_repo="someone/api",
            additions=90000,
            deletions=1000,
            files=3000,
        ),
        pull_node(
            4,
            title="Bump lib",
            author="dependabot[bot]",
            created=z(8, 12),
            merged=z(8, 13),
            state="MERGED",
            merge_commit=r4,
            commits=[(r4, z(8, 13))],
            additions=1,
            deletions=1,
        ),
    ]
    release = {
        "tagName": "v1.0.0",
        "publishedAt": z(9, 9),
        "createdAt": z(9, 9),
        "isDraft": False,
        "isPrerelease": False,
        "tagCommit": {"oid": r4},
    }
    return r, nodes, release


def serve(shop) -> FakeGitHub:
    repo, nodes, release = shop
    gh = FakeGitHub({"acme/api": repo.path})
    gh.repos["acme/api"].pulls = nodes
    gh.repos["acme/api"].releases = [release]
    return gh


def sql(db, query, *args):
    conn = sqlite3.connect(db)
    try:
        return conn.execute(query, args).fetchall()
    finally:
        conn.close()


def test_pull_requests_from_github_and_their_stages(shop, cli, tmp_path):
    db = str(tmp_path / "t.db")
    with serve(shop) as gh:
        res = cli("--db", db, "-v", "sync-commits", "--repo", "acme/api", env=env_for(gh))
        assert res.exit_code == 0, res.output
        assert "pull requests of acme/api: 4 new or updated (1 pages)" in res.stderr
        before = gh.counted()
        again = cli("--db", db, "sync-commits", "--repo", "acme/api", env=env_for(gh))
        assert again.exit_code == 0 and gh.counted() == before  # nothing changed: only free 304s
    rows = sql(
        db,
        "SELECT number, author, author_kind, state, draft, head_repo, ready_at, first_review_at, approved_at, "
        "changed_files FROM pull_requests ORDER BY number",
    )
    assert rows == [
        (1, "alice", "user", "merged", 0, None, z(6, 9), z(6, 11), z(6, 15), 1),  # alice's own review left out
        (2, "alice", "user", "merged", 0, None, z(7, 10), z(7, 12), None, 1),  # a dismissed review is no approval
        (3, None, "ghost", "open", 0, "someone/api", z(9, 9), None, None, 3000),  # ready again after a draft
        (4, "dependabot[bot]", "bot", "merged", 0, None, z(8, 12), None, None, 1),
    ]
    assert sql(db, "SELECT reviewer, pending FROM pr_review_requests WHERE number = 3 ORDER BY 1") == [
        ("bob", 1),
        ("team:core", 1),
    ]
    assert sql(db, "SELECT reviewer, pending FROM pr_review_requests WHERE number = 1") == [("bob", 0)]
    res = cli("--db", db, "kpi", "prs", "--since", "2026-10-01", "--until", "2026-10-31", "-f", "json")
    data = json.loads(res.stdout)
    # docs/kpi.md's example: coding 24, 1 and 0 h (a commit authored after the pull request was ready);
    # pickup 2 and 2 h; review 22 and 22 h; deploy 48, 23 and 20 h (v1.0.0 on 9 Oct, 09:00)
    assert data["merged"] == 3
    assert data["medians_h"] == {"coding": 1.0, "pickup": 2.0, "review": 22.0, "deploy": 23.0}
    assert data["p85_h"] == {"coding": 24.0, "pickup": 2.0, "review": 22.0, "deploy": 48.0}
    assert data["unreviewed_share"] == 0.333 and data["sizes"] == {"XS": 2, "S": 1, "M": 0, "L": 0, "XL": 0}
    # every ISO week the window touches is a row: the weeks without a merge as zeros
    assert [(w["week"], w["merged"]) for w in data["rows"]] == [
        ("2026-W40", 0),
        ("2026-W41", 3),
        ("2026-W42", 0),
        ("2026-W43", 0),
        ("2026-W44", 0),
    ]
    table = cli("--db", db, "kpi", "prs", "--since", "2026-10-01", "--until", "2026-10-31")
    assert "33% merged without review" in table.stdout
    res = cli("--db", db, "kpi", "reviews", "--since", "2026-10-01", "--until", "2026-10-31", "-f", "json")
    load = {r["person"]: r for r in json.loads(res.stdout)["rows"]}
    assert {k: (v["reviews"], v["approvals"], v["first_review_median_h"]) for k, v in load.items() if v["reviews"]} == {
        "bob": (1, 0, 2.0),  # asked at 09:00, reviewed at 11:00
        "carol": (1, 1, 6.0),  # not asked: from ready (09:00) to 15:00
        "dave": (1, 0, 2.0),
    }
    assert load["alice"]["authored"] == 2 and "(ghost)" in load
    assert "dependabot[bot]" not in load  # a bot authored #4: no row of its own
    everyone = cli("--db", db, "kpi", "reviews", "--since", "2026-10-01", "--until", "2026-10-31", "--include-bots")
    assert "dependabot[bot]" in everyone.stdout
    summary = cli("--db", db, "kpi", "summary", "--since", "2026-10-01", "--until", "2026-10-31", "-f", "json")
    assert json.loads(summary.stdout)["pull_requests"]["merged"] == 3
    dora = cli("--db", db, "kpi", "dora", "--since", "2026-10-01", "--until", "2026-10-31", "-f", "json")
    assert json.loads(dora.stdout)["lead_time_stages_h"] == data["medians_h"]  # DORA's lead time, by stage


def test_a_force_push_replaces_the_head_commits_and_a_kill_resumes_exactly(shop, cli, tmp_path):
    _, nodes, _ = shop
    many = [pull_node(n, created=z(10, 9), updated=f"2026-10-10T{n // 60:02d}:{n % 60:02d}:00Z") for n in range(5, 125)]
    # more reviews than one page holds: read on for that pull request alone
    many[0]["reviews"] = [
        {"id": f"R{i}", "state": "COMMENTED", "submittedAt": z(11, 9), "author": {"__typename": "User", "login": "x"}}
        for i in range(130)
    ]
    clean, killed = str(tmp_path / "clean.db"), str(tmp_path / "killed.db")
    with serve(shop) as gh:
        gh.repos["acme/api"].pulls = nodes + many
        assert cli("--db", clean, "sync-commits", "--repo", "acme/api", env=env_for(gh)).exit_code == 0
        gh.fail("503", on="graphql", times=3)
        gh.faults[0].after = 3  # history, releases, the first page of pull requests; then the second fails
        res = cli("--db", killed, "sync-commits", "--repo", "acme/api", env=env_for(gh, TEAMOPS_GITHUB_MAX_RETRIES="0"))
        assert res.exit_code == 4
        assert sql(killed, "SELECT COUNT(*) FROM pull_requests") == [(50,)]
        gh.faults.clear()
        pages_before = sum(1 for _, path, _ in gh.log if "graphql" in path)
        assert cli("--db", killed, "sync-commits", "--repo", "acme/api", env=env_for(gh)).exit_code == 0
        resumed = sum(1 for _, path, _ in gh.log if "graphql" in path) - pages_before
        assert resumed == 3  # the second and third pages (and #5's other reviews), not the first again
        # a force-push: #3's head is now one other commit
        node = next(n for n in gh.repos["acme/api"].pulls if n["number"] == 3)
        node["commits"], node["updatedAt"] = [{"oid": "f" * 40, "authoredDate": z(11, 9)}], z(11, 9)
        assert cli("--db", killed, "sync-commits", "--repo", "acme/api", env=env_for(gh)).exit_code == 0
    columns = "number, title, state, ready_at, first_review_at, merged_at, first_commit_at"
    query = f"SELECT {columns} FROM pull_requests WHERE number != 3 ORDER BY number"
    assert sql(killed, query) == sql(clean, query) and len(sql(clean, query)) == 123
    assert sql(killed, "SELECT sha FROM pr_commits WHERE number = 3") == [("f" * 40,)]
    assert sql(clean, "SELECT COUNT(*) FROM pr_reviews WHERE number = 5") == [(130,)]


def test_pull_requests_inferred_from_a_clone_and_replaced_by_github(shop, cli, tmp_path):
    repo, _, _ = shop
    repo.git("remote", "add", "origin", "https://github.com/acme/api.git")  # one repository row for both
    db = str(tmp_path / "t.db")
    res = cli("--db", db, "-v", "sync-commits", "--repo", str(repo.path))
    assert "pull requests of acme/api: 2 inferred from merge commits and squash subjects" in res.stderr
    rows = sql(db, "SELECT number, title, head_branch, inferred, additions, merged_at FROM pull_requests ORDER BY 1")
    assert rows == [(1, "Add export", "topic-1", 1, 42, z(7, 9)), (2, "Fix login", None, 1, 5, z(8, 10))]
    res = cli("--db", db, "kpi", "prs", "--since", "2026-10-01", "--until", "2026-10-31")
    assert "2 pull requests inferred from merge commits" in res.stdout and "need the GitHub API" in res.stdout
    with serve(shop) as gh:
        assert cli("--db", db, "sync-commits", "--repo", "acme/api", env=env_for(gh)).exit_code == 0
    assert sql(db, "SELECT number, inferred, source FROM pull_requests ORDER BY 1") == [
        (1, 0, "github"),
        (2, 0, "github"),
        (3, 0, "github"),
        (4, 0, "github"),
    ]


def payload(name: str) -> bytes:
    return (WEBHOOKS / f"{name}.payload.json").read_bytes()


def test_webhook_payloads_are_stored_once_whatever_their_order(cli, tmp_path):
    db = str(tmp_path / "t.db")
    names = [
        ("pull_request", "pull_request/opened"),
        ("pull_request", "pull_request/review_requested"),
        ("pull_request", "pull_request/ready_for_review"),
        ("pull_request_review", "pull_request_review/submitted"),
        ("pull_request_review", "pull_request_review/dismissed"),
        ("pull_request", "pull_request/closed"),
    ]
    files = []
    for i, (_, name) in enumerate(names):
        path = tmp_path / f"{i}.json"
        path.write_bytes(payload(name))
        files.append(path)
    for (event, _), path in zip(names, files, strict=True):
        res = cli("--db", db, "sync-commits", "--event", str(path), "--event-name", event)
        assert res.exit_code == 0 and "ingested" in res.stderr, res.output
    first = sql(db, "SELECT * FROM pull_requests"), sql(db, "SELECT review_id, reviewer, state FROM pr_reviews")
    assert first[0][0][4:8] == ("Codertocat", "user", None, "closed")  # the newest payload's state won
    assert first[1] == [("MDE3OlB1bGxSZXF1ZXN0UmV2aWV3MjM3ODk1Njcx", "Codertocat", "DISMISSED")]
    assert sql(db, "SELECT first_review_at FROM pull_requests") == [(None,)]  # the author's own review
    assert sql(db, "SELECT reviewer, pending FROM pr_review_requests") == [("octocat", 1)]
    for (event, _), path in reversed(list(zip(names, files, strict=True))):  # again, newest first
        cli("--db", db, "sync-commits", "--event", str(path), "--event-name", event)
    assert (
        sql(db, "SELECT * FROM pull_requests"),
        sql(db, "SELECT review_id, reviewer, state FROM pr_reviews"),
    ) == first
    # a payload whose author is gone (GitHub sends no user) is kept, marked
    body = json.loads(payload("pull_request/opened"))
    del body["pull_request"]["user"]
    body["pull_request"]["number"] = 9
    (tmp_path / "ghost.json").write_text(json.dumps(body))
    res = cli("--db", db, "sync-commits", "--event", str(tmp_path / "ghost.json"))  # no name: told by its shape
    assert res.exit_code == 0, res.output
    assert sql(db, "SELECT author, author_kind FROM pull_requests WHERE number = 9") == [(None, "ghost")]
    res = cli("--db", db, "sync-commits", "--event", str(files[3]))  # an unnamed review: told by its shape too
    assert res.exit_code == 0 and "ingested pull_request_review for " in res.stderr, res.output
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"action": "opened", "pull_request": {"number": "x"}}))
    res = cli("--db", db, "sync-commits", "--event", str(bad), "--event-name", "pull_request")
    assert res.exit_code == 5 and res.stderr.count("\n") == 1


def test_review_nudges_go_once_per_pull_request_and_reviewer_a_day(shop, cli, tmp_path):
    db = str(tmp_path / "t.db")
    config = tmp_path / "teamops.toml"
    config.write_text(
        '[[people]]\nhandle = "bob"\ngithub = "bob"\ntimezone = "Europe/Berlin"\n'
        '[notify.channels.team]\nkind = "webhook"\nurl = "http://127.0.0.1:9/hook"\n'
        '[notify.routes]\nreview_reminder = ["team"]\n'
    )
    base = {"TEAMOPS_CONFIG": str(config)}
    with serve(shop) as gh:
        assert cli("--db", db, "sync-commits", "--repo", "acme/api", env={**env_for(gh), **base}).exit_code == 0
    # requested Friday 9 Oct 09:00 UTC (11:00 in Berlin); by Monday 15:00 UTC: 6 + 8 working hours
    early = cli("--db", db, "remind", "reviews", "--no-send", env={**base, "TEAMOPS_NOW": "2026-10-09T14:00:00Z"})
    assert "no requested review has waited longer" in early.stderr
    monday = {**os.environ, **base, "TEAMOPS_NOW": "2026-10-12T15:00:00Z"}
    cmd = [sys.executable, "-m", "teamops", "--db", db, "remind", "reviews", "--no-send"]
    procs = [subprocess.Popen(cmd, env=monday, stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(4)]
    outs = [p.communicate(timeout=60) for p in procs]
    assert all(p.returncode == 0 for p in procs), outs
    messages = sql(db, "SELECT idempotency_key, payload FROM outbox")
    assert len(messages) == 1 and messages[0][0].startswith("reviews:bob:2026-10-12:")
    text = json.loads(messages[0][1])["text"]
    assert "acme/api #3 Rework everything, waiting 14 working hours" in text
    assert sql(db, "SELECT number, reviewer, day FROM review_nudges") == [(3, "bob", "2026-10-12")]
    jobs = cli("--db", db, "job", "list", "-f", "json", env=base)
    assert "remind reviews" in jobs.stdout  # the built-in eod job runs it once review_reminder is routed
    later = cli("--db", db, "remind", "reviews", "--no-send", env={**base, "TEAMOPS_NOW": "2026-10-12T16:00:00Z"})
    assert "nudged earlier today" in later.stderr
    cli("--db", db, "remind", "reviews", "--no-send", env={**base, "TEAMOPS_NOW": "2026-10-13T15:00:00Z"})
    assert len(sql(db, "SELECT 1 FROM outbox")) == 2  # the next day, once more


def test_a_clone_s_inferred_pull_requests_belong_to_whoever_wrote_them(make_repo, cli, tmp_path):
    """Without GitHub, a merge's pull request is its branch's first author's and a squash one its commit's
    author's (git says which); a person's and a team's pull-request figures count them, from the people
    added after the sync as from those added before."""
    r = make_repo("svc")
    r.commit("init", {"a.py": "1\n"}, date=at(1, 9))
    r.git("checkout", "-q", "-b", "topic")
    r.commit("export: first cut", {"e.py": "x\n"}, author=("Ann Archer", "ann@acme.io"), date=at(5, 9))
    r.commit("export: review fixes", {"e.py": "y\n"}, author=("Bob Baker", "bob@acme.io"), date=at(5, 13))
    r.git("checkout", "-q", "main")
    when = {"GIT_AUTHOR_DATE": at(6, 9), "GIT_COMMITTER_DATE": at(6, 9)}
    r.git("merge", "-q", "--no-ff", "-m", "Merge pull request #1 from acme/topic", "topic", env=when)
    r.commit("Fix login (#2)", {"l.py": "l\n"}, author=("Bob Baker", "bob@acme.io"), date=at(7, 10))
    r.commit("Tidy (#3)", {"t.py": "t\n"}, author=("Cy Contractor", "cy@else.io"), date=at(8, 10))
    first_of_branch = r.git("log", "--reverse", "--format=%ae", "HEAD~2^1..HEAD~2^2").splitlines()[0]
    squashers = r.git("log", "-2", "--format=%ae").splitlines()[::-1]
    truth = {1: first_of_branch, 2: squashers[0], 3: squashers[1]}
    assert truth == {1: "ann@acme.io", 2: "bob@acme.io", 3: "cy@else.io"}
    handle = {"ann@acme.io": "ann", "bob@acme.io": "bob"}

    def authors(db: str, *filters: str) -> dict[int, str]:
        res = cli("--db", db, "-f", "json", "kpi", "prs", "--since", "2026-10-01", "--until", "2026-11-01", *filters)
        assert res.exit_code == 0, res.output
        return {p["number"]: p["author"] for p in json.loads(res.stdout)["pulls"]}

    after = str(tmp_path / "after.db")
    assert cli("--db", after, "sync-commits", "--repo", str(r.path)).exit_code == 0
    assert set(authors(after).values()) == {"(inferred)"}
    for name, email, team in (("ann", "ann@acme.io", "core"), ("bob", "bob@acme.io", "web")):
        assert cli("--db", after, "people", "add", name, "--email", email, "--team", team).exit_code == 0
    expected = {n: handle.get(email, "(inferred)") for n, email in truth.items()}
    assert authors(after) == expected
    assert authors(after, "--person", "ann") == {1: "ann"}
    assert authors(after, "--team", "web") == {2: "bob"}
    # a database an older teamops wrote (inferred pull requests without a person) gets them on its next open
    with sqlite3.connect(after) as conn:
        conn.execute("UPDATE pull_requests SET person_id = NULL")
        conn.execute("DELETE FROM _migrations WHERE name = 'm036_inferred_pull_request_authors'")
    conn.close()
    assert authors(after) == expected

    before = str(tmp_path / "before.db")
    for name, email, team in (("ann", "ann@acme.io", "core"), ("bob", "bob@acme.io", "web")):
        assert cli("--db", before, "people", "add", name, "--email", email, "--team", team).exit_code == 0
    assert cli("--db", before, "sync-commits", "--repo", str(r.path)).exit_code == 0
    assert authors(before) == expected
