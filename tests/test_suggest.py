"""`teamops task suggest`: points from the team's own finished tasks, the model chosen by its error and kept
until the history changes; the team's median below 30 finished tasks."""

from __future__ import annotations

import json
import sqlite3


def sheet(path, rows):
    lines = ["key,title,description,points,status"] + [",".join(r) for r in rows]
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def history(n):
    """Two kinds of work the text tells apart: schema migrations (8 points) and typo fixes (1 point)."""
    rows = []
    for i in range(n):
        if i % 2:
            rows.append((f"M-{i}", f"Database schema migration for table {i}", "migrate rows and indexes", "8", "done"))
        else:
            rows.append((f"T-{i}", f"Fix typo in help text {i}", "a spelling mistake", "1", "done"))
    return rows


def test_suggestions_follow_the_most_similar_finished_tasks(cli, tmp_path):
    db = str(tmp_path / "t.db")
    rows = [
        *history(60),
        ("N-1", "Fix typo in the README", "spelling", "", "todo"),
        ("N-2", "Database schema migration for invoices", "new table", "", "todo"),
    ]
    assert cli("--db", db, "task", "import", sheet(tmp_path / "h.csv", rows)).exit_code == 0
    res = cli("--db", db, "task", "suggest", "--format", "json")
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    got = {s["key"]: s for s in data["suggestions"]}
    assert got["csv:N-1"]["points"] == 1.0 and got["csv:N-2"]["points"] == 8.0
    assert data["method"] == "knn" and data["history"] == 60
    assert data["held_out_mae"] < data["median_mae"]  # it earned its place against the median
    assert all(x["title"].startswith("Fix typo") for x in got["csv:N-1"]["similar"])
    assert len(got["csv:N-2"]["similar"]) == 3
    table = cli("--db", db, "task", "suggest", "csv:N-1")
    assert "learned from 60 finished tasks" in table.stdout
    cli("--db", db, "people", "add", "ann")
    added = cli("--db", db, "task", "add", "Fix typo in the footer", "-R", "ann", "-A", "ann", "--no-send")
    assert "hint: the team's history suggests 1 point (1–1)" in added.stderr and "set them with" in added.stderr
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT COUNT(*) FROM point_models").fetchone()[0] == 1  # chosen once, kept
    conn.close()
    cli("--db", db, "task", "import", sheet(tmp_path / "more.csv", [("X-1", "Fix typo again", "", "1", "done")]))
    cli("--db", db, "task", "suggest")
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT COUNT(*) FROM point_models").fetchone()[0] == 2  # the history changed
    conn.close()


def test_below_thirty_finished_tasks_the_median_and_why(cli, tmp_path):
    db = str(tmp_path / "t.db")
    rows = [*history(9), ("N-1", "Something new", "", "", "todo")]
    cli("--db", db, "task", "import", sheet(tmp_path / "h.csv", rows))
    res = cli("--db", db, "task", "suggest")
    assert "only 9 finished tasks with points (a model needs 30)" in res.stdout
    data = json.loads(cli("--db", db, "task", "suggest", "--format", "json").stdout)
    assert data["suggestions"][0]["points"] == 1.0 and data["method"] == "median"  # five 1s, four 8s
    res = cli("--db", db, "task", "suggest", "nope")
    assert res.exit_code == 5 and "no task 'nope'" in res.stderr
    empty = cli("--db", str(tmp_path / "e.db"), "task", "suggest")
    assert empty.exit_code == 0 and "no finished task with points" in empty.stdout


def test_estimates_against_actuals_per_person_and_team(cli, make_repo, tmp_path):
    """Two tasks with their time in progress; commits name them (#1 in a message, CU-ab12 in a branch merged
    by a pull request); the heuristic's hours of those commits are held against that time."""
    db = str(tmp_path / "t.db")
    repo = make_repo()
    repo.commit("start", {"a.py": "1\n"}, author=("Ann", "ann@x.io"), date="2026-10-01T09:00:00+00:00")
    repo.commit(
        "export: first part #1", {"e.py": "x\n" * 40}, author=("Ann", "ann@x.io"), date="2026-10-02T09:00:00+00:00"
    )
    repo.commit(
        "export: tests for #1", {"t.py": "t\n" * 20}, author=("Ann", "ann@x.io"), date="2026-10-02T12:00:00+00:00"
    )
    repo.commit("Fix login (#7)", {"l.py": "l\n" * 5}, author=("Ann", "ann@x.io"), date="2026-10-03T09:00:00+00:00")
    repo.commit(
        "CU-ab12 cache headers", {"c.py": "c\n" * 8}, author=("Ann", "ann@x.io"), date="2026-10-04T09:00:00+00:00"
    )
    cli("--db", db, "people", "add", "ann", "--email", "ann@x.io", "--team", "web")
    assert cli("--db", db, "sync-commits", "--repo", str(repo.path)).exit_code == 0
    assert cli("--db", db, "analyze").exit_code == 0
    at = lambda moment: {"TEAMOPS_NOW": moment}  # noqa: E731
    cli(
        "--db",
        db,
        "task",
        "add",
        "Export",
        "-R",
        "ann",
        "-A",
        "ann",
        "--points",
        "3",
        "--no-send",
        env=at("2026-10-01T08:00:00Z"),
    )
    cli("--db", db, "task", "update", "1", "--status", "in_progress", env=at("2026-10-02T08:00:00Z"))
    cli("--db", db, "task", "update", "1", "--status", "done", env=at("2026-10-02T18:00:00Z"))
    sheet_path = sheet(tmp_path / "cu.csv", [("ab12", "Cache headers", "", "1", "done")])
    cli("--db", db, "task", "import", sheet_path, "--source", "cu", env=at("2026-10-04T10:00:00Z"))
    res = cli("--db", db, "kpi", "estimates", "--since", "2026-10-01", "--until", "2026-10-31", "-f", "json")
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    tasks = {t["key"]: t for t in data["tasks"]}
    assert tasks["T-1"]["commits"] == 2 and tasks["T-1"]["in_progress_h"] == 10.0  # (#7) is a pull request
    assert tasks["cu:ab12"]["commits"] == 1
    conn = sqlite3.connect(db)
    truth = conn.execute("SELECT ROUND(SUM(ai_hours), 1) FROM commits WHERE message LIKE 'export:%'").fetchone()[0]
    conn.close()
    assert tasks["T-1"]["commit_hours"] == truth
    ann = next(g for g in data["rows"] if g["group"] == "person" and g["name"] == "ann")
    assert ann["tasks"] == 1 and ann["hours_ratio"] == round(truth / 10.0, 2)
    assert any(g["group"] == "team" and g["name"] == "web" for g in data["rows"])


