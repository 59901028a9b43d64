"""A whole organisation: discovered, synced side by side under one rate budget, and as shards merged exactly."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

from teamops.sources import kinds
from tests.fakes.github import FakeGitHub, issue

# Columns that say when or at what cost a run happened, not what it stored.
RUN_COLUMNS = {"created_at", "updated_at", "last_run_at", "last_success_at", "requests_used", "rate_limit_remaining"}


def env_for(gh: FakeGitHub, **extra: str) -> dict[str, str]:
    return {"GITHUB_TOKEN": gh.token, "TEAMOPS_GITHUB_API_URL": gh.url, **extra}


@pytest.fixture
def org(make_repo, tmp_path):
    """acme: api (a merge and a release), web, docs, tools, an archived one and a fork; other/x beside it."""
    repos = {}
    for i, name in enumerate(["api", "web", "docs", "tools", "old", "forked"]):
        r = make_repo(f"acme-{name}")
        for n in range(2 + i):
            who = ("Alice", "alice@acme.io") if n % 2 == 0 else ("Bob", "bob@acme.io")
            r.commit(
                f"{name} change {n}",
                {f"{name}/f{n}.py": f"{n}\n" * (n + 1)},
                author=who,
                date=f"2026-10-{n + 1:02d}T10:00:00+00:00",
            )
        repos[f"acme/{name}"] = r
    api = repos["acme/api"]
    api.git("checkout", "-q", "-b", "topic")
    api.commit("topic work", {"api/topic.py": "t\n"}, date="2026-10-10T10:00:00+00:00")
    api.git("checkout", "-q", "main")
    api.merge("topic", date="2026-10-11T10:00:00+00:00")
    other = make_repo("other-x")
    other.commit("elsewhere", {"x": "1\n"})
    repos["other/x"] = other
    config = tmp_path / "teamops.toml"
    config.write_text('[[people]]\nhandle = "alice"\nemails = ["alice@acme.io"]\nteam = "core"\n')
    return repos, config


def serve(repos) -> FakeGitHub:
    gh = FakeGitHub({name: r.path for name, r in repos.items()})
    gh.owners["acme"] = "Organization"
    gh.repos["acme/old"].archived = True
    gh.repos["acme/forked"].fork = True
    head = subprocess.run(
        ["git", "-C", str(repos["acme/api"].path), "rev-parse", "main"], capture_output=True, text=True, check=True
    ).stdout.strip()
    gh.repos["acme/web"].issues = [
        issue(1, "Web down", "2026-10-05T10:00:00Z", labels=("incident", "sev1"), closed="2026-10-05T12:00:00Z"),
        issue(2, "Slow pages", "2026-10-06T10:00:00Z"),
    ]
    gh.repos["acme/api"].releases = [
        {
            "tagName": "v1.0.0",
            "publishedAt": "2026-10-12T12:00:00Z",
            "createdAt": "2026-10-12T12:00:00Z",
            "isDraft": False,
            "isPrerelease": False,
            "tagCommit": {"oid": head},
        }
    ]
    return gh


KINDS = tuple(k.kind for k in kinds())  # each kind keeps its cursors under its own name


def rows_by_natural_key(path: Path) -> dict[str, list[tuple]]:
    """Every table's rows with ids replaced by what they stand for (repository key, person handle, ...)."""
    conn = sqlite3.connect(path)
    try:
        repo = dict(conn.execute("SELECT id, key FROM repos"))
        person = dict(conn.execute("SELECT id, handle FROM people"))
        deployment = dict(conn.execute("SELECT id, name FROM deployments"))
        commit = dict(conn.execute("SELECT id, sha FROM commits"))
        refs = {"repo_id": repo, "person_id": person, "deployment_id": deployment, "commit_id": commit}
        out: dict[str, list[tuple]] = {}
        tables = [
            r[0]
            for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
            if not r[0].startswith(("sqlite_", "_migrations")) and "_fts_" not in r[0]
        ]
        for table in tables:
            if table.endswith("_fts"):
                base = table[: -len("_fts")]
                key = "sha" if base == "commits" else "id"
                out[table] = sorted(
                    conn.execute(f"SELECT b.{key}, f.rowid IS NOT NULL FROM {table} f JOIN {base} b ON b.id = f.rowid")
                )
                continue
            cols = [
                c[1] for c in conn.execute(f"PRAGMA table_info({table})") if c[1] != "id" and c[1] not in RUN_COLUMNS
            ]
            rows = []
            for row in conn.execute(f"SELECT {', '.join(cols)} FROM {table}"):
                shown = []
                for col, value in zip(cols, row, strict=True):
                    if col in refs:
                        value = refs[col].get(value, value)
                    if (
                        table == "sync_state"
                        and col == "source"
                        and value.split(":")[0] in (*KINDS, "tags", "delivery", "pulls", "pulls-inferred")
                    ):
                        head, _, rest = value.partition(":")
                        rid, _, tail = rest.partition(":")
                        value = f"{head}:{repo[int(rid)]}:{tail}"
                    shown.append(value)
                rows.append(tuple(shown))
            out[table] = sorted(rows, key=repr)
        return out
    finally:
        conn.close()


