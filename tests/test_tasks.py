"""Tasks: rules enforced on every change, a refusal stores nothing, events replay to the current state."""

from __future__ import annotations

import json

import pytest

from tests.support.team import add, rows


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
    from teamops.work.tasks import current, replay

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
