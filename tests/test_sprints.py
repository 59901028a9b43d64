"""Sprints: the commitment taken at start and every scope change after it, to the second."""

from __future__ import annotations

import json

from tests.support.team import add, rows


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