def test_an_organisation_in_one_process_equals_three_shards_merged(org, cli, tmp_path):
    repos, config = org
    one, merged = tmp_path / "one.db", tmp_path / "merged.db"
    env = {"TEAMOPS_CONFIG": str(config), "TEAMOPS_NOW": "2026-10-20T00:00:00Z"}  # one clock for every process
    with serve(repos) as gh:
        env.update(env_for(gh))
        res = cli("--db", str(one), "sync-commits", "--repo", "acme/*", "--concurrency", "3", env=env)
        assert res.exit_code == 0, res.output
        # archived and forks left out, other owners untouched
        assert "4 of 4 repositories synced" in res.stderr
        assert "acme/old" not in res.stderr and "acme/forked" not in res.stderr and "other/x" not in res.stderr
        one_process = gh.counted()
        plan = cli("shard", "plan", "--shards", "3", "--repo", "acme/*", env=env)
        assert plan.exit_code == 0, plan.output
        matrix = json.loads(plan.stdout)["include"]
        assert sorted(r for m in matrix for r in m["repos"].split()) == [
            "acme/api",
            "acme/docs",
            "acme/tools",
            "acme/web",
        ]
        assert len(matrix) == 3
        shards = []
        for entry in matrix:
            shard = tmp_path / f"shard-{entry['shard']}.db"
            args = [a for r in entry["repos"].split() for a in ("--repo", r)]
            res = cli("--db", str(shard), "sync-commits", *args, env=env)
            assert res.exit_code == 0, res.output
            shards.append(str(shard))
    # a listing, then per repository its head, one history page, the release, deployment, incident issues and
    # pull request lists, and the ETag of the issues question its next sync asks (6 + pages), and one delivery
    # query for the one repository that has a release
    assert one_process == 1 + 4 * (6 + 1) + 1
    for db in (one, shards[0]):  # an incident recorded by hand where the shard ran: merged once
        opened = ("incident", "open", "Queue stuck", "--at", "2026-10-07T08:00:00Z")
        assert cli("--db", str(db), *opened, env={"TEAMOPS_CONFIG": str(config)}).exit_code == 0
    res = cli("--db", str(merged), "merge", *shards, env={"TEAMOPS_CONFIG": str(config)})
    assert res.exit_code == 0, res.output
    want = rows_by_natural_key(one)
    got = rows_by_natural_key(merged)
    assert sum(len(v) for v in want.values()) > 40
    assert want["commits"] and want["deployments"] and want["deployment_commits"] and len(want["incidents"]) == 3
    assert got == want
    for name in ("api", "web"):  # ground truth from git: every commit of the branch, once
        count = int(repos[f"acme/{name}"].git("rev-list", "--count", "main"))
        conn = sqlite3.connect(merged)
        stored = conn.execute(
            "SELECT COUNT(*) FROM commits c JOIN repos r ON r.id = c.repo_id WHERE r.locator = ?", [f"acme/{name}"]
        ).fetchone()[0]
        conn.close()
        assert stored == count
    # merging the same files again changes nothing
    res = cli("--db", str(merged), "merge", *shards, "--format", "json", env={"TEAMOPS_CONFIG": str(config)})
    assert res.exit_code == 0
    assert all(r["commits"] == 0 and r["repos"] == 0 for r in json.loads(res.stdout)["rows"])
    assert rows_by_natural_key(merged) == want


