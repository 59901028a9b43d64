"""`teamops task import`: Jira's export and plain sheets, checked row by row, stored once, hostile files refused."""

from __future__ import annotations

import csv
import io
import json
import sqlite3

import pytest

JIRA_HEADERS = [
    "Summary",
    "Issue key",
    "Issue id",
    "Issue Type",
    "Status",
    "Created",
    "Resolved",
    "Assignee",
    "Description",
    "Custom field (Story Points)",
    "Sprint",
    "Sprint",
]


def write_csv(path, rows, encoding="utf-8"):
    buf = io.StringIO(newline="")
    csv.writer(buf).writerows(rows)
    path.write_bytes(buf.getvalue().encode(encoding))
    return str(path)


def tasks(db):
    conn = sqlite3.connect(db)
    try:
        return conn.execute(
            "SELECT key, title, status, points, source, external_id, done_at, description FROM tasks ORDER BY key"
        ).fetchall()
    finally:
        conn.close()


def test_a_jira_export_is_imported_once_and_updated_by_key(cli, tmp_path):
    db = str(tmp_path / "t.db")
    cli("--db", db, "people", "add", "alice", "--email", "alice@acme.io")
    rows = [
        JIRA_HEADERS,
        [
            "Export invoices",
            "SHOP-1",
            "10001",
            "Story",
            "Done",
            "01/Oct/26 9:30 AM",
            "03/Oct/26 4:00 PM",
            "alice@acme.io",
            "As a clerk I want CSV",
            "3",
            "Sprint 1",
            "Sprint 2",
        ],
        [
            "Fix login",
            "SHOP-2",
            "10002",
            "Bug",
            "In Progress",
            "2026-10-02 10:00",
            "",
            "Bob Builder",
            "It fails",
            "",
            "",
            "",
        ],
        [
            '=HYPERLINK("http://evil","x")',
            "SHOP-3",
            "10003",
            "Task",
            "Code Review",
            "2026-10-02 11:00",
            "",
            "",
            "+1 cmd",
            "1",
            "",
            "",
        ],
    ]
    path = write_csv(tmp_path / "jira.csv", rows)
    res = cli("--db", db, "task", "import", path)
    assert res.exit_code == 5 and "row 4: status 'Code Review' is none of" in res.stderr
    assert not tasks(db)  # nothing stored from a file with a bad row
    res = cli("--db", db, "task", "import", path, "--status", "Code Review=review")
    assert res.exit_code == 0, res.output
    assert "imported 3 tasks from jira.csv as jira-csv: 3 new" in res.stdout
    assert "1 assignee not matched to anyone" in res.stdout
    stored = tasks(db)
    assert stored[0] == (
        "jira-csv:SHOP-1",
        "Export invoices",
        "done",
        3.0,
        "jira-csv",
        "SHOP-1",
        "2026-10-03T16:00:00Z",
        "As a clerk I want CSV",
    )
    assert stored[1][2] == "in_progress" and stored[1][3] is None
    assert stored[2][1] == '=HYPERLINK("http://evil","x")' and stored[2][7] == "+1 cmd"  # text, as given
    listed = cli("--db", db, "task", "list", "--format", "json")
    assert json.loads(listed.stdout)["rows"][0]["responsible"] == "alice"
    again = cli("--db", db, "task", "import", path, "--status", "Code Review=review")
    assert "0 new, 0 changed, 3 unchanged" in again.stdout and tasks(db) == stored
    rows[2][4] = "Done"
    rows[2][6] = "2026-10-05 12:00"
    write_csv(tmp_path / "jira.csv", rows)
    res = cli("--db", db, "task", "import", path, "--status", "Code Review=review")
    assert "0 new, 1 changed, 2 unchanged" in res.stdout
    assert tasks(db)[1][2:7:4] == ("done", "2026-10-05T12:00:00Z")
    history = cli("--db", db, "task", "show", "jira-csv:SHOP-2", "--format", "json")
    assert "in_progress" in history.stdout and "done" in history.stdout


