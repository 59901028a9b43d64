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
    repo = GitHubShaped(400).build(root / "api")
    db = str(root / "t.db")
    assert run_cli("--db", db, "sync-commits", "--repo", str(repo)).exit_code == 0
    assert run_cli("--db", db, "analyze").exit_code == 0
    run_cli("--db", db, "people", "add", "alice", "--email", "alice@acme.io", "--team", "web")
    run_cli("--db", db, "people", "add", "bob", "--email", "bob@acme.io", "--team", "web")
    run_cli("--db", db, "sprint", "add", "Sprint 1", "--start", "2020-09-14", "--end", "2020-09-25")
    for title, points in (("Export invoices", "3"), ("Fix login", "2")):
        res = run_cli("--db", db, "task", "add", title, "-R", "bob", "-A", "alice", "--points", points, "--no-send")
        assert res.exit_code == 0, res.output
    return db


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_report_answers_in_every_format(world, cli, fmt):
    for report in REPORTS:
        res = cli("--db", world, *report, "--format", fmt)
        assert res.exit_code == 0, (report, fmt, res.output)
        assert "Traceback" not in res.output and "unexpected" not in res.stderr, (report, fmt)
        if fmt == "json":
            json.loads(res.stdout)
        if fmt == "markdown" and "```mermaid" in res.stdout:
            assert "NaN" not in res.stdout
