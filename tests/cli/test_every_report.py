"""Every report in every format on a history shaped like a real project (merge and squash subjects, a bot,
release tags, maintenance lines), with people, tasks and a sprint: each answers, none crashes."""

from __future__ import annotations

import json

import pytest

from tests.support.synth import GitHubShaped

FORMATS = ("table", "json", "csv", "markdown")
REPORTS = (
    ["kpi"],
    ["kpi", "activity"],
    ["kpi", "activity", "--by", "repo"],
    ["kpi", "activity", "--by", "week"],
    ["kpi", "velocity"],
    ["kpi", "burndown"],
    ["kpi", "efficiency"],
    ["kpi", "cycle-time"],
    ["kpi", "dora"],
    ["kpi", "prs"],
    ["kpi", "reviews"],
    ["kpi", "estimates"],
    ["people", "list"],
    ["people", "unmapped"],
)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    from tests.conftest import run_cli

    root = tmp_path_factory.mktemp("world")
    history = GitHubShaped(400)
    repo = history.build(root / "api")
    db = str(root / "t.db")
    assert run_cli("--db", db, "sync-commits", "--repo", str(repo)).exit_code == 0
    assert run_cli("--db", db, "analyze").exit_code == 0
    run_cli("--db", db, "people", "add", "alice", "--email", "alice@acme.io", "--team", "web")
    run_cli("--db", db, "people", "add", "bob", "--email", "bob@acme.io", "--team", "web")
    run_cli("--db", db, "sprint", "add", "Sprint 1", "--start", "2020-09-14", "--end", "2020-09-25")
    for title, points in (("Export invoices", "3"), ("Fix login", "2")):
        res = run_cli("--db", db, "task", "add", title, "-R", "bob", "-A", "alice", "--points", points, "--no-send")
        assert res.exit_code == 0, res.output
    return db, history


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_report_answers_in_every_format(world, cli, fmt):
    world, _ = world
    for report in REPORTS:
        res = cli("--db", world, *report, "--format", fmt)
        assert res.exit_code == 0, (report, fmt, res.output)
        assert "Traceback" not in res.output and "unexpected" not in res.stderr, (report, fmt)
        if fmt == "json":
            json.loads(res.stdout)
        if fmt == "markdown" and "```mermaid" in res.stdout:
            assert "NaN" not in res.stdout


PEOPLE_FIGURES = (
    ["kpi"],
    ["kpi", "activity"],
    ["kpi", "activity", "--by", "repo"],
    ["kpi", "activity", "--by", "week"],
    ["kpi", "reviews"],
    ["people", "unmapped"],
    ["people", "suggest"],
)


def test_bots_are_data_but_no_people_in_any_report_unless_asked(world, cli, tmp_path):
    """dependabot's commits stay stored; every report of people leaves them out and says so in one line."""
    db, history = world
    assert history.bot_commits > 0
    for report in PEOPLE_FIGURES:
        res = cli("--db", db, *report, "--format", "json")
        assert res.exit_code == 0, (report, res.output)
        assert "dependabot" not in res.stdout, report
    data = json.loads(cli("--db", db, "kpi", "activity", "--format", "json").stdout)
    assert data["bots_left_out"] == {"accounts": 1, "commits": history.bot_commits}
    by_repo = json.loads(cli("--db", db, "kpi", "activity", "--by", "repo", "--format", "json").stdout)
    everyone = json.loads(cli("--db", db, "kpi", "activity", "--by", "repo", "--include-bots", "-f", "json").stdout)
    assert everyone["rows"][0]["commits"] - by_repo["rows"][0]["commits"] == history.bot_commits
    line = f"bots: 1 account, {history.bot_commits} commits, left out (--include-bots counts them)"
    for report in (["kpi", "activity"], ["people", "unmapped"]):
        assert line in cli("--db", db, *report).stdout, report
    assert "dependabot[bot]" in cli("--db", db, "kpi", "activity", "--include-bots", "-f", "json").stdout
    assert "dependabot[bot]" in cli("--db", db, "people", "unmapped", "--include-bots", "-f", "json").stdout
    site = tmp_path / "site"
    assert cli("--db", db, "report", "html", "--out", str(site)).exit_code == 0
    pages = [page.read_text(encoding="utf-8") for page in site.rglob("*.html")]
    assert pages and not any("dependabot" in page for page in pages)
    assert any("bots: 1 account" in page for page in pages)


def test_people_suggest_groups_one_persons_emails_into_a_line_that_works(cli, make_repo, tmp_path):
    """The same name with two emails (and a symbol in one of them), the same GitHub login by two addresses:
    one `people add` line each, and running it maps every one of their commits."""
    repo = make_repo()
    ken = [("Kenneth Reitz", "me@kennethreitz.com"), ("☿ Kenneth Reitz", "me@kennethreitz.org")]
    nate = [("Nate Prewitt", "nate@home.example"), ("nate", "5271761+nateprewitt@users.noreply.github.com")]
    for i, who in enumerate([*ken, *ken, *nate, ("Root", "root@localhost"), ("Root", "root@other")]):
        repo.commit(f"c{i}", {f"f{i}": "1\n"}, author=who)
    db = str(tmp_path / "t.db")
    assert cli("--db", db, "sync-commits", "--repo", str(repo.path)).exit_code == 0
    data = json.loads(cli("--db", db, "people", "suggest", "-f", "json").stdout)
    rows = {r["handle"]: r for r in data["rows"]}
    assert sorted(rows["kenneth.reitz"]["emails"]) == ["me@kennethreitz.com", "me@kennethreitz.org"]
    assert rows["kenneth.reitz"]["commits"] == 4 and rows["kenneth.reitz"]["why"] == "the same name"
    assert rows["nateprewitt"]["github"] == "nateprewitt" and len(rows["nateprewitt"]["emails"]) == 1
    assert len([r for r in data["rows"] if r["name"] == "Root"]) == 2  # a vague name joins nobody
    piped = cli("--db", db, "people", "unmapped", "--suggest").stdout.splitlines()
    assert piped[0].startswith("teamops people add kenneth.reitz --name 'Kenneth Reitz' --email ")
    words = __import__("shlex").split(piped[0])[1:]
    assert cli("--db", db, *words).exit_code == 0
    activity = json.loads(cli("--db", db, "kpi", "activity", "-f", "json").stdout)["rows"]
    assert [r["commits"] for r in activity if r["person"] == "kenneth.reitz"] == [4]


def test_weekly_figures_show_every_week_of_the_window_empty_ones_as_zero(world, cli):
    from datetime import date, timedelta

    db, _ = world
    day, expected = date(2020, 9, 14), []
    while day < date(2021, 1, 4):
        year, week, _ = day.isocalendar()
        expected.append(f"{year}-W{week:02d}")
        day += timedelta(days=7)
    window = ["--since", "2020-09-14", "--until", "2021-01-03"]
    prs = json.loads(cli("--db", db, "kpi", "prs", *window, "-f", "json").stdout)["rows"]
    assert [r["week"] for r in prs] == expected and any(r["merged"] == 0 for r in prs)
    act = json.loads(cli("--db", db, "kpi", "activity", "--by", "week", *window, "-f", "json").stdout)["rows"]
    assert [r["week"] for r in act] == expected
