"""Tasks, sprints and RACI: rules enforced on every change, escalations on a controlled clock."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from teamops.config import RaciConfig
from teamops.raci import RoleHolder, violations


def H(role: str, pid: int | None, handle: str | None = None, active: bool = True, ext: str | None = None):
    return RoleHolder(role, pid, handle or (f"p{pid}" if pid else None), active, ext)


@pytest.mark.parametrize(
    ("holders", "rules", "status", "expected"),
    [
        ([H("R", 1)], RaciConfig(), "todo", ["no Accountable person: exactly one is required"]),
        (
            [H("R", 1), H("A", 2), H("A", 3)],
            RaciConfig(),
            "todo",
            ["2 Accountable people (p2, p3): exactly one is required"],
        ),
        ([H("A", 2)], RaciConfig(), "todo", ["no Responsible person: at least one is required"]),
        ([H("R", None, ext="zed"), H("A", 2)], RaciConfig(), "todo", ["Responsible 'zed' is not a known person"]),
        ([H("R", 1, active=False), H("A", 2)], RaciConfig(), "todo", ["Responsible p1 is not active"]),
        ([H("R", 1), H("R", 1), H("A", 2)], RaciConfig(), "todo", ["p1 holds Responsible 2 times"]),
        (
            [H("R", 1), H("A", 1)],
            RaciConfig(responsible_may_be_accountable=False),
            "todo",
            ["p1 is both Responsible and Accountable ([raci] responsible_may_be_accountable = false)"],
        ),
        ([H("R", 1), H("A", 1)], RaciConfig(), "todo", []),
        (
            [H("R", 1), H("A", 2)],
            RaciConfig(required_roles={"review": ["C"]}),
            "review",
            ["status 'review' requires a Consulted person"],
        ),
        ([H("R", 1), H("A", 2), H("C", 3)], RaciConfig(required_roles={"review": ["C"]}), "review", []),
        (
            [],
            RaciConfig(),
            "todo",
            ["no Accountable person: exactly one is required", "no Responsible person: at least one is required"],
        ),
    ],
)
def test_each_rule_and_its_message(holders, rules, status, expected):
    assert [message for _, message in violations(status, holders, rules)] == expected


def rows(db: Path, sql: str) -> list[tuple]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


@pytest.fixture
def team(cli, isolated):
    (isolated / "teamops.toml").write_text(
        '[notify.channels.team]\nkind = "webhook"\nurl = "http://127.0.0.1:9/hook"\n'
        '[notify.routes]\ntask_created = ["team"]\ntask_blocked = ["team"]\nescalation = ["team"]\n',
        encoding="utf-8",
    )
    for args in (
        ["alice", "--team", "web"],
        ["bob", "--team", "web"],
        ["lea", "--team", "web", "--lead"],
        ["ivan", "--team", "ops", "--lead"],
        ["old"],
    ):
        assert cli("people", "add", *args).exit_code == 0
    cli("people", "edit", "old", "--inactive")
    return isolated / "teamops.db"


def add(cli, *args, env=None):
    return cli("task", "add", *args, "--no-send", env=env)


def test_refused_task_saves_nothing_and_lists_every_violation(cli, team):
    res = add(cli, "Ownerless", "-R", "bob", "-R", "old")
    assert res.exit_code == 1
    assert res.stderr.strip() == (
        "error: task refused, nothing was saved: 2 RACI violations: no Accountable person: exactly one is "
        "required; Responsible old is not active"
    )
    assert rows(team, "SELECT COUNT(*) FROM tasks")[0][0] == 0
    assert rows(team, "SELECT COUNT(*) FROM task_events")[0][0] == 0
    assert rows(team, "SELECT COUNT(*) FROM outbox")[0][0] == 0


@pytest.mark.parametrize(
    "args",
    [
        ["task", "add", "X", "-R", "zed", "-A", "alice", "--no-send"],
        ["task", "update", "1", "-C", "zed"],
        ["task", "list", "--person", "zed"],
        ["kpi", "summary", "--person", "zed"],
        ["kpi", "velocity", "--person", "zed"],
        ["kpi", "efficiency", "--person", "zed"],
        ["kpi", "cycle-time", "--person", "zed"],
        ["kpi", "activity", "--person", "zed"],
        ["remind", "eod", "--person", "zed"],
        ["remind", "mastery", "--person", "zed"],
        ["mastery", "list", "--person", "zed"],
        ["mastery", "assign", "zed", "Learn"],
        ["people", "edit", "zed", "--team", "x"],
        ["people", "remove", "zed"],
    ],
)
def test_an_unknown_person_is_exit_5_everywhere(cli, team, args):
    add(cli, "Known", "-R", "bob", "-A", "alice")
    before = rows(team, "SELECT COUNT(*) FROM task_events")[0][0]
    res = cli(*args)
    assert res.exit_code == 5, (args, res.output)
    assert "'zed'" in res.stderr and len(res.stderr.strip().splitlines()) == 1
    assert rows(team, "SELECT COUNT(*) FROM task_events")[0][0] == before


def test_created_task_queues_task_created_and_records_events(cli, team):
    res = add(cli, "Export invoices", "-R", "bob", "-A", "alice", "-C", "lea", "--points", "3")
    assert res.exit_code == 0 and "created task #1" in res.stdout
    assert "1 notification queued: deliver with `teamops notify send`" in res.stderr
    assert rows(team, "SELECT kind, idempotency_key, status FROM outbox") == [
        ("task_created", "task_created:T-1", "pending")
    ]
    payload = json.loads(rows(team, "SELECT payload FROM outbox")[0][0])
    assert payload["people"] == ["alice", "bob"] and payload["fields"]["accountable"] == "alice"
    assert [r[0] for r in rows(team, "SELECT field FROM task_events ORDER BY id")] == [
        "created",
        "status",
        "points",
        "role:R",
        "role:A",
        "role:C",
    ]


def test_update_is_validated_and_a_refusal_changes_nothing(cli, team):
    add(cli, "Task", "-R", "bob", "-A", "alice")
    before = rows(team, "SELECT * FROM tasks")
    res = cli("task", "update", "1", "--accountable", "bob", "--accountable", "alice", "--points", "8")
    assert res.exit_code == 1 and "2 Accountable people (bob, alice)" in res.stderr
    assert rows(team, "SELECT * FROM tasks") == before
    assert rows(team, "SELECT role, person_id FROM task_roles ORDER BY role") == [("A", 1), ("R", 2)]
    ok = cli("task", "update", "#1", "--accountable", "lea", "--points", "8", "--by", "lea")
    assert ok.exit_code == 0 and "changed points, role:A" in ok.stderr
    assert rows(team, "SELECT actor, field, old, new FROM task_events WHERE actor = 'lea' ORDER BY id") == [
        ("lea", "points", None, "8"),
        ("lea", "role:A", "alice", "lea"),
    ]


def test_events_replay_to_the_current_state(cli, team):
    add(cli, "Replay me", "-R", "bob", "-A", "alice", "--points", "2", "--due", "2026-12-01")
    cli("task", "update", "1", "--status", "in_progress", "--points", "3")
    cli("task", "update", "1", "--title", "Replayed", "-R", "alice", "-R", "bob", "--spent-hours", "4.5")
    cli("task", "block", "1", "--reason", "vendor", "--no-send")
    cli("task", "unblock", "1")
    cli("task", "done", "1")
    from teamops.store.database import open_database
    from teamops.tasks import current, replay

    db = open_database(team)
    state = replay(db, 1)
    now = current(db, 1)
    for name in ("title", "status", "points", "spent_hours", "due_date"):
        expected = now[name]
        if isinstance(expected, float) and expected.is_integer():
            expected = int(expected)
        assert state[name] == (None if expected is None else str(expected)), name
    assert state["role:R"] == "alice,bob" and state["role:A"] == "alice"
    assert now["done_at"] and now["started_at"] and now["blocked_since"] is None


def block_at(cli, task: str, when: str):
    return cli("task", "block", task, "--reason", "waiting for the vendor", "--no-send", env={"TEAMOPS_NOW": when})


def escalate_at(cli, when: str):
    return cli("raci", "check", "--escalate", "--no-send", env={"TEAMOPS_NOW": when})


def test_escalation_levels_once_each_and_a_new_episode_after_reblock(cli, team):
    add(cli, "Blocked work", "-R", "bob", "-A", "alice")
    assert block_at(cli, "1", "2026-11-02T09:00:00Z").exit_code == 0
    assert rows(team, "SELECT idempotency_key FROM outbox WHERE kind = 'task_blocked'") == [
        ("task_blocked:T-1:2026-11-02T09:00:00Z",)
    ]
    assert "escalation" not in escalate_at(cli, "2026-11-03T08:59:00Z").stderr  # 23 h 59 m
    first = escalate_at(cli, "2026-11-03T09:00:00Z")  # 24 h
    assert "Escalation level 1: #1 blocked for 24 h" in first.stderr
    assert "escalation" not in escalate_at(cli, "2026-11-03T20:00:00Z").stderr  # once per level
    second = escalate_at(cli, "2026-11-04T09:30:00Z")
    assert "Escalation level 2" in second.stderr and "level 1" not in second.stderr
    keys = [r[0] for r in rows(team, "SELECT idempotency_key FROM outbox WHERE kind = 'escalation' ORDER BY id")]
    assert keys == ["escalation:T-1:2026-11-02T09:00:00Z:1", "escalation:T-1:2026-11-02T09:00:00Z:2"]
    level2 = json.loads(rows(team, "SELECT payload FROM outbox WHERE idempotency_key LIKE '%:2'")[0][0])
    assert level2["people"] == ["alice", "lea"] and level2["severity"] == "critical"  # the web team's lead
    cli("task", "unblock", "1", env={"TEAMOPS_NOW": "2026-11-04T10:00:00Z"})
    assert "escalation" not in escalate_at(cli, "2026-11-10T10:00:00Z").stderr  # not blocked: no episode
    block_at(cli, "1", "2026-11-10T10:00:00Z")
    again = escalate_at(cli, "2026-11-11T10:00:00Z")
    assert "Escalation level 1" in again.stderr
    assert rows(team, "SELECT COUNT(*) FROM escalations")[0][0] == 3


def test_unrouted_block_and_escalation_say_so_and_stay_due(cli, team, isolated):
    toml = isolated / "teamops.toml"
    routed = toml.read_text()
    toml.write_text(routed.replace('task_blocked = ["team"]\nescalation = ["team"]\n', ""), encoding="utf-8")
    add(cli, "Blocked work", "-R", "bob", "-A", "alice")
    blocked = block_at(cli, "1", "2026-11-02T09:00:00Z")
    assert "task_blocked: no channel is routed ([notify.routes] task_blocked), so nothing was queued" in blocked.stderr
    quiet = escalate_at(cli, "2026-11-03T10:00:00Z")
    assert "escalation: no channel is routed ([notify.routes] escalation), so nothing was queued" in quiet.stderr
    assert "1 escalation is due and will be queued once a channel is routed" in quiet.stderr
    assert rows(team, "SELECT COUNT(*) FROM escalations")[0][0] == 0
    toml.write_text(routed, encoding="utf-8")
    later = escalate_at(cli, "2026-11-03T11:00:00Z")
    assert "Escalation level 1: #1 blocked for 26 h" in later.stderr and "1 notification queued" in later.stderr
    assert rows(team, "SELECT COUNT(*) FROM escalations")[0][0] == 1


def test_working_hours_only_skip_the_weekend(cli, team, isolated):
    toml = isolated / "teamops.toml"
    toml.write_text(toml.read_text() + "[raci]\nworking_hours_only = true\n", encoding="utf-8")
    add(cli, "Friday block", "-R", "bob", "-A", "alice")
    block_at(cli, "1", "2026-11-06T12:00:00Z")  # a Friday
    assert "escalation" not in escalate_at(cli, "2026-11-09T11:00:00Z").stderr  # Fri 12 h + Mon 11 h = 23 h
    assert "level 1: #1 blocked for 24 h" in escalate_at(cli, "2026-11-09T12:00:00Z").stderr


def test_raci_check_gates_a_workflow(cli, team):
    add(cli, "Fine", "-R", "bob", "-A", "alice")
    clean = cli("raci", "check")
    assert clean.exit_code == 0 and "every open task" in clean.stdout
    conn = sqlite3.connect(team)  # a task from outside, stored as it is
    conn.execute(
        "INSERT INTO tasks (key, title, status, source, created_at, updated_at) "
        "VALUES ('cu:86a0', 'From ClickUp', 'in_progress', 'clickup', '2026-11-01T00:00:00Z', '2026-11-01T00:00:00Z')"
    )
    conn.execute("INSERT INTO task_roles (task_id, role, person_id, external_ref) VALUES (2, 'R', NULL, 'clickup:999')")
    conn.commit()
    conn.close()
    dirty = cli("raci", "check", "-f", "json")
    assert dirty.exit_code == 1
    found = json.loads(dirty.stdout)
    assert found["violations"] == 2
    assert {v["message"] for v in found["rows"]} == {
        "no Accountable person: exactly one is required",
        "Responsible 'clickup:999' is not a known person",
    }
    assert "2 RACI violations in 1 task" in dirty.stderr
    assert cli("raci", "check", "--task", "1").exit_code == 0
    assert cli("raci", "check", "--task", "cu:86a0").exit_code == 1
    cli("task", "done", "1")
    assert cli("raci", "check", "--task", "99").exit_code == 5


def test_a_task_added_to_a_started_sprint_is_a_scope_change_even_in_the_same_second(cli, team):
    at = {"TEAMOPS_NOW": "2026-11-02T08:00:00Z"}
    cli("sprint", "add", "S", "--start", "2026-11-02", "--end", "2026-11-13", env=at)
    add(cli, "Planned", "-R", "bob", "-A", "alice", "--points", "3", "--sprint", "S", env=at)
    assert cli("sprint", "start", "S", env=at).exit_code == 0
    add(cli, "Late", "-R", "bob", "-A", "alice", "--points", "5", "--sprint", "S", env=at)
    scope = json.loads(cli("sprint", "show", "S", "-f", "json", env=at).stdout)["rows"]
    assert [(c["task"], c["change"]) for c in scope] == [("#2", "added")]
    burndown = cli("kpi", "burndown", "--sprint", "S", env=at).stdout
    assert "committed 3 points" in burndown and "scope: 2026-11-02 #2 added" in burndown and "None" not in burndown


def test_sprint_commitment_and_scope_changes(cli, team):
    before = {"TEAMOPS_NOW": "2026-11-01T12:00:00Z"}
    cli("sprint", "add", "Sprint 7", "--start", "2026-11-02", "--end", "2026-11-13", env=before)
    add(cli, "A", "-R", "bob", "-A", "alice", "--points", "3", "--sprint", "Sprint 7", env=before)
    add(cli, "B", "-R", "bob", "-A", "alice", "--points", "5", "--sprint", "Sprint 7", env=before)
    add(cli, "C", "-R", "bob", "-A", "alice", "--points", "2", env=before)
    res = cli("sprint", "start", "Sprint 7", env={"TEAMOPS_NOW": "2026-11-02T08:00:00Z"})
    assert "started with 2 committed tasks" in res.stderr
    assert cli("sprint", "start", "Sprint 7").exit_code == 5
    cli("task", "update", "3", "--sprint", "Sprint 7", env={"TEAMOPS_NOW": "2026-11-03T10:00:00Z"})
    cli("task", "update", "2", "--points", "8", env={"TEAMOPS_NOW": "2026-11-04T10:00:00Z"})
    cli("task", "update", "1", "--sprint", "", env={"TEAMOPS_NOW": "2026-11-05T10:00:00Z"})
    cli("task", "done", "2", env={"TEAMOPS_NOW": "2026-11-06T10:00:00Z"})
    scope = json.loads(cli("sprint", "show", "Sprint 7", "-f", "json").stdout)["rows"]
    assert [(s["task"], s["change"], s["old"], s["new"]) for s in scope] == [
        ("#3", "added", None, "Sprint 7"),
        ("#2", "re-estimated", "5", "8"),
        ("#1", "removed", "Sprint 7", None),
    ]
    listed = json.loads(cli("sprint", "list", "-f", "json").stdout)["rows"][0]
    assert (listed["committed_points"], listed["completed_points"], listed["tasks"]) == (8, 8, 2)
    assert rows(team, "SELECT task_id, committed_points FROM sprint_tasks ORDER BY task_id") == [(1, 3.0), (2, 5.0)]


def test_matrix_letters(cli, team):
    add(cli, "One", "-R", "bob", "-A", "alice", "-I", "lea")
    add(cli, "Two", "-R", "alice", "-R", "bob", "-A", "alice", "-C", "ivan")
    data = json.loads(cli("raci", "matrix", "-f", "json").stdout)
    by = {r["person"]: r for r in data["rows"]}
    assert (by["alice"]["#1"], by["alice"]["#2"]) == ("A", "RA")
    assert (by["bob"]["#1"], by["lea"]["#1"], by["ivan"]["#2"]) == ("R", "I", "C")
    web = json.loads(cli("raci", "matrix", "--team", "ops", "-f", "json").stdout)
    assert [r["person"] for r in web["rows"]] == ["ivan"]


def test_bad_input(cli, team):
    add(cli, "X", "-R", "bob", "-A", "alice")
    assert cli("task", "show", "42").exit_code == 5
    assert cli("task", "update", "1", "--status", "someday").exit_code == 5
    assert cli("task", "block", "1", "--reason", "  ").exit_code == 5
    assert cli("task", "unblock", "1").exit_code == 5
    assert add(cli, "Y", "-R", "bob", "-A", "alice", "--sprint", "nope").exit_code == 5
    assert add(cli, "Y", "-R", "bob", "-A", "alice", "--due", "tomorrow").exit_code == 5
    assert cli("sprint", "add", "S", "--start", "2026-11-10", "--end", "2026-11-01").exit_code == 5
    show = cli("task", "show", "1", "-f", "json")
    assert json.loads(show.stdout)["roles"]["Accountable"] == ["alice"]
