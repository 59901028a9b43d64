"""ClickUp sync against a fake v2 API: paging, mixed field types, RACI fields, sprints, faults."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from teamops.config import load_config
from teamops.errors import ServiceError
from teamops.integrations.clickup import ClickUpClient
from tests.fakes.clickup import TOKEN, FakeClickUp, make_task, user
from tests.support.paths import FIXTURES

CLICKUP = FIXTURES / "clickup"
ALICE = user(81234, "Alice Liddell", "alice@acme.io")
BOB = user(81235, "Bob Builder", "BOB@acme.io")
STRANGER = user(99999, "Stranger", "who@elsewhere.org")


def config(folder: Path, fake: FakeClickUp, extra: str = "") -> None:
    (folder / "teamops.toml").write_text(
        f'[clickup]\napi_url = "{fake.url}"\nteam_id = "9012345"\nlist_ids = ["901200000001"]\n'
        f'status_map = {{ "in progress" = "in_progress", "waiting on vendor" = "blocked" }}\n{extra}',
        encoding="utf-8",
    )


def q(db: Path, sql: str) -> list[tuple]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


@pytest.fixture
def fake(isolated, monkeypatch):
    with FakeClickUp() as server:
        monkeypatch.setenv("CLICKUP_TOKEN", TOKEN)
        config(isolated, server)
        yield server


def seed(fake: FakeClickUp) -> None:
    fake.lists["901200000001"] = [
        make_task(
            "t1",
            "Export invoices",
            "901200000001",
            status="in progress",
            status_type="custom",
            points=3,
            estimate="8640000",
            spent=7200000,
            due="1795600000000",
            raci={"Responsible": [BOB], "Accountable": [ALICE]},
        ),
        make_task(
            "t2",
            "Fix SSO login",
            "901200000001",
            status="waiting on vendor",
            status_type="custom",
            points="5",
            estimate=3600000,
            spent="0",
            assignees=[BOB],
            raci={"Accountable": [STRANGER]},
        ),
        make_task(
            "t3",
            "Old cleanup",
            "901200000001",
            status="complete",
            status_type="closed",
            points=1.0,
            raci={"Responsible": [ALICE], "Accountable": [ALICE]},
        ),
        make_task(
            "t4", "Subtask of export", "901200000001", parent="t1", raci={"Responsible": [BOB], "Accountable": [ALICE]}
        ),
    ]
    fake.status_times = {
        "t1": {
            "current_status": {"status": "in progress", "total_time": {"by_minute": 120, "since": "1795000000000"}},
            "status_history": [
                {"status": "to do", "type": "open", "total_time": {"by_minute": 600, "since": "1794900000000"}},
                {"status": "in progress", "type": "custom", "total_time": {"by_minute": 120, "since": "1795000000000"}},
            ],
        },
    }


def test_first_sync_maps_everything(cli, fake, isolated):
    cli("people", "add", "alice", "--clickup-id", "81234")
    cli("people", "add", "bob", "--email", "bob@acme.io")  # matched by email, case-insensitively
    seed(fake)
    res = cli("sync-tasks")
    assert res.exit_code == 0, res.output
    assert "synced ClickUp: 1 list, 4 added, 0 changed, 0 closed, 0 removed" in res.stderr
    assert "time in status: stored" in res.stderr
    db = isolated / "teamops.db"
    got = {
        r[0]: r[1:]
        for r in q(
            db,
            "SELECT key, status, points, estimate_hours, spent_hours, due_date, parent_key, "
            "blocked_since IS NOT NULL, done_at IS NOT NULL FROM tasks",
        )
    }
    assert got["cu:t1"] == ("in_progress", 3.0, 2.4, 2.0, "2026-11-25", None, 0, 0)
    assert got["cu:t2"] == ("blocked", 5.0, 1.0, 0.0, None, None, 1, 0)
    assert got["cu:t3"] == ("done", 1.0, None, None, None, None, 0, 1)
    assert got["cu:t4"][5] == "cu:t1"
    roles = q(
        db,
        "SELECT t.key, r.role, p.handle, r.external_ref FROM task_roles r JOIN tasks t ON t.id = r.task_id "
        "LEFT JOIN people p ON p.id = r.person_id ORDER BY t.key, r.role",
    )
    assert ("cu:t1", "A", "alice", None) in roles and ("cu:t1", "R", "bob", None) in roles
    assert ("cu:t2", "R", "bob", None) in roles  # assignees stand in for an empty Responsible field
    assert ("cu:t2", "A", None, "clickup:99999") in roles
    times = q(db, "SELECT status, source_status, minutes, is_current FROM task_status_times ORDER BY minutes")
    assert times == [("in_progress", "in progress", 120, 1), ("todo", "to do", 600, 0)]
    unmapped = json.loads(cli("people", "unmapped", "-f", "json").stdout)["rows"]
    assert [(u["source"], u["name"], u["tasks"]) for u in unmapped] == [("clickup", "Stranger", 1)]
    check = cli("raci", "check", "-f", "json")
    assert check.exit_code == 1
    assert [v["message"] for v in json.loads(check.stdout)["rows"]] == [
        "Accountable 'clickup:99999' is not a known person"
    ]
    cli("people", "add", "stranger", "--clickup-id", "99999")
    assert cli("raci", "check").exit_code == 0  # the role resolves once the person is known


def test_incremental_sync_records_status_changes_as_events(cli, fake, isolated):
    seed(fake)
    cli("sync-tasks")
    before = len(fake.log)
    fake.lists["901200000001"][0] = make_task(
        "t1",
        "Export invoices",
        "901200000001",
        status="complete",
        status_type="closed",
        points=3,
        updated=1_795_100_000_000,
        raci={"Responsible": [BOB], "Accountable": [ALICE]},
    )
    res = cli("sync-tasks")
    assert "0 added, 0 changed, 1 closed" in res.stderr, res.stderr
    incremental = [query for path, query, _ in fake.log[before:] if path.endswith("/task")]
    assert incremental and all("date_updated_gt" in qy for qy in incremental)
    events = q(
        isolated / "teamops.db",
        "SELECT e.field, e.old, e.new, e.source FROM task_events e "
        "JOIN tasks t ON t.id = e.task_id WHERE t.key = 'cu:t1' AND e.old IS NOT NULL",
    )
    assert ("status", "in_progress", "done", "clickup") in events
    again = cli("sync-tasks")
    assert "0 added, 0 changed, 0 closed" in again.stderr


def test_paging_last_page_and_team_search(cli, fake, isolated):
    fake.lists["901200000001"] = [make_task(f"p{i}", f"Task {i}", "901200000001") for i in range(250)]
    res = cli("sync-tasks")
    assert "250 added" in res.stderr
    pages = [
        qy["page"][0]
        for path, qy, _ in fake.log
        if path == "/api/v2/list/901200000001/task" and qy.get("archived") == ["false"]
    ]
    assert pages == ["0", "1", "2"]
    config(isolated, fake, "")
    (isolated / "teamops.toml").write_text(
        (isolated / "teamops.toml").read_text().replace('list_ids = ["901200000001"]', "list_ids = []"),
        encoding="utf-8",
    )
    fake.log.clear()
    res = cli("sync-tasks", "--full")
    assert res.exit_code == 0, res.output
    team = [qy for path, qy, _ in fake.log if path == "/api/v2/team/9012345/task"]
    assert [qy["page"][0] for qy in team] == ["0", "1", "2"]  # no last_page there: a short page ends it
    assert not any("archived" in qy for qy in team)  # not a parameter of Get Filtered Team Tasks


def test_a_workspace_sync_is_incremental_and_finds_archived_tasks_list_by_list(cli, fake, isolated):
    config(isolated, fake, "")
    toml = isolated / "teamops.toml"
    toml.write_text(toml.read_text().replace('list_ids = ["901200000001"]', "list_ids = []"), encoding="utf-8")
    fake.lists["901200000001"] = [make_task("w1", "Open", "901200000001", updated=1_795_000_000_000)]
    fake.lists["901200000002"] = [make_task("w2", "Shelved", "901200000002", archived=True)]
    first = cli("sync-tasks")
    assert first.exit_code == 0 and "2 added" in first.stderr, first.output
    assert ("/api/v2/list/901200000002/task", "true") in [(p, qy.get("archived", [""])[0]) for p, qy, _ in fake.log]
    fake.log.clear()
    fake.lists["901200000001"].append(make_task("w3", "New", "901200000001", updated=1_795_000_100_000))
    second = cli("sync-tasks")
    assert second.exit_code == 0 and "1 added" in second.stderr, second.output
    team = [qy for path, qy, _ in fake.log if path == "/api/v2/team/9012345/task"]
    assert [qy["date_updated_gt"] for qy in team] == [
        [str(1_795_000_000_000 - 300_000)]
    ]  # the cursor, less the overlap
    assert not [p for p, _, _ in fake.log if "/space" in p or "/list/" in p]  # archived tasks: full passes only
    fake.lists["901200000001"] = [t for t in fake.lists["901200000001"] if t["id"] != "w3"]
    full = cli("sync-tasks", "--full")
    assert "1 removed" in full.stderr, full.stderr
    # An archived task is kept out of reports like a removed one; w3 is gone from ClickUp altogether.
    assert q(isolated / "teamops.db", "SELECT key FROM tasks WHERE removed_at IS NOT NULL ORDER BY key") == [
        ("cu:w2",),
        ("cu:w3",),
    ]


def test_tasks_added_to_a_sprint_list_from_their_home_list_are_found(cli, fake, isolated):
    config(isolated, fake, 'sprint_folder_ids = ["901100000009"]\n')
    fake.folders["901100000009"] = [
        {"id": "901200000004", "name": "Sprint 4", "start_date": "1794268800000", "due_date": "1795392000000"}
    ]
    fake.lists["901200000001"] = []
    fake.lists["901200000004"] = []
    visitor = make_task("v1", "Planned from the backlog", "901200000077", points=3)
    visitor["locations"] = [{"id": "901200000004", "name": "Sprint 4"}]
    fake.timl["901200000004"] = [visitor]
    res = cli("sync-tasks", env={"TEAMOPS_NOW": "2026-11-04T09:00:00Z"})
    assert res.exit_code == 0, res.output
    rows = json.loads(cli("task", "list", "-f", "json").stdout)["rows"]
    assert [(r["title"], r["sprint"]) for r in rows] == [("Planned from the backlog", "Sprint 4")]
    sprint_reads = [qy for p, qy, _ in fake.log if p == "/api/v2/list/901200000004/task"]
    assert sprint_reads and all(
        qy.get("include_timl") == ["true"] for qy in sprint_reads if qy["archived"] == ["false"]
    )


def test_moved_deleted_and_archived_tasks_are_marked(cli, fake, isolated):
    seed(fake)
    cli("sync-tasks")
    fake.lists["901200000001"] = [t for t in fake.lists["901200000001"] if t["id"] != "t3"]
    fake.lists["901200000001"][1]["archived"] = True
    res = cli("sync-tasks", "--full")
    assert "2 removed" in res.stderr or ("1 removed" in res.stderr and "1 changed" in res.stderr), res.stderr
    removed = q(isolated / "teamops.db", "SELECT key FROM tasks WHERE removed_at IS NOT NULL ORDER BY key")
    assert removed == [("cu:t2",), ("cu:t3",)]
    assert [r["id"] for r in json.loads(cli("task", "list", "-f", "json").stdout)["rows"]] == [1, 4]


def test_sprint_lists_dates_and_late_commitment(cli, fake, isolated):
    config(isolated, fake, 'sprint_folder_ids = ["901100000009"]\n')
    fake.folders["901100000009"] = [
        {
            "id": "901200000003",
            "name": "Sprint 3 (11/2 - 11/15)",
            "start_date": None,
            "due_date": None,
            "date_created": "1793000000000",
        },
        {"id": "901200000004", "name": "Sprint 4", "start_date": "1794268800000", "due_date": "1795392000000"},
    ]
    fake.lists["901200000001"] = []
    fake.lists["901200000003"] = [
        make_task("s1", "Sprint work", "901200000003", points=5, raci={"Responsible": [BOB], "Accountable": [ALICE]})
    ]
    fake.lists["901200000004"] = []
    res = cli("sync-tasks", env={"TEAMOPS_NOW": "2026-11-04T09:00:00Z"})
    assert res.exit_code == 0, res.output
    assert "sprint 'Sprint 3 (11/2 - 11/15)' started: commitment of 1 task taken now — an estimate" in res.stderr
    sprints = {
        r[0]: r[1:] for r in q(isolated / "teamops.db", "SELECT name, start_date, end_date, status FROM sprints")
    }
    assert sprints["Sprint 3 (11/2 - 11/15)"] == ("2026-11-02", "2026-11-15", "active")
    assert sprints["Sprint 4"] == ("2026-11-10", "2026-11-23", "planned")
    assert q(isolated / "teamops.db", "SELECT committed_points, estimated FROM sprint_tasks") == [(5.0, 1)]
    later = cli("sync-tasks", env={"TEAMOPS_NOW": "2026-11-16T09:00:00Z"})
    assert "sprint 'Sprint 3 (11/2 - 11/15)' closed" in later.stderr
    assert "sprint 'Sprint 4' started" in later.stderr


def test_time_in_status_unavailable_is_fine(cli, fake):
    seed(fake)
    fake.status_times = None
    res = cli("sync-tasks")
    assert res.exit_code == 0 and "time in status: unavailable" in res.stderr


def test_token_errors_and_forms(cli, fake, isolated, monkeypatch):
    seed(fake)
    monkeypatch.setenv("CLICKUP_TOKEN", "pk_WRONG_SECRET_123")
    bad = cli("sync-tasks")
    assert bad.exit_code == 4 and "rejected the token" in bad.stderr and "Token invalid (OAUTH_025)" in bad.stderr
    assert "pk_WRONG_SECRET_123" not in bad.output
    monkeypatch.setenv("CLICKUP_TOKEN", TOKEN)
    fake.faults = ["team401"]
    team = cli("sync-tasks")
    assert team.exit_code == 4 and "no access to this workspace or list" in team.stderr
    fake.faults = ["error_form"]
    form = cli("sync-tasks")
    assert form.exit_code == 4 and "Invalid query parameter (PARAM_001)" in form.stderr
    monkeypatch.delenv("CLICKUP_TOKEN")
    assert cli("sync-tasks").exit_code == 3
    raw = b"".join(p.read_bytes() for p in isolated.glob("teamops.db*"))
    assert TOKEN.encode() not in raw and b"pk_WRONG_SECRET_123" not in raw


class Sleeps(list):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def test_client_waits_for_429_reset_and_slows_down_before_zero():
    with FakeClickUp() as fake:
        fake.lists["901200000001"] = [make_task("a", "A", "901200000001")]
        sleeps = Sleeps()
        client = ClickUpClient(fake.url, TOKEN, sleep=sleeps)
        fake.faults = ["429"]
        pages = list(client.list_tasks("901200000001", archived=False, include_closed=True))
        assert len(pages[0][1]) == 1 and len(sleeps) == 1 and 0 < sleeps[0] <= 3
        fake.remaining = 2  # the next answer says 1 left: pace before the one after
        fake.reset_in = 5
        list(client.list_tasks("901200000001"))
        list(client.list_tasks("901200000001"))
        assert len(sleeps) == 2 and 3 <= sleeps[1] <= 7
        fake.faults = ["500", "bad_json", "deep_json"]
        assert len(list(client.list_tasks("901200000001"))) == 1
        with pytest.raises(ServiceError, match="more than"):
            ClickUpClient(fake.url, TOKEN, sleep=sleeps, max_wait_s=0.5).policy.wait(10, "x", "rate limit")


def test_real_task_json_fixtures_normalise(isolated):
    from teamops.integrations.clickup import ClickUpTask
    from teamops.sources.clickup.sync import _People, to_synced
    from teamops.store.database import open_database

    def normalise_task(raw, cfg, people, sprints):
        t = to_synced(ClickUpTask.parse(raw), cfg, people, sprints)
        return {**t.fields, "roles": t.roles, "list_id": t.list_id}

    cfg = load_config(None, env={})
    cfg.clickup.raci_fields = {"responsible": "Assigned Reviewer", "accountable": "Drop Down", "informed": "Labels"}
    db = open_database(isolated / "t.db")
    db.execute("INSERT INTO people (handle, given_name, created_at, updated_at) VALUES ('opt', 'Option 1', 'x', 'x')")
    db.execute("INSERT INTO identities (person_id, kind, value) VALUES (1, 'name', 'option 1')")
    people = _People(db)
    spec = json.loads((CLICKUP / "spec-v2_GetTasks_example.json").read_text())["tasks"][0]
    t = normalise_task(spec, cfg, people, {})
    assert (t["status"], t["points"], t["estimate_hours"], t["spent_hours"]) == ("in_progress", 3.0, 2.4, 2.0)
    assert t["roles"]["R"] == [(None, "clickup:2772463")]
    real = json.loads((CLICKUP / "ykgoon-clickdown_real_task_format.json").read_text())
    r = normalise_task(real, cfg, people, {})
    assert (r["status"], r["points"], r["estimate_hours"], r["list_id"]) == ("todo", None, None, "901610671319")
    raw = json.loads((CLICKUP / "Stashchen-pyclickup_client_raw_task_1.json").read_text())
    raw.setdefault("status", {"status": "open", "type": "open"})
    shapes = normalise_task(raw, cfg, people, {})
    assert shapes["roles"]["A"] == [(1, "clickup-option:Option 1")]  # a drop-down option naming a person
    assert shapes["roles"]["I"] == [(None, "clickup-option:Label #1")]


@pytest.mark.slow
def test_kill_mid_sync_then_resume_matches_clean_run(tmp_path):
    with FakeClickUp() as fake:
        fake.lists["901200000001"] = [
            make_task(f"k{i}", f"Task {i}", "901200000001", points=i % 8, updated=1_795_000_000_000 + i)
            for i in range(1200)
        ]
        fake.latency = 0.15
        env = {**os.environ, "CLICKUP_TOKEN": TOKEN}

        def run(folder: Path) -> subprocess.Popen[bytes]:
            folder.mkdir()
            config(folder, fake)
            return subprocess.Popen(
                [sys.executable, "-m", "teamops", "-q", "sync-tasks"],
                cwd=folder,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )

        assert run(tmp_path / "clean").wait(120) == 0
        proc = run(tmp_path / "killed")
        db = tmp_path / "killed" / "teamops.db"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if q(db, "SELECT COUNT(*) FROM tasks")[0][0] >= 300:
                    break
            except sqlite3.Error:
                pass
            time.sleep(0.02)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        assert 0 < q(db, "SELECT COUNT(*) FROM tasks")[0][0] < 1200
        fake.latency = 0
        resume = subprocess.run(
            [sys.executable, "-m", "teamops", "sync-tasks"],
            cwd=tmp_path / "killed",
            env=env,
            capture_output=True,
            text=True,
        )
        assert resume.returncode == 0, resume.stderr
    sql = "SELECT key, title, status, points FROM tasks ORDER BY key"
    assert q(db, sql) == q(tmp_path / "clean" / "teamops.db", sql)