def test_the_heuristic_takes_the_teams_own_hours_per_point_once_there_is_a_history(cli, make_repo, tmp_path):
    db = str(tmp_path / "t.db")
    repo = make_repo()
    repo.commit("small", {"a.py": "1\n" * 3})
    repo.commit("bigger", {"b.py": "2\n" * 120})
    cli("--db", db, "sync-commits", "--repo", str(repo.path))
    cli("--db", db, "people", "add", "ann")
    assert "h a point" not in cli("--db", db, "analyze").stderr  # no history yet: hours from size
    for i in range(10):  # ten tasks of 2 points, each 8 hours in progress: 4 h a point
        cli(
            "--db",
            db,
            "task",
            "add",
            f"Task {i}",
            "-R",
            "ann",
            "-A",
            "ann",
            "--points",
            "2",
            "--status",
            "in_progress",
            "--no-send",
            env={"TEAMOPS_NOW": f"2026-10-{i + 1:02d}T09:00:00Z"},
        )
        cli(
            "--db",
            db,
            "task",
            "update",
            str(i + 1),
            "--status",
            "done",
            env={"TEAMOPS_NOW": f"2026-10-{i + 1:02d}T17:00:00Z"},
        )
    res = cli("--db", db, "analyze")
    assert "analyze (heuristic, 4 h a point): 2 estimated" in res.stderr, res.output
    conn = sqlite3.connect(db)
    rows = conn.execute("SELECT points, hours FROM estimates WHERE prompt_version = 'h1-cal4'").fetchall()
    conn.close()
    assert len(rows) == 2 and all(hours == points * 4 for points, hours in rows)
    data = json.loads(
        cli("--db", db, "kpi", "estimates", "--since", "2026-10-01", "--until", "2026-11-01", "-f", "json").stdout
    )
    assert data["hours_per_point"] == 4.0 and data["calibrated_on"] == 10


def test_without_the_suggest_extra_one_line_says_how_to_install_it(cli, tmp_path, monkeypatch):
    """scikit-learn is an extra: without it `task suggest` says so (exit 3) and `task add` simply gives no hint."""
    import sys

    db = str(tmp_path / "t.db")
    assert cli("--db", db, "task", "import", sheet(tmp_path / "h.csv", history(40))).exit_code == 0
    monkeypatch.setitem(sys.modules, "sklearn", None)  # as if never installed: `import sklearn` fails
    res = cli("--db", db, "task", "suggest")
    assert res.exit_code == 3
    assert "scikit-learn, which is not installed" in res.stderr and "pip install 'teamops[suggest]'" in res.stderr
    assert "Traceback" not in res.output
    cli("--db", db, "people", "add", "ann")
    added = cli("--db", db, "task", "add", "Fix typo in the footer", "-R", "ann", "-A", "ann", "--no-send")
    assert added.exit_code == 0 and "hint:" not in added.stderr


def test_a_method_that_hurts_in_one_fold_is_not_kept(cli, tmp_path):
    """Text that predicted points in most of the history but the opposite for a stretch of it: one held-out
    quarter would keep the neighbours; over time-ordered folds they lose to the median once, so the median it is."""
    rows = []
    for i in range(160):
        typo = i % 2 == 0
        flipped = 80 <= i < 100  # the first fold of the newer half says the opposite
        points = ("8" if typo else "1") if flipped else ("1" if typo else "8")
        title = f"Fix typo in help text {i}" if typo else f"Database schema migration for table {i}"
        rows.append((f"H-{i}", title, "", points, "done"))
    rows.append(("N-1", "Fix typo in the README", "", "", "todo"))
    db = str(tmp_path / "t.db")
    assert cli("--db", db, "task", "import", sheet(tmp_path / "h.csv", rows)).exit_code == 0
    data = json.loads(cli("--db", db, "task", "suggest", "--format", "json").stdout)
    assert data["method"] == "median" and data["suggestions"][0]["points"] in (1.0, 4.5, 8.0)
    assert data["held_out_mae"] == data["median_mae"]
