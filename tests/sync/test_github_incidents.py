"""Incidents from a repository's labelled issues, served by the fake GitHub (its issues listing checked against
GitHub's REST description): which issues are incidents, their severity, cause, final close, and a re-run that
costs nothing."""

from __future__ import annotations

import json

from tests.fakes.github import FakeGitHub, issue


def at(day: int, hour: int = 10) -> str:
    return f"2026-11-{day:02d}T{hour:02d}:00:00Z"


def test_labelled_issues_are_incidents_that_fail_the_deployment_of_their_cause(cli, make_repo, tmp_path):
    repo = make_repo("api")
    first = repo.commit("one", {"a": "1\n"}, date="2026-11-02T10:00:00+00:00")
    second = repo.commit("two", {"a": "2\n"}, date="2026-11-03T08:00:00+00:00")
    db = str(tmp_path / "t.db")
    issues = [
        issue(
            1, "Checkout down", at(3), labels=("incident", "sev2"), closed=at(3, 13), body=f"Root cause: {second[:8]}"
        ),
        issue(2, "Slow search", at(4), labels=("Incident",)),
        issue(3, "Not really", at(4), closed=at(4, 11), reason="not_planned"),
        issue(4, "Checkout down again", at(4), labels=("incident", "duplicate"), closed=at(4, 12)),
        issue(5, "Fix checkout", at(3, 12), pull=True),
        issue(6, "Typo", at(4), labels=("bug",)),
    ]
    with FakeGitHub({"acme/api": repo.path}) as gh:
        gh.repos["acme/api"].issues = issues
        env = {"GITHUB_TOKEN": gh.token, "TEAMOPS_GITHUB_API_URL": gh.url, "TEAMOPS_NOW": at(4, 18)}
        assert cli("--db", db, "sync-commits", "--repo", "acme/api", env=env).exit_code == 0
        for sha, when in ((first, "2026-11-02T12:00:00Z"), (second, "2026-11-03T09:00:00Z")):
            assert cli("--db", db, "deploy", "record", "--repo", "acme/api", "--sha", sha, "--at", when).exit_code == 0
        window = ("--since", "2026-11-01", "--until", "2026-11-10")
        report = json.loads(cli("--db", db, "kpi", "incidents", *window, "-f", "json").stdout)
        assert [(r["title"], r["recover_h"], r["cause"]) for r in report["rows"]] == [
            ("Checkout down", 3.0, second[:8]),
            ("Slow search", None, None),
        ]
        assert report["rows"][0]["deployment"] == f"{second[:10]}@2026-11-03T09:00:00Z"  # shipped its cause
        # reopened, then closed for good two days later: resolved at the final close
        issues[0].update(state="open", closed_at=None, updated_at=at(5))
        assert cli("--db", db, "sync-commits", "--repo", "acme/api", env=env).exit_code == 0
        issues[0].update(state="closed", closed_at=at(6), updated_at=at(6))
        assert cli("--db", db, "sync-commits", "--repo", "acme/api", env=env).exit_code == 0
        report = json.loads(cli("--db", db, "kpi", "incidents", *window, "-f", "json").stdout)
        assert report["rows"][0]["resolved_at"] == at(6) and report["rows"][0]["recover_h"] == 72.0
        before = len(gh.log)
        assert cli("--db", db, "sync-commits", "--repo", "acme/api", env=env).exit_code == 0
        asked = [(path, status) for _, path, status in gh.log[before:] if "/issues" in path]
        assert [status for _, status in asked] == [304]  # nothing changed: one free conditional request
        # a bug labelled incident later becomes one (opened when filed); an incident unlabelled is one no more
        issues[5].update(labels=[{"id": 9, "name": "incident"}], updated_at=at(7))
        issues[1].update(labels=[{"id": 8, "name": "question"}], updated_at=at(7, 11))
        assert cli("--db", db, "sync-commits", "--repo", "acme/api", env=env).exit_code == 0
        report = json.loads(cli("--db", db, "kpi", "incidents", *window, "-f", "json").stdout)
        assert [(r["title"], r["opened_at"]) for r in report["rows"]] == [("Checkout down", at(3)), ("Typo", at(4))]
        severity = json.loads(cli("--db", db, "incident", "list", "-f", "json").stdout)["rows"][0]["severity"]
        assert severity == "sev2"


def test_an_issues_event_files_and_takes_back_an_incident(cli, tmp_path):
    """octokit's real `issues` payload (labelled bug): no incident; labelled incident, it is one; closed as not
    planned, it is taken back."""
    from pathlib import Path

    hook = Path(__file__).resolve().parents[1] / "fixtures" / "github-webhooks" / "issues" / "labeled.payload.json"
    db = str(tmp_path / "t.db")
    args = ("--db", db, "sync-commits", "--event-name", "issues", "--event")
    bug = cli(*args, str(hook))
    assert bug.exit_code == 0 and "is no incident" in bug.stderr
    payload = json.loads(hook.read_text())
    payload["issue"]["labels"].append({"id": 9, "name": "Incident"})
    (tmp_path / "incident.json").write_text(json.dumps(payload))
    filed = cli(*args, str(tmp_path / "incident.json"))
    assert filed.exit_code == 0 and "incident Codertocat/Hello-World#1: added" in filed.stderr
    listed = json.loads(cli("--db", db, "incident", "list", "-f", "json").stdout)["rows"]
    assert [(r["title"], r["opened_at"], r["resolved_at"]) for r in listed] == [
        ("Spelling error in the README file", "2019-05-15T15:20:18Z", None)
    ]
    payload["issue"].update(state="closed", state_reason="not_planned", closed_at="2019-05-16T10:00:00Z")
    (tmp_path / "closed.json").write_text(json.dumps(payload))
    closed = cli(*args, str(tmp_path / "closed.json"))
    assert "taken back" in closed.stderr
    assert json.loads(cli("--db", db, "incident", "list", "-f", "json").stdout)["rows"] == []