def test_a_plain_sheet_with_other_headers_and_bad_rows(cli, tmp_path):
    db = str(tmp_path / "t.db")
    path = write_csv(
        tmp_path / "sheet.csv",
        [
            ["Ticket", "Name", "Estimate", "State"],
            ["A-1", "Write docs", "2", "todo"],
            ["A-2", "", "1", "todo"],
            ["A-3", "Ship", "lots", "todo"],
            ["A-1", "Again", "1", "todo"],
            ["A-4", "Tidy", "1", "done"],
        ],
    )
    args = ["--map", "Ticket=key", "--map", "Name=title", "--map", "Estimate=points", "--map", "State=status"]
    res = cli("--db", db, "task", "import", path, *args)
    assert res.exit_code == 5
    assert res.stderr.splitlines()[:3] == [
        "row 3: no title",
        "row 4: points 'lots' is not a number",
        "row 5: key 'A-1' again (first at row 2)",
    ]
    res = cli("--db", db, "task", "import", path, *args, "--skip-bad", "--source", "sheet")
    assert res.exit_code == 0 and [t[0] for t in tasks(db)] == ["sheet:A-1", "sheet:A-4"]
    res = cli("--db", db, "task", "import", path, "--map", "Nope")
    assert res.exit_code == 2 and "write HEADER=FIELD" in res.stderr


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        ("title,points\nCafé,1\n".encode("latin-1"), "is not UTF-8 (byte 16 cannot be read)"),
        (b"", "the file is empty"),
        (b"a,b\n1,2\n", "no title column among the headers (a, b)"),
        (b'title,points\n"' + b"x" * 1_100_000 + b'",1\n', "a cell may hold 1,000,000 characters"),
    ],
)
def test_hostile_files_are_one_line_and_exit_5(cli, tmp_path, content, needle):
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    res = cli("--db", str(tmp_path / "t.db"), "task", "import", str(path))
    assert res.exit_code == 5 and needle in res.stderr, res.output
    assert ("Traceback" not in res.output and not (tmp_path / "t.db").exists()) or not tasks(str(tmp_path / "t.db"))


def test_other_encodings_when_named(cli, tmp_path):
    path = tmp_path / "latin.csv"
    path.write_bytes("key,title,points\n1,Café crème,2\n".encode("cp1252"))
    db = str(tmp_path / "t.db")
    assert cli("--db", db, "task", "import", str(path), "--encoding", "cp1252").exit_code == 0
    assert tasks(db)[0][1] == "Café crème"
    path.write_bytes("key,title\n2,Ünïcode\n".encode("utf-16"))
    assert cli("--db", db, "task", "import", str(path)).exit_code == 0  # a UTF-16 file carries its mark


def test_many_rows_in_one_go(cli, tmp_path):
    lines = ["key,title,description,points,status,created"]
    lines += [f"K-{i},Task number {i},Some words about task {i},{i % 8},done,2026-01-01" for i in range(5_000)]
    (tmp_path / "big.csv").write_text("\n".join(lines) + "\n")
    res = cli("--db", str(tmp_path / "t.db"), "task", "import", str(tmp_path / "big.csv"))
    assert res.exit_code == 0 and "5,000 new" in res.stdout  # 100,000 rows: benchmarks/task_import.py
    assert len(tasks(str(tmp_path / "t.db"))) == 5_000


def test_a_formula_from_a_file_is_text_again_in_csv_output(cli, tmp_path):
    db = str(tmp_path / "t.db")
    path = tmp_path / "f.csv"
    path.write_text('key,title,points\nF-1,"=HYPERLINK(""http://evil"",""x"")",-1\nF-2,"-fix the build",2\n')
    res = cli("--db", db, "task", "import", str(path))
    assert res.exit_code == 5 and "points -1 is outside 0 to 10,000" in res.stderr
    path.write_text('key,title,points\nF-1,"=HYPERLINK(""http://evil"",""x"")",1\nF-2,"-fix the build",2\n')
    cli("--db", db, "task", "import", str(path))
    out = cli("--db", db, "task", "list", "--format", "csv").stdout
    assert "'=HYPERLINK" in out and "'-fix the build" in out
    assert json.loads(cli("--db", db, "task", "list", "--format", "json").stdout)["rows"][0]["title"].startswith("=HYP")


def test_rows_without_a_status_can_be_said_to_be_finished(cli, tmp_path):
    db = str(tmp_path / "t.db")
    path = tmp_path / "history.csv"
    path.write_text("issuekey,title,storypoint\nM-1,Add metrics,2\nM-2,Fix shutdown,3\n")
    args = ["--map", "issuekey=key", "--map", "storypoint=points"]
    cli("--db", db, "task", "import", str(path), *args)
    res = cli("--db", db, "task", "suggest")
    assert "2 tasks have points but none is finished (done)" in res.stdout and "--status '=done'" in res.stdout
    res = cli("--db", db, "task", "import", str(path), *args, "--status", "=done")
    assert "2 changed" in res.stdout and {t[2] for t in tasks(db)} == {"done"}
