"""`teamops kpi activity`: numbers a user can check by hand, in every format."""

from __future__ import annotations

import csv
import io
import json

import pytest


@pytest.fixture
def team_db(make_repo, cli, tmp_path):
    repo = make_repo()
    alice = ("Alice", "alice@acme.io")
    bob = ("Bob", "bob@acme.io")
    # Alice: 3 commits on 2 local days; the 23:30 commit at +02:00 is on the 2nd locally, 1st... in UTC
    repo.commit("a1", {"a.py": "1\n2\n3\n"}, author=alice, date="2026-11-02T09:00:00+02:00")
    repo.commit("a2", {"a.py": "1\n"}, author=alice, date="2026-11-02T23:30:00+02:00")
    repo.commit("a3", {"b.py": "x\n"}, author=alice, date="2026-11-05T10:00:00+02:00")
    repo.git("checkout", "-q", "-b", "side")
    repo.commit("b1", {"c.py": "1\n2\n"}, author=bob, date="2026-11-03T10:00:00+00:00")
    repo.git("checkout", "-q", "main")
    repo.merge("side", date="2026-11-06T10:00:00+00:00")  # merges are left out
    repo.commit("s1", {"d.py": "1\n"}, author=("Stranger", "s@x.io"), date="2026-11-20T10:00:00+00:00")
    db = str(tmp_path / "t.db")
    cli("--db", db, "sync-commits", "--repo", str(repo.path))
    cli("--db", db, "people", "add", "alice", "--email", "alice@acme.io", "--team", "web")
    cli("--db", db, "people", "add", "bob", "--email", "bob@acme.io", "--team", "infra")
    return db


def report(cli, db, *args):
    res = cli("--db", db, "kpi", "activity", "--format", "json", *args)
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout)


def test_activity_per_person(cli, team_db):
    data = report(cli, team_db)
    by = {r["person"]: r for r in data["rows"]}
    assert by["alice"]["commits"] == 3
    assert (by["alice"]["additions"], by["alice"]["deletions"]) == (4, 2)
    assert by["alice"]["active_days"] == 2  # the 2nd (twice, local time) and the 5th
    assert by["alice"]["first_commit"] == "2026-11-02T07:00:00Z"
    assert by["alice"]["last_commit"] == "2026-11-05T08:00:00Z"
    assert by["bob"]["commits"] == 1 and by["bob"]["additions"] == 2
    stranger = by["(unmapped) Stranger <s@x.io>"]
    assert stranger["mapped"] is False and stranger["commits"] == 1
    assert [r["person"] for r in data["rows"]][-1].startswith("(unmapped)")


def test_filters(cli, team_db):
    assert [r["person"] for r in report(cli, team_db, "--person", "bob")["rows"]] == ["bob"]
    assert [r["person"] for r in report(cli, team_db, "--team", "web")["rows"]] == ["alice"]
    window = report(cli, team_db, "--since", "2026-11-03", "--until", "2026-11-05")
    assert {r["person"]: r["commits"] for r in window["rows"]} == {"alice": 1, "bob": 1}
    assert window["since"] == "2026-11-03T00:00:00Z" and window["until"] == "2026-11-06T00:00:00Z"
    assert report(cli, team_db, "--repo", "repo")["rows"]
    assert report(cli, team_db, "--repo", "re*", "--repo", "repo")["rows"]  # globs, repeatable, once each
    res = cli("--db", team_db, "kpi", "activity", "--repo", "other")
    assert res.exit_code == 5 and "no synced repository matches 'other'" in res.stderr
    unknown = cli("--db", team_db, "kpi", "activity", "--person", "ghost")
    assert unknown.exit_code == 5 and "no person with handle 'ghost'" in unknown.stderr


def test_last_window_follows_the_pinned_clock(cli, team_db):
    pinned = {"TEAMOPS_NOW": "2026-11-06T12:00:00Z"}
    res = cli("--db", team_db, "kpi", "activity", "--last", "3d", "-f", "json", env=pinned)
    data = json.loads(res.stdout)
    assert data["since"] == "2026-11-03T12:00:00Z"
    assert {r["person"]: r["commits"] for r in data["rows"]} == {"alice": 1}


def test_json_is_one_record_per_line(cli, team_db):
    out = cli("--db", team_db, "kpi", "activity", "--format", "json").stdout
    lines = out.splitlines()
    assert lines[0] == "{" and lines[1] == '  "report": "activity",'
    records = [json.loads(line.strip().rstrip(",")) for line in lines if line.strip().startswith('{"person"')]
    assert [r["person"] for r in records] == [r["person"] for r in json.loads(out)["rows"]]


def test_csv_markdown_and_table(cli, team_db):
    out = cli("--db", team_db, "kpi", "activity", "--format", "csv").stdout
    parsed = list(csv.DictReader(io.StringIO(out)))
    assert parsed[0]["person"] == "alice" and parsed[0]["commits"] == "3"
    md = cli("--db", team_db, "kpi", "activity", "--format", "markdown").stdout
    assert "| Person | Team | Commits |" in md and "| alice | web | 3 |" in md
    assert "&lt;s@x.io&gt;" in md
    table = cli("--db", team_db, "kpi", "activity").stdout
    assert "alice" in table and "Commits" in table
    glob = cli("--db", team_db, "--format", "json", "kpi", "activity")
    assert json.loads(glob.stdout)["report"] == "activity"
    summary = json.loads(
        cli("--db", team_db, "--format", "json", "kpi", env={"TEAMOPS_NOW": "2026-11-25T00:00:00Z"}).stdout
    )
    assert summary["report"] == "summary" and {r["person"] for r in summary["activity"]} >= {"alice", "bob"}


def test_empty_database_is_friendly(cli, tmp_path):
    res = cli("--db", str(tmp_path / "new.db"), "kpi")
    assert res.exit_code == 0
    assert "nothing to report yet" in res.stdout
    activity = cli("--db", str(tmp_path / "new.db"), "kpi", "activity")
    assert activity.exit_code == 0 and activity.stdout == "no commits yet: run `teamops sync-commits`\n"


def test_last_and_days_read_in_the_authors_own_timezone(cli, make_repo):
    repo = make_repo()
    ann = ("Ann", "ann@acme.io")
    repo.commit("evening", {"a.py": "1\n"}, author=ann, date="2026-11-03T23:30:00-05:00")  # 04:30 UTC on the 4th
    repo.commit("late", {"b.py": "1\n"}, author=ann, date="2026-11-03T23:50:00-05:00")
    cli("sync-commits", "--repo", str(repo.path))
    res = cli("kpi", "activity", "--since", "2026-11-01", "--until", "2026-11-10", "-f", "json")
    row = json.loads(res.stdout)["rows"][0]
    assert (row["active_days"], row["first_day"], row["last_day"]) == (1, "2026-11-03", "2026-11-03")
    assert row["last_commit"] == "2026-11-04T04:50:00Z"  # JSON keeps the UTC time too
    table = cli("kpi", "activity", "--since", "2026-11-01", "--until", "2026-11-10", env={"COLUMNS": "200"}).stdout
    assert "2026-11-03" in table and "2026-11-04" not in table