def test_discovery_follows_the_owner_and_keeps_what_left(org, cli, tmp_path, make_repo):
    """GitHub Enterprise Server's paths; an archived repository asked for, a glob excluded; one added
    later is synced, one gone is kept with its history and marked."""
    repos, config = org
    db = str(tmp_path / "t.db")
    config.write_text(config.read_text() + '\n[[repos]]\ngithub = "acme/*"\nexclude = ["doc*"]\narchived = true\n')
    env = {"TEAMOPS_CONFIG": str(config)}
    with serve(repos) as gh:
        env.update(env_for(gh, TEAMOPS_GITHUB_API_URL=gh.url + "/api/v3"))  # as on GitHub Enterprise Server
        res = cli("--db", db, "sync-commits", env=env)
        assert res.exit_code == 0, res.output
        assert "acme/old" in res.stderr and "acme/docs" not in res.stderr  # archived asked for; docs excluded
        assert {p.split("?")[0] for _, p, _ in gh.log} >= {"/api/graphql", "/api/v3/repos/acme/api/commits/main"}
        late = make_repo("acme-late")
        late.commit("new repository", {"n": "1\n"})
        from tests.fakes.github import ServedRepo, load_commits

        gh.repos["acme/late"] = ServedRepo(late.path, load_commits(late.path))
        del gh.repos["acme/web"]
        res = cli("--db", db, "sync-commits", env=env)
        assert res.exit_code == 0, res.output
        assert "synced 1 new commit (incl. merges) from acme/late" in res.stderr
    conn = sqlite3.connect(db)
    marks = dict(conn.execute("SELECT locator, missing_reason FROM repos"))
    kept = conn.execute(
        "SELECT COUNT(*) FROM commits c JOIN repos r ON r.id = c.repo_id WHERE r.locator = 'acme/web'"
    ).fetchone()[0]
    conn.close()
    assert marks["acme/web"] == "no longer listed by acme" and kept == 3
    assert marks["acme/api"] is None and marks["acme/late"] is None


def test_one_repository_failing_does_not_stop_the_others(org, cli, tmp_path):
    repos, _ = org
    db = str(tmp_path / "t.db")
    with serve(repos) as gh:
        res = cli(
            "--db",
            db,
            "sync-commits",
            "--repo",
            "acme/api",
            "--repo",
            "acme/nope",
            "--repo",
            "acme/web",
            env=env_for(gh),
        )
    assert res.exit_code == 4
    assert "1 of 3 repositories failed: acme/nope" in res.stderr
    assert "acme/nope: failed: GitHub found nothing" in res.stderr
    assert "2 of 3 repositories synced" in res.stderr
    conn = sqlite3.connect(db)
    synced = {r[0] for r in conn.execute("SELECT DISTINCT r.locator FROM commits c JOIN repos r ON r.id = c.repo_id")}
    conn.close()
    assert synced == {"acme/api", "acme/web"}
    conn = sqlite3.connect(db)
    reason = conn.execute("SELECT missing_reason FROM repos WHERE locator = 'acme/nope'").fetchone()[0]
    conn.close()
    assert "GitHub found nothing" in reason and "(404)" in reason  # kept and marked, as a delisted one is


def test_a_secondary_limit_pauses_every_worker(org, cli, tmp_path):
    repos, _ = org
    with serve(repos) as gh:
        gh.fail("secondary", on="graphql", wait=1)
        gh.faults[0].after = 2
        gh.latency = 0.05  # each worker's repository takes a few tenths of a second: they overlap the pause
        res = cli(
            "--db", str(tmp_path / "t.db"), "sync-commits", "--repo", "acme/*", "--concurrency", "4", env=env_for(gh)
        )
        assert res.exit_code == 0, res.output
        limited = next(i for i, (_, _, status) in enumerate(gh.log) if status == 403)
        met = gh.stamps[limited]
        # requests already on their way when the limit was met are answered at once (on a loaded machine one
        # may reach the server a few tenths late); after that, nobody asks again until Retry-After has passed
        during = [s for s in gh.stamps[limited + 1 :] if met + 0.3 < s < met + 0.9]
        after = [s for s in gh.stamps[limited + 1 :] if s >= met + 0.9]
    assert during == [] and after


def test_side_by_side_workers_wait_for_the_window_instead_of_passing_the_limit(org, cli, tmp_path):
    repos, _ = org
    with serve(repos) as gh:
        # 8 requests left in this window, 30 in the next (the sync needs about 25)
        gh.limit, gh.remaining, gh.reset_at, gh.window = 30, 8, int(time.time()) + 2, 60
        res = cli(
            "--db", str(tmp_path / "t.db"), "sync-commits", "--repo", "acme/*", "--concurrency", "4", env=env_for(gh)
        )
        assert res.exit_code == 0, res.output
        assert [entry for entry in gh.log if entry[2] == 403] == []
    assert "4 of 4 repositories synced" in res.stderr


