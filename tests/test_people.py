"""People and identities: commits attributed by email, GitHub login (noreply too) and name."""

from __future__ import annotations

import json
import sqlite3

import pytest


@pytest.fixture
def synced(make_repo, cli, tmp_path):
    repo = make_repo()
    repo.commit("a1", {"a": "1\n"}, author=("Alice Liddell", "Alice@Acme.io"))
    repo.commit("a2", {"a": "1\n2\n"}, author=("alice", "12345+alicel@users.noreply.github.com"))
    repo.commit("b1", {"b": "1\n"}, author=("Bob  Builder", "bob@home.net"))
    repo.commit("x1", {"x": "1\n"}, author=("Xavier", "x@elsewhere.org"))
    db = str(tmp_path / "t.db")
    assert cli("--db", db, "sync-commits", "--repo", str(repo.path)).exit_code == 0
    return db


def people_commits(db: str) -> dict[str, int]:
    conn = sqlite3.connect(db)
    try:
        return dict(
            conn.execute(
                "SELECT COALESCE(p.handle, '-'), COUNT(*) FROM commits c "
                "LEFT JOIN people p ON p.id = c.person_id GROUP BY 1"
            ).fetchall()
        )
    finally:
        conn.close()


def test_unmapped_lists_authors_with_counts(cli, synced):
    res = cli("--db", synced, "people", "unmapped", "--format", "json")
    data = json.loads(res.stdout)["rows"]
    assert {r["email"] for r in data} == {
        "alice@acme.io",
        "12345+alicel@users.noreply.github.com",
        "bob@home.net",
        "x@elsewhere.org",
    }
    assert all(r["commits"] == 1 for r in data)


def test_unmapped_counts_agree_with_activity_and_emails_are_never_cut(cli, make_repo, tmp_path, monkeypatch):
    from teamops.cli.output import Output

    repo = make_repo()
    bot = ("dependabot-preview[bot]", "27856297+dependabot-preview[bot]@users.noreply.github.com")
    repo.commit("bump", {"a": "1\n"}, author=bot)
    repo.git("checkout", "-q", "-b", "side")
    repo.commit("bump 2", {"b": "1\n"}, author=bot)
    repo.git("checkout", "-q", "main")
    repo.git("merge", "-q", "--no-ff", "--no-edit", "side", env={"GIT_AUTHOR_NAME": bot[0], "GIT_AUTHOR_EMAIL": bot[1]})
    for i in range(3):
        repo.commit(f"c{i}", {f"f{i}": "1\n"}, author=(f"Person {i}", f"p{i}@a-rather-long-company-domain.example"))
    db = str(tmp_path / "t.db")
    cli("--db", db, "sync-commits", "--repo", str(repo.path))
    unmapped = {
        r["email"]: r
        for r in json.loads(cli("--db", db, "people", "unmapped", "--include-bots", "-f", "json").stdout)["rows"]
    }
    activity = json.loads(cli("--db", db, "kpi", "activity", "--include-bots", "-f", "json").stdout)["rows"]
    assert {r["person"].split("<")[1].rstrip(">"): r["commits"] for r in activity} == {
        e: r["commits"] for e, r in unmapped.items()
    }
    assert unmapped[bot[1]]["commits"] == 2 and unmapped[bot[1]]["merges"] == 1
    # In an 80-column terminal every email is shown whole, optional columns make room; one longer
    # than the room left goes on two lines before its @, never cut.
    monkeypatch.setattr(Output, "tty", property(lambda self: True))
    table = cli("--db", db, "people", "unmapped", "--include-bots", env={"COLUMNS": "80"}).stdout
    for email in unmapped:
        local, domain = email.split("@")
        assert email in table or (local in table and f"@{domain}" in table)
    assert "p0@a-rather-long-company-domain.example" in table
    assert "…" not in table
    limited = cli("--db", db, "people", "unmapped", "--include-bots", "--limit", "2")
    assert "… and 2 more (--limit 0 shows all)" in limited.stdout
    assert len([line for line in limited.stdout.splitlines() if "@" in line]) == 2


