"""KPIs on a hand-computed sprint (the worked example of docs/kpi.md), built through the CLI."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from teamops.kpi.flow import median, percentile


def at(when: str) -> dict[str, str]:
    return {"TEAMOPS_NOW": when}


@pytest.fixture
def sprint(cli, isolated):
    """Sprint S1, Mon 2 – Fri 13 November 2026 (10 working days); see docs/kpi.md."""
    t0 = at("2026-11-01T12:00:00Z")
    cli("people", "add", "ann", "--team", "web", env=t0)
    cli("people", "add", "ben", "--team", "web", env=t0)
    cli("sprint", "add", "S1", "--start", "2026-11-02", "--end", "2026-11-13", env=t0)
    for title, pts, est in (("A", "3", "4"), ("B", "5", "10"), ("C", "2", None)):
        args = ["task", "add", title, "-R", "ann", "-A", "ben", "--points", pts, "--sprint", "S1", "--no-send"]
        if est:
            args += ["--estimate-hours", est]
        assert cli(*args, env=t0).exit_code == 0
    cli("sprint", "start", "S1", env=at("2026-11-02T08:00:00Z"))
    cli("task", "update", "1", "--status", "in_progress", env=at("2026-11-03T10:00:00Z"))
    cli("task", "update", "1", "--status", "done", "--spent-hours", "6", env=at("2026-11-04T16:00:00Z"))
    cli(
        "task",
        "add",
        "D",
        "-R",
        "ben",
        "-A",
        "ann",
        "--points",
        "3",
        "--sprint",
        "S1",
        "--no-send",
        env=at("2026-11-05T09:00:00Z"),
    )
    cli("task", "update", "2", "--points", "8", env=at("2026-11-06T09:00:00Z"))
    cli("task", "update", "3", "--sprint", "", env=at("2026-11-09T10:00:00Z"))
    cli("task", "update", "2", "--status", "in_progress", env=at("2026-11-10T12:00:00Z"))
    cli("task", "update", "2", "--status", "done", "--spent-hours", "8", env=at("2026-11-12T12:00:00Z"))
    cli("sprint", "close", "S1", env=at("2026-11-14T09:00:00Z"))
    return at("2026-11-14T09:00:00Z")


def report(cli, *args, env):
    res = cli("kpi", *args, "-f", "json", env=env)
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout)


def test_burndown_remaining_ideal_and_scope_changes(cli, sprint):
    data = report(cli, "burndown", "--sprint", "S1", env=sprint)
    assert [d["remaining"] for d in data["rows"]] == [10, 10, 7, 10, 13, 13, 13, 11, 11, 11, 3, 3]
    assert [d["ideal"] for d in data["rows"]] == [9, 8, 7, 6, 5, 5, 5, 4, 3, 2, 1, 0]
    assert [d["working_day"] for d in data["rows"]][5:7] == [False, False]
    assert data["committed"] == 10 and data["working_days"] == 10 and data["trend"] == "behind"
    assert [(c["task"], c["change"]) for c in data["scope_changes"]] == [
        ("#4", "added"),
        ("#2", "re-estimated"),
        ("#3", "removed"),
    ]


def test_velocity_and_say_do(cli, sprint):
    data = report(cli, "velocity", env=sprint)
    row = data["rows"][0]
    assert (row["committed"], row["completed"], row["say_do"]) == (10, 11, 1.1)
    assert data["velocity"] == 11 and data["velocity_sprints"] == 1 and data["mode"] == "sprints"


def test_cycle_and_lead_time(cli, sprint):
    data = report(cli, "cycle-time", env=sprint)
    cycle, lead = data["rows"]
    assert (cycle["tasks"], cycle["median_days"], cycle["p85_days"]) == (2, 1.62, 2.0)
    assert (lead["tasks"], lead["median_days"], lead["p85_days"]) == (2, 7.08, 11.0)


def test_efficiency_and_estimate_accuracy(cli, sprint):
    data = report(cli, "efficiency", env=sprint)
    assert data["flow_efficiency"] == 0.23 and data["mean_task_flow_efficiency"] == 0.29
    assert data["estimate_accuracy"] == 1.0
    a = next(r for r in data["rows"] if r["task"] == "#1")
    assert (a["active_h"], a["waiting_h"], a["blocked_h"]) == (30.0, 46.0, 0.0)


def test_summary_and_formats(cli, sprint):
    data = report(cli, "summary", "--since", "2026-11-01", env=sprint)
    assert data["sprint"]["say_do"] == 1.1 and data["sprint"]["scope_changes"] == 3
    assert data["cycle_time"]["cycle_time"]["median_days"] == 1.62
    md = cli("kpi", "burndown", "-f", "markdown", env=sprint).stdout
    assert "```mermaid\nxychart-beta" in md and "bar [10, 10, 7, 10, 13, 13, 13, 11, 11, 11, 3, 3]" in md
    assert "line [9, 8, 7, 6, 5, 5, 5, 4, 3, 2, 1, 0]" in md
    vel_md = cli("kpi", "velocity", "-f", "markdown", env=sprint).stdout
    assert "bar [10]" in vel_md and "line [11]" in vel_md
    piped = cli("kpi", "burndown", env=sprint).stdout
    assert "Burndown: S1" in piped and "┤" not in piped  # no chart when piped, unless asked for
    table = cli("kpi", "burndown", "--chart", env=sprint).stdout
    assert "┤" in table and "█ remaining   • ideal" in table  # the terminal chart, its legend below it
    csv_text = cli("kpi", "cycle-time", "-f", "csv", env=sprint).stdout
    assert csv_text.splitlines()[1] == "cycle_time,2,1.62,2.0,1.62"
    summary = cli("kpi", env=sprint)
    assert "say/do" in summary.stdout and "110%" in summary.stdout


def test_empty_database_is_friendly(cli, isolated):
    res = cli("kpi")
    assert res.exit_code == 0 and "nothing to report yet" in res.stdout
    for name in ("velocity", "burndown", "efficiency", "cycle-time", "activity"):
        assert cli("kpi", name).exit_code == 0, name


def test_unpointed_tasks_are_counted_not_zero(cli, isolated):
    t0 = at("2026-11-01T12:00:00Z")
    cli("people", "add", "ann", env=t0)
    cli("sprint", "add", "S", "--start", "2026-11-02", "--end", "2026-11-06", env=t0)
    cli("task", "add", "pointed", "-R", "ann", "-A", "ann", "--points", "2", "--sprint", "S", "--no-send", env=t0)
    cli("task", "add", "unpointed", "-R", "ann", "-A", "ann", "--sprint", "S", "--no-send", env=t0)
    cli("sprint", "start", "S", env=at("2026-11-02T08:00:00Z"))
    cli("task", "done", "2", env=at("2026-11-03T08:00:00Z"))
    data = report(cli, "burndown", "--sprint", "S", env=at("2026-11-04T12:00:00Z"))
    assert data["rows"][0]["unpointed_tasks"] == 1 and data["rows"][0]["remaining"] == 2
    assert data["rows"][3]["remaining"] is None  # days still to come
    assert data["working_days_left"] == 2
    vel = report(cli, "velocity", env=at("2026-11-09T12:00:00Z"))
    assert vel["rows"][0]["unpointed_done"] == 1


def test_no_sprints_gives_weekly_velocity(cli, isolated):
    cli("people", "add", "ann")
    for day, pts in (("2026-11-03", "3"), ("2026-11-04", "2"), ("2026-11-11", "5")):
        cli(
            "task", "add", f"t{day}", "-R", "ann", "-A", "ann", "--points", pts, "--no-send", env=at(f"{day}T08:00:00Z")
        )
    for tid, day in ((1, "2026-11-03"), (2, "2026-11-05"), (3, "2026-11-12")):
        cli("task", "done", str(tid), env=at(f"{day}T18:00:00Z"))
    data = report(cli, "velocity", env=at("2026-11-20T00:00:00Z"))
    assert data["mode"] == "weeks"
    assert [(r["week"], r["completed"]) for r in data["rows"]] == [("2026-W45", 5), ("2026-W46", 5)]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(values=st.lists(st.floats(0, 1000, allow_nan=False), min_size=1, max_size=40), p=st.floats(1, 100))
def test_percentile_is_a_member_and_ordered(values, p):
    value = percentile(values, p)
    assert value in values
    assert percentile(values, 100) == max(values) and median(values) <= max(values)
    assert sum(v <= value for v in values) >= p / 100 * len(values) - 1e-9


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    plan=st.lists(
        st.tuples(st.integers(0, 8), st.sampled_from(["done", "points", "out", "none"]), st.integers(0, 13)),
        min_size=1,
        max_size=6,
    ),
    length=st.integers(0, 13),
)
def test_burndown_properties(tmp_path_factory, plan, length):
    """Never negative; the ideal line ends at 0; say/do = completed ÷ committed."""

    from teamops import clock
    from teamops.config import load_config
    from teamops.kpi.burndown import burndown
    from teamops.kpi.velocity import sprint_velocity
    from teamops.store.database import open_database
    from teamops.work.sprints import add_sprint, start_sprint
    from teamops.work.tasks import TaskChange, add_task, update_task

    db = open_database(tmp_path_factory.mktemp("prop") / "t.db")
    cfg = load_config(None, env={})
    try:
        clock.pin("2026-11-01T12:00:00Z")
        db.execute("INSERT INTO people (handle, created_at, updated_at) VALUES ('p', 'x', 'x')")
        end = f"2026-11-{2 + length:02d}"
        add_sprint(db, "S", "2026-11-02", end)
        for i, (_, _, pts) in enumerate(plan):
            add_task(db, cfg, f"t{i}", TaskChange(points=float(pts), sprint="S", roles={"R": ["p"], "A": ["p"]}), "x")
        start_sprint(db, "S", at="2026-11-02T00:00:00Z")
        for i, (day, action, pts) in enumerate(plan):
            clock.pin(f"2026-11-{2 + min(day, length):02d}T12:00:00Z")
            change = {
                "done": TaskChange(status="done"),
                "points": TaskChange(points=float(pts)),
                "out": TaskChange(sprint=""),
                "none": TaskChange(),
            }[action]
            update_task(db, cfg, i + 1, change, "x")
        clock.pin("2026-12-31T00:00:00Z")
        data = burndown(db, cfg, "S", clock.now())
        assert all(d.remaining >= 0 and d.ideal >= 0 for d in data.days)
        assert data.days[-1].ideal == 0 or data.working_days == 0
        row = sprint_velocity(db, cfg, clock.now()).sprints[0]
        if row.committed:
            assert row.say_do == round(row.completed / row.committed, 2)
    finally:
        clock.pin(None)


def test_kpi_views_for_datasette(cli, sprint, isolated):
    import sqlite3

    conn = sqlite3.connect(isolated / "teamops.db")
    assert conn.execute("SELECT sprint, committed, completed FROM kpi_velocity").fetchall() == [("S1", 10.0, 11.0)]
    cycles = dict(conn.execute("SELECT title, cycle_days FROM kpi_cycle_times").fetchall())
    assert cycles == {"A": 1.25, "B": 2.0}
    assert conn.execute("SELECT week, completed_points FROM kpi_weekly_completed").fetchall() == [
        ("2026-W45", 3.0),
        ("2026-W46", 8.0),
    ]


def test_flow_efficiency_reads_the_same_in_the_summary_and_its_report(cli, isolated):
    """A task done at once was never in a status: n/a, said in the same words by both, with the same counts."""
    then, later = {"TEAMOPS_NOW": "2026-12-01T10:00:00Z"}, {"TEAMOPS_NOW": "2026-12-02T10:00:00Z"}
    assert cli("people", "add", "ann").exit_code == 0
    assert cli("task", "add", "Ship", "-R", "ann", "-A", "ann", "--points", "3", "--no-send", env=then).exit_code == 0
    assert cli("task", "done", "1", env=then).exit_code == 0
    said = "n/a over 1 finished task (none with time in a status)"
    assert said in cli("kpi", env=later).stdout
    assert f"flow efficiency {said}" in cli("kpi", "efficiency", "--last", "4w", env=later).stdout