def test_local_clones_by_pattern(org, cli, tmp_path):
    db = str(tmp_path / "t.db")
    res = cli("--db", db, "sync-commits", "--repo", str(tmp_path / "acme-*"), "--concurrency", "2")
    assert res.exit_code == 0, res.output
    assert "6 of 6 repositories synced" in res.stderr
    res = cli("--db", db, "kpi", "activity", "--by", "repo", "--format", "json")
    assert res.exit_code == 0, res.output
    repos, _ = org
    rows = {r["repo"]: r["commits"] for r in json.loads(res.stdout)["rows"]}
    truth = {
        path.name: int(
            subprocess.run(
                ["git", "-C", str(path), "rev-list", "--count", "--no-merges", "HEAD"],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
        )
        for path in (r.path for name, r in repos.items() if name.startswith("acme/"))
    }
    assert rows == truth
    # the report covers what a glob names, and only that
    res = cli("--db", db, "kpi", "activity", "--by", "repo", "--repo", "acme-[aw]*", "--format", "json")
    assert sorted(r["repo"] for r in json.loads(res.stdout)["rows"]) == ["acme-api", "acme-web"]


def test_merge_refuses_other_schemas_and_stores_nothing(tmp_path, cli):
    from teamops.store.database import open_database

    old = tmp_path / "old.db"
    db = open_database(old)
    db.execute("DELETE FROM _migrations WHERE name = (SELECT name FROM _migrations ORDER BY rowid DESC LIMIT 1)")
    db.conn.close()
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database at all" * 100)
    into = tmp_path / "into.db"
    for bad, said in ((old, "not this teamops's schema"), (junk, "not a usable SQLite database")):
        res = cli("--db", str(into), "merge", str(bad))
        assert res.exit_code == 5 and said in res.stderr, res.output
    res = cli("--db", str(into), "merge", str(tmp_path / "absent.db"))
    assert res.exit_code == 5 and "no database file" in res.stderr


def test_the_summary_has_a_line_per_repository_then_the_rest_counted(make_repo, cli, tmp_path):
    for i in range(12):
        r = make_repo(f"svc-{i:02d}")
        for n in range(i + 1):
            r.commit(f"work {n}", {f"f{n}": f"{n}\n"}, date=f"2026-11-{n + 1:02d}T10:00:00+00:00")
    db = str(tmp_path / "t.db")
    assert cli("--db", db, "sync-commits", "--repo", str(tmp_path / "svc-*")).exit_code == 0
    window = ("--since", "2026-11-01", "--until", "2026-11-30")
    res = cli("--db", db, "kpi", "summary", *window, "--format", "markdown")
    lines = [line for line in res.stdout.splitlines() if line.startswith("| repo ")]
    assert lines[0].startswith("| repo svc-11 | 12 commits by 1 person")
    assert len(lines) == 10 and "| repo svc-02 |" in lines[-1]
    assert "| other repos | 2 more with 3 commits: teamops kpi activity --by repo |" in res.stdout
    data = json.loads(cli("--db", db, "kpi", "summary", *window, "--format", "json", "--repo", "svc-0*").stdout)
    assert data["totals"]["commits"] == sum(range(1, 11)) and len(data["repos"]) == 10


def test_without_a_token_every_github_repository_fails_as_a_config_error(org, cli, tmp_path):
    res = cli("--db", str(tmp_path / "t.db"), "sync-commits", "--repo", "acme/api", "--repo", "acme/web")
    assert res.exit_code == 3
    for name in ("acme/api", "acme/web"):
        assert f"{name}: failed: $GITHUB_TOKEN is not set" in res.stderr
    assert "2 of 2 repositories failed" in res.stderr


def test_a_repo_value_belongs_to_the_kind_that_claims_it(isolated):
    from teamops.sources import parse_repo_arg

    (isolated / "src" / "app" / ".git").mkdir(parents=True)
    assert parse_repo_arg("src/*").kind == "git"  # folders here match: clones, not an owner named src
    assert parse_repo_arg("acme/*").kind == "github"
    assert parse_repo_arg("acme/api").kind == "github"
    assert parse_repo_arg("src/app").kind == "git"  # an existing path wins over owner/name
    assert parse_repo_arg("../*").kind == "git" and parse_repo_arg("site").kind == "git"