def test_adding_people_reattributes_stored_commits(cli, synced):
    res = cli("--db", synced, "people", "add", "alice", "--email", "ALICE@acme.io", "--github", "AliceL")
    assert res.exit_code == 0 and "2 commits attributed" in res.stderr
    # Bob is matched by his display name as a last resort (spaces and case folded).
    cli("--db", synced, "people", "add", "bob", "--name", "bob builder")
    assert people_commits(synced) == {"alice": 2, "bob": 1, "-": 1}
    unmapped = json.loads(cli("--db", synced, "people", "unmapped", "-f", "json").stdout)["rows"]
    assert [r["email"] for r in unmapped] == ["x@elsewhere.org"]


def test_edit_adds_and_removes_identities_and_remove_unmaps(cli, synced):
    cli("--db", synced, "people", "add", "xav")
    assert people_commits(synced).get("xav") is None
    cli(
        "--db",
        synced,
        "people",
        "edit",
        "xav",
        "--email",
        "x@elsewhere.org",
        "--team",
        "core",
        "--lead",
    )
    assert people_commits(synced)["xav"] == 1
    listed = json.loads(cli("--db", synced, "people", "list", "-f", "json").stdout)["rows"]
    assert listed == [
        {
            "handle": "xav",
            "name": None,
            "team": "core",
            "lead": True,
            "active": True,
            "timezone": None,
            "emails": ["x@elsewhere.org"],
            "github": None,
            "clickup_id": None,
            "accounts": None,
            "commits": 1,
            "merges": 0,
            "assisted_commits": 0,
            "last_commit": "2026-11-02T10:00:00Z",
        }
    ]
    cli("--db", synced, "people", "edit", "xav", "--remove-email", "x@elsewhere.org")
    assert "xav" not in people_commits(synced)
    cli("--db", synced, "people", "edit", "xav", "--email", "x@elsewhere.org", "--rename", "xavier")
    res = cli("--db", synced, "people", "remove", "xavier")
    assert res.exit_code == 0 and "removed xavier (1 commit unmapped now)" in res.stderr
    assert people_commits(synced)["-"] == 4


def test_identity_conflicts_and_bad_input_are_exit_5(cli, synced):
    cli("--db", synced, "people", "add", "alice", "--email", "alice@acme.io")
    clash = cli("--db", synced, "people", "add", "al2", "--email", "alice@acme.io")
    assert clash.exit_code == 5 and "already belongs to 'alice'" in clash.stderr
    assert cli("--db", synced, "people", "add", "alice").exit_code == 5
    assert cli("--db", synced, "people", "add", "bad handle!").exit_code == 5
    assert cli("--db", synced, "people", "add", "zed", "--email", "not-an-email").exit_code == 5
    assert cli("--db", synced, "people", "add", "zed", "--timezone", "Nowhere/Land").exit_code == 5
    assert cli("--db", synced, "people", "edit", "ghost", "--team", "x").exit_code == 5
    assert cli("--db", synced, "people", "remove", "ghost").exit_code == 5
    # nothing half-written by the refused commands
    names = [r["handle"] for r in json.loads(cli("--db", synced, "people", "list", "-f", "json").stdout)["rows"]]
    assert names == ["alice"]


def test_config_people_are_upserted_each_run(cli, synced, isolated):
    toml = isolated / "teamops.toml"
    toml.write_text(
        f'[store]\npath = "{synced}"\n[[people]]\nhandle = "bob"\nname = "Robert"\nemails = ["bob@home.net"]\nteam = "infra"\n',
        encoding="utf-8",
    )
    assert cli("people", "list").exit_code == 0
    assert people_commits(synced)["bob"] == 1
    toml.write_text(
        f'[store]\npath = "{synced}"\n[[people]]\nhandle = "bob"\nname = "Robert"\nemails = ["x@elsewhere.org"]\nteam = "infra"\n',
        encoding="utf-8",
    )
    rows = json.loads(cli("people", "list", "-f", "json").stdout)["rows"]
    assert rows[0]["emails"] == ["x@elsewhere.org"] and rows[0]["team"] == "infra"
    assert people_commits(synced)["bob"] == 1  # now Xavier's commit, no longer bob@home.net's
    # A report is the first command to see a changed [[people]]: it still upserts before reading.
    toml.write_text(toml.read_text(encoding="utf-8").replace('"infra"', '"web"'), encoding="utf-8")
    activity = json.loads(cli("kpi", "activity", "-f", "json").stdout)["rows"]
    assert {r["person"]: r["team"] for r in activity if r["mapped"]} == {"bob": "web"}


