"""Jira Cloud as a task tracker, against a fake site built from Atlassian's OpenAPI descriptions: issues, both
story-point fields, a changelog past what a search embeds, hidden emails, hostile descriptions, a moved and a
deleted issue, Won't Do, and two sprints whose commitment, scope changes, velocity and cycle times the test
computes from the site's own history. One fake site serves every test of this module."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta

import pytest

from tests.fakes.jira import EMAIL, ESTIMATE, TOKEN, FakeJira, Site, user

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
ANN = user("5b10ac8d82e05b22cc7d4ef5", "Ann Archer")  # her email is hidden, as sites often keep it
BOB = user("712020:bob", "Bob Baker", "bob@acme.example")
BOT = user("557058:automation", "Automation for Jira", app=True)


def day(n: int, hour: int = 10, month: int = 11) -> datetime:
    return datetime(2026, month, n, hour, tzinfo=UTC)


def build() -> tuple[Site, dict]:
    site = Site()
    site.board(1, "WEB")
    s1 = site.sprint(1, 31, "WEB Sprint 1", day(2, 9), day(13, 17), "closed")
    s2 = site.sprint(1, 32, "WEB Sprint 2", day(16, 9), day(27, 17), "active")
    site.sprint(1, 33, "WEB Sprint 3", None, None, "future")
    hostile = "<script>alert(1)</script> & <b>bold</b>\nSecond line"
    i = {}
    i[1] = site.issue("WEB-1", "Login page", day(26, month=10), points=3, reporter=BOB, description=hostile)
    i[2] = site.issue("WEB-2", "Search", day(26, month=10), points=5, reporter=BOB)
    i[3] = site.issue("WEB-3", "Export", day(27, month=10), points=2)
    i[4] = site.issue("WEB-4", "Dark mode", day(27, month=10), points=3)
    i[5] = site.issue("WEB-5", "Legacy import", day(27, month=10), points=1)
    i[6] = site.issue("WEB-6", "Flaky build", day(28, month=10), points=2, points_field=ESTIMATE)
    i[7] = site.issue("OPS-1", "Rotate keys", day(28, month=10), points=1)
    i[8] = site.issue("WEB-8", "Spike", day(29, month=10), points=1)
    for n in (1, 2, 4, 5, 6):
        site.plan(i[n], day(30, 15, month=10), [s1], by=BOB)
    site.assign(i[1], day(30, 16, month=10), ANN)
    site.assign(i[2], day(30, 16, month=10), BOB)
    site.assign(i[3], day(30, 16, month=10), BOT)
    # sprint 1
    site.move(i[1], day(3), "In Progress", ANN)
    site.move(i[1], day(4), "In Review", ANN)
    site.move(i[1], day(5, 15), "Done", BOB)
    site.plan(i[3], day(5), [s1], BOB)  # added after the start
    site.move(i[2], day(6), "In Progress", BOB)
    site.estimate(i[2], day(6, 11), 8, BOB)  # re-estimated mid-sprint
    site.move(i[3], day(6, 12), "In Progress", BOT)
    site.resolve(i[5], day(8), "Won't Do", BOB)
    site.plan(i[4], day(9), [], BOB)  # taken out
    site.move(i[3], day(10), "Done", BOT)
    for k in range(60):  # a flaky build: 120 changes before it is done, past the 100 a search embeds
        site.move(i[6], day(10, 0) + timedelta(minutes=2 * k), "In Progress", ANN)
        site.move(i[6], day(10, 0) + timedelta(minutes=2 * k + 1), "To Do", ANN)
    site.move(i[6], day(12), "In Progress", ANN)
    site.move(i[6], day(12, 14), "Done", ANN)
    site.plan(i[2], day(13, 18), [s1, s2], BOB)  # carried over
    # sprint 2
    site.rekey(i[7], day(15), "WEB-7")
    site.plan(i[7], day(15, 11), [s2], BOB)
    site.move(i[7], day(17), "In Progress", BOB)
    site.move(i[2], day(18), "Done", BOB)
    return site, i


@pytest.fixture(scope="module")
def jira():
    site, issues = build()
    with FakeJira(site, NOW) as fake:
        yield fake, site, issues
    assert fake.violations == []


@pytest.fixture
def synced(jira, cli, tmp_path):
    fake, _site, _issues = jira
    fake.log.clear()
    config = tmp_path / "teamops.toml"
    config.write_text(f'[jira]\nurl = "{fake.url}"\nprojects = ["WEB", "OPS"]\naccountable_field = "Owner"\n')
    env = {
        "TEAMOPS_CONFIG": str(config),
        "JIRA_EMAIL": EMAIL,
        "JIRA_API_TOKEN": TOKEN,
        "TEAMOPS_NOW": NOW.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    db = str(tmp_path / "t.db")
    res = cli("--db", db, "sync-tasks", env=env)
    assert res.exit_code == 0, res.output
    return db, env, res


def rows(db: str, sql: str, *args) -> list[tuple]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql, args).fetchall()
    finally:
        conn.close()


def test_issues_become_tasks_with_their_history_as_jira_dated_it(jira, synced):
    fake, _site, issues = jira
    db, _env, res = synced
    assert "synced Jira: 8 issues read, 8 added" in res.stderr, res.stderr
    tasks = dict(rows(db, "SELECT key, status FROM tasks"))
    assert tasks == {
        "WEB-1": "done",
        "WEB-2": "done",
        "WEB-3": "done",
        "WEB-4": "todo",
        "WEB-5": "done",
        "WEB-6": "done",
        "WEB-7": "in_progress",
        "WEB-8": "todo",
    }
    # every status change is an event at the time Jira gave it, by its author
    for _n, issue in issues.items():
        want = [
            (h["created"][:19] + "Z", it["toString"])
            for h in issue.histories
            for it in h["items"]
            if it.get("fieldId") == "status"
        ]
        task = rows(db, "SELECT id FROM tasks WHERE external_id = ?", issue.id)[0][0]
        got = rows(db, "SELECT at, new FROM task_events WHERE task_id = ? AND field = 'status' ORDER BY id", task)
        mapped = {"To Do": "todo", "In Progress": "in_progress", "In Review": "review", "Done": "done"}
        assert got[1:] == [(at, mapped[s]) for at, s in want], issue.key  # after the status it was filed in
    assert len([1 for h in issues[6].histories]) > 100  # its changelog was read whole, past the search's cut
    assert fake.counted("/rest/api/3/changelog/bulkfetch") == 1
    # the story point estimate of a team-managed issue, and the one of a company-managed one
    assert rows(db, "SELECT key, points FROM tasks WHERE key IN ('WEB-6', 'WEB-2') ORDER BY key") == [
        ("WEB-2", 8.0),
        ("WEB-6", 2.0),
    ]
    # a description in Atlassian Document Format is plain text, stored and searchable, never markup
    text = rows(db, "SELECT description FROM tasks WHERE key = 'WEB-1'")[0][0]
    assert text == "<script>alert(1)</script> & <b>bold</b>\nSecond line"
    found = "SELECT t.key FROM tasks_fts f JOIN tasks t ON t.id = f.rowid WHERE tasks_fts MATCH ?"
    assert rows(db, found, "second") == [("WEB-1",)] and rows(db, found, "flaky") == [("WEB-6",)]
    rows(db, "INSERT INTO tasks_fts (tasks_fts, rank) VALUES ('integrity-check', 1)")  # raises on any drift


def test_won_t_do_is_done_but_not_delivered_and_a_moved_issue_keeps_its_old_key(jira, synced, cli):
    db, _env, _ = synced
    assert rows(db, "SELECT status, removed_at IS NOT NULL FROM tasks WHERE key = 'WEB-5'") == [("done", 1)]
    assert rows(db, "SELECT old, new FROM task_events WHERE field = 'key'") == [("OPS-1", "WEB-7")]
    from teamops.store.database import open_database
    from teamops.store.task_links import task_refs

    refs = task_refs(open_database(db))
    assert refs["ops-1"] == refs["web-7"]


def test_sprints_commitment_scope_and_velocity_from_jira_s_history(jira, synced, cli):
    db, env, _ = synced
    data = json.loads(cli("--db", db, "kpi", "velocity", "-f", "json", env=env).stdout)
    by = {r["sprint"]: r for r in data["rows"]}
    # at its start WEB-1 (3), WEB-2 (5), WEB-4 (3), WEB-5 (1) and WEB-6 (2) were in sprint 1: 14 points;
    # done by its end and delivered: WEB-1, WEB-3 (added later) and WEB-6 — WEB-5 was Won't Do
    assert (by["WEB Sprint 1"]["committed"], by["WEB Sprint 1"]["completed"]) == (14.0, 7.0)
    assert by["WEB Sprint 1"]["status"] == "closed" and not by["WEB Sprint 1"]["commitment_estimated"]
    # sprint 2 began with WEB-2 carried over (8 points by then) and WEB-7 (1); WEB-2 is done
    assert (by["WEB Sprint 2"]["committed"], by["WEB Sprint 2"]["completed"]) == (9.0, 8.0)
    scope = json.loads(cli("--db", db, "sprint", "show", "WEB Sprint 1", "-f", "json", env=env).stdout)
    changes = sorted((r["title"], r["change"]) for r in scope["rows"])
    assert changes == [("Dark mode", "removed"), ("Export", "added"), ("Search", "re-estimated")], changes


def test_a_no_change_run_is_one_search_and_the_people_jira_names_are_identities(jira, synced, cli):
    fake, _site, _issues = jira
    db, env, _ = synced
    fake.log.clear()
    again = cli("--db", db, "sync-tasks", env=env)
    assert again.exit_code == 0 and "0 added, 0 changed" in again.stderr, again.stderr
    assert fake.counted("/rest/api/3/search/jql") == 1
    unmapped = json.loads(cli("--db", db, "people", "unmapped", "-f", "json", env=env).stdout)
    names = {r.get("name") or r.get("username") for r in unmapped["rows"]}
    assert {"Ann Archer", "Bob Baker"} <= names and "Automation for Jira" not in names
    added = cli("--db", db, "people", "add", "ann", "--account", f"jira:{ANN['accountId']}", env=env)
    assert added.exit_code == 0, added.output
    assert cli("--db", db, "sync-tasks", "--full", env=env).exit_code == 0
    holders = rows(
        db,
        "SELECT p.handle FROM task_roles r JOIN tasks t ON t.id = r.task_id JOIN people p ON p.id = r.person_id "
        "WHERE t.key = 'WEB-1' AND r.role = 'R'",
    )
    assert holders == [("ann",)]


def test_a_deleted_issue_is_marked_by_the_next_whole_pass(jira, synced, cli):
    _fake, _site, issues = jira
    db, env, _ = synced
    issues[8].deleted = True
    try:
        assert cli("--db", db, "sync-tasks", env=env).exit_code == 0
        assert rows(db, "SELECT removed_at FROM tasks WHERE key = 'WEB-8'") == [(None,)]  # an incremental pass
        assert cli("--db", db, "sync-tasks", "--full", env=env).exit_code == 0
        assert rows(db, "SELECT removed_at IS NOT NULL FROM tasks WHERE key = 'WEB-8'") == [(1,)]
    finally:
        issues[8].deleted = False


@pytest.mark.parametrize(
    ("status", "code", "words"),
    [(401, 4, "rejected the credentials"), (403, 4, "refused"), (404, 4, "found nothing")],
    ids=["401", "403", "404"],
)
def test_a_refusal_is_one_line_with_jira_s_words_and_never_the_token(jira, cli, tmp_path, status, code, words):
    fake, _site, _issues = jira
    config = tmp_path / "teamops.toml"
    config.write_text(f'[jira]\nurl = "{fake.url}"\nprojects = ["WEB"]\n')
    env = {"TEAMOPS_CONFIG": str(config), "JIRA_EMAIL": EMAIL, "JIRA_API_TOKEN": TOKEN}
    if status == 401:
        env["JIRA_API_TOKEN"] = "ATATT-wrong-" + "x" * 20
    else:
        fake.refuse["/rest/agile/1.0/board"] = status
    try:
        res = cli("--db", str(tmp_path / "t.db"), "sync-tasks", env=env)
    finally:
        fake.refuse.clear()
    assert res.exit_code == code and words in res.stderr, res.output
    assert "Traceback" not in res.output and env["JIRA_API_TOKEN"] not in res.output
    assert len(res.stderr.strip().splitlines()) <= 2


def test_a_rate_limit_is_waited_out(jira, cli, tmp_path):
    fake, _site, _issues = jira
    config = tmp_path / "teamops.toml"
    config.write_text(f'[jira]\nurl = "{fake.url}"\nprojects = ["WEB"]\n')
    env = {"TEAMOPS_CONFIG": str(config), "JIRA_EMAIL": EMAIL, "JIRA_API_TOKEN": TOKEN}
    fake.limited = 1
    res = cli("--db", str(tmp_path / "t.db"), "sync-tasks", env=env)
    assert res.exit_code == 0, res.output
    assert any(status == 429 for _, _, status in fake.log)


@pytest.mark.parametrize(
    ("section", "words"),
    [
        ('url = "http://acme.atlassian.net"\nprojects = ["WEB"]', "https"),
        ('url = "https://acme.atlassian.net"', "jira.projects"),
        ('url = "https://acme.atlassian.net"\nprojects = ["web"]', "not a project key"),
        ('url = "https://acme.atlassian.net"\njql = "project = WEB ORDER BY created"', "must not order"),
        ('url = "https://acme.atlassian.net"\nprojects = ["WEB"]\nstatus_map = { QA = "testing" }', "status_map"),
    ],
    ids=["http", "nothing", "key", "order", "status"],
)
def test_a_wrong_jira_section_is_one_line_and_exit_3(cli, tmp_path, section, words):
    config = tmp_path / "teamops.toml"
    config.write_text(f"[jira]\n{section}\n")
    res = cli("--db", str(tmp_path / "t.db"), "sync-tasks", env={"TEAMOPS_CONFIG": str(config)})
    assert res.exit_code == 3 and words in res.stderr, res.output


def test_doctor_checks_the_credentials_and_names_the_point_field(jira, cli, tmp_path):
    fake, _site, _issues = jira
    config = tmp_path / "teamops.toml"
    config.write_text(f'[jira]\nurl = "{fake.url}"\nprojects = ["WEB"]\n')
    env = {"TEAMOPS_CONFIG": str(config), "JIRA_EMAIL": EMAIL, "JIRA_API_TOKEN": TOKEN}
    res = cli("--db", str(tmp_path / "t.db"), "doctor", env=env)
    assert "answers as Ann Archer; story points: customfield_10016, customfield_10026" in res.stdout, res.output
    missing = cli("--db", str(tmp_path / "t.db"), "doctor", env={"TEAMOPS_CONFIG": str(config)})
    assert "$JIRA_EMAIL is not set" in missing.stdout + missing.stderr


def test_cycle_times_are_the_ones_jira_s_transitions_give(jira, synced, cli):
    _fake, _site, issues = jira
    db, env, _ = synced

    def at(text: str) -> datetime:
        return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.000+0000").replace(tzinfo=UTC)

    want = []
    for issue in issues.values():
        if (issue.fields["resolution"] or {}).get("name") != "Done":
            continue  # Won't Do was not delivered: not a finished task
        began = next(
            at(h["created"])
            for h in issue.histories
            for it in h["items"]
            if it.get("fieldId") == "status" and it["toString"] in ("In Progress", "Done")
        )
        want.append((at(issue.fields["resolutiondate"]) - began).total_seconds() / 86400)
    want.sort()
    middle = len(want) // 2
    median = want[middle] if len(want) % 2 else (want[middle - 1] + want[middle]) / 2
    data = json.loads(
        cli(
            "--db", db, "kpi", "cycle-time", "--since", "2026-10-01", "--until", "2026-11-21", "-f", "json", env=env
        ).stdout
    )
    cycle = next(r for r in data["rows"] if r["metric"] == "cycle_time")
    assert (cycle["tasks"], cycle["median_days"]) == (len(want), round(median, 2))


def test_the_burndown_replays_the_sprint_as_jira_recorded_it(jira, synced, cli):
    db, env, _ = synced
    data = json.loads(cli("--db", db, "kpi", "burndown", "--sprint", "WEB Sprint 1", "-f", "json", env=env).stdout)
    got = {r["date"]: (r["scope"], r["remaining"]) for r in data["rows"]}
    # 14 committed; Nov 5 WEB-1 (3) done and WEB-3 (2) added; Nov 6 WEB-2 re-estimated 5 → 8; Nov 8 WEB-5 (1)
    # closed as Won't Do: out of scope, not burnt; Nov 9 WEB-4 (3) taken out; Nov 10 WEB-3 and Nov 12 WEB-6 (2)
    # done; WEB-2 (8) still open when the sprint closed — carried over after, which is not this sprint's
    assert [got[f"2026-11-{d:02d}"] for d in (2, 5, 6, 8, 9, 10, 12, 13)] == [
        (14.0, 14.0),
        (16.0, 13.0),
        (19.0, 16.0),
        (18.0, 15.0),
        (15.0, 12.0),
        (15.0, 10.0),
        (15.0, 8.0),
        (15.0, 8.0),
    ]
    assert (data["committed"], data["trend"]) == (14.0, "behind")


def test_a_pass_killed_between_pages_resumes_at_the_page_it_stopped_and_ends_as_a_clean_one(jira, cli, tmp_path):
    fake, _site, _issues = jira
    config = tmp_path / "teamops.toml"
    config.write_text(f'[jira]\nurl = "{fake.url}"\nprojects = ["WEB", "OPS"]\nmax_retries = 0\n')
    env = {
        "TEAMOPS_CONFIG": str(config),
        "JIRA_EMAIL": EMAIL,
        "JIRA_API_TOKEN": TOKEN,
        "TEAMOPS_NOW": NOW.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    clean, killed = str(tmp_path / "clean.db"), str(tmp_path / "killed.db")
    fake.page = 3
    try:
        assert cli("--db", clean, "sync-tasks", env=env).exit_code == 0
        fake.fail_search_after = 1  # the second page answers 503: the run stops with what it stored
        res = cli("--db", killed, "sync-tasks", env=env)
        assert res.exit_code == 4 and "everything fetched so far is stored" in res.stderr, res.output
        assert len(rows(killed, "SELECT id FROM tasks")) == 3
        fake.fail_search_after = None
        fake.log.clear()
        assert cli("--db", killed, "sync-tasks", env=env).exit_code == 0
        searched = [p for _, p, _ in fake.log if p.endswith("/search/jql")]
        assert len(searched) == 2  # the pages after the first, not the first again
    finally:
        fake.page, fake.fail_search_after = 100, None
    query = "SELECT t.key, t.status, t.points, e.at, e.field, e.old, e.new FROM task_events e JOIN tasks t ON t.id = e.task_id"
    assert sorted(rows(killed, query)) == sorted(rows(clean, query))
    assert rows(killed, "SELECT key, status, points, started_at, done_at FROM tasks ORDER BY key") == rows(
        clean, "SELECT key, status, points, started_at, done_at FROM tasks ORDER BY key"
    )
