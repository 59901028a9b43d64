"""RACI: each rule and its message, escalations on a controlled clock, the check as a gate, the matrix."""

from __future__ import annotations

import json
import sqlite3

import pytest

from teamops.config import RaciConfig
from teamops.work.raci import RoleHolder, violations
from tests.support.team import add, rows


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


def test_matrix_letters(cli, team):
    add(cli, "One", "-R", "bob", "-A", "alice", "-I", "lea")
    add(cli, "Two", "-R", "alice", "-R", "bob", "-A", "alice", "-C", "ivan")
    data = json.loads(cli("raci", "matrix", "-f", "json").stdout)
    by = {r["person"]: r for r in data["rows"]}
    assert (by["alice"]["#1"], by["alice"]["#2"]) == ("A", "RA")
    assert (by["bob"]["#1"], by["lea"]["#1"], by["ivan"]["#2"]) == ("R", "I", "C")
    web = json.loads(cli("raci", "matrix", "--team", "ops", "-f", "json").stdout)
    assert [r["person"] for r in web["rows"]] == ["ivan"]