def test_config_identity_conflict_is_a_config_error(cli, synced, isolated):
    cli("--db", synced, "people", "add", "alice", "--email", "alice@acme.io")
    (isolated / "teamops.toml").write_text(
        f'[store]\npath = "{synced}"\n[[people]]\nhandle = "eve"\nemails = ["alice@acme.io"]\n',
        encoding="utf-8",
    )
    res = cli("people", "list")
    assert res.exit_code == 3 and "people[0] (eve)" in res.stderr and "already belongs" in res.stderr


def test_one_persons_commits_read_the_same_in_every_command(cli, make_repo, isolated):
    """Merges are never commits: git's own count (`git rev-list --no-merges --author`) everywhere."""
    repo = make_repo()
    ann = ("Ann", "ann@acme.io")
    repo.commit("one", {"a.py": "1\n"}, author=ann, date="2026-11-16T10:00:00+00:00")
    repo.git("checkout", "-q", "-b", "side")
    repo.commit("two", {"b.py": "2\n"}, author=ann, date="2026-11-17T10:00:00+00:00")
    repo.git("checkout", "-q", "main")
    repo.commit("three", {"c.py": "3\n"}, author=ann, date="2026-11-18T10:00:00+00:00")
    env = {"GIT_AUTHOR_NAME": "Ann", "GIT_AUTHOR_EMAIL": "ann@acme.io", "GIT_AUTHOR_DATE": "2026-11-19T10:00:00+00:00"}
    env |= {
        "GIT_COMMITTER_NAME": "Ann",
        "GIT_COMMITTER_EMAIL": "ann@acme.io",
        "GIT_COMMITTER_DATE": "2026-11-19T10:00:00+00:00",
    }
    repo.git("merge", "-q", "--no-ff", "--no-edit", "side", env=env)
    repo.git("tag", "v1.0.0")
    commits = len(repo.git("rev-list", "--no-merges", "--author=ann@acme.io", "HEAD").split())
    merges = len(repo.git("rev-list", "--merges", "--author=ann@acme.io", "HEAD").split())
    assert (commits, merges) == (3, 1)
    now = {"TEAMOPS_NOW": "2026-11-25T10:00:00Z"}
    cli("sync-commits", "--repo", str(repo.path), env=now)
    row = json.loads(cli("people", "unmapped", "-f", "json").stdout)["rows"][0]
    assert (row["commits"], row["merges"], row["last_seen"][:10]) == (commits, merges, "2026-11-18")
    added = cli("people", "add", "ann", "--email", "ann@acme.io")
    assert f"({commits} commits attributed)" in added.stderr
    person = json.loads(cli("people", "list", "-f", "json").stdout)["rows"][0]
    assert (person["commits"], person["merges"], person["last_commit"][:10]) == (commits, merges, "2026-11-18")
    activity = json.loads(cli("kpi", "activity", "--since", "2026-11-01", "-f", "json", env=now).stdout)["rows"]
    assert [r["commits"] for r in activity] == [commits]
    dora = json.loads(cli("kpi", "dora", "--since", "2026-11-01", "-f", "json", env=now).stdout)["rows"]
    assert [(r["commits"], r["merges"]) for r in dora] == [(commits, merges)]
    assert f"{commits} commits, {merges} merge)" in cli("doctor", "--offline").stdout
    doc = cli("gen-doc", "weekly", "--since", "2026-11-16", "--until", "2026-11-22", env=now).stdout
    assert f"| ann | {commits} |" in doc and f"- {commits} commits," in doc
    summary = json.loads(cli("kpi", "summary", "--since", "2026-11-01", "-f", "json", env=now).stdout)
    assert summary["totals"]["commits"] == commits, summary


def test_edit_renames_a_person_and_clearing_the_name_shows_the_handle(cli, tmp_path):
    db = str(tmp_path / "t.db")
    assert cli("--db", db, "people", "add", "ann").exit_code == 0
    assert cli("--db", db, "people", "edit", "ann", "--name", "Ann Bell").exit_code == 0
    assert json.loads(cli("--db", db, "people", "list", "-f", "json").stdout)["rows"][0]["name"] == "Ann Bell"
    assert cli("--db", db, "people", "edit", "ann", "--name", "").exit_code == 0
    assert json.loads(cli("--db", db, "people", "list", "-f", "json").stdout)["rows"][0]["name"] is None
