"""Text tables: every row shown, columns aligned, nothing read as markup, squeezed to a terminal."""

from __future__ import annotations

from teamops.cli.table import cells, render


def test_columns_align_and_numbers_sit_right():
    text = render(["Person", "Commits"], [False, True], [["alice", "3"], ["bob", "1,204"]], title="Commit activity")
    lines = text.splitlines()
    assert lines == [
        "Commit activity",
        "Person ┃ Commits",
        "━━━━━━━╇━━━━━━━━",
        "alice  │       3",
        "bob    │   1,204",
    ]


def test_markup_like_text_and_wide_characters_are_shown_as_written():
    rows = [["[bold]Fix[/bold] [urgent]", "1"], ["日本語のタスク", "22"]]
    lines = render(["Title", "Points"], [False, True], rows).splitlines()
    assert lines[2].startswith("[bold]Fix[/bold] [urgent] │")
    # The wide title takes two cells per character: the separators stay in one column.
    assert {cells(line.split("│")[0]) for line in lines[2:]} == {cells(lines[2].split("│")[0])}


def test_a_narrow_terminal_shortens_the_widest_text_column_only():
    rows = [["#1", "A task title that is far too long for a narrow terminal", "12.5"]]
    lines = render(["Task", "Title", "Hours"], [False, False, True], rows, max_width=40).splitlines()
    assert all(cells(line) <= 40 for line in lines)
    assert lines[2].startswith("#1   │ A task title") and "…" in lines[2] and lines[2].endswith("12.5")


def test_thousands_of_rows_are_all_printed():
    rows = [[f"#{i}", f"Task {i}", str(i % 7)] for i in range(5000)]
    lines = render(["Task", "Title", "Hours"], [False, False, True], rows, title="Tasks").splitlines()
    assert len(lines) == 3 + 5000
    assert lines[-1] == "#4999 │ Task 4999 │     1"


def test_a_task_title_with_brackets_is_listed_whole(cli, tmp_path):
    db = ["--db", str(tmp_path / "t.db")]
    assert cli(*db, "people", "add", "ana").exit_code == 0
    add = cli(*db, "task", "add", "Fix [urgent] login [bold]bug", "-R", "ana", "-A", "ana", "--no-send")
    assert add.exit_code == 0, add.output
    assert "Fix [urgent] login [bold]bug" in cli(*db, "task", "list").stdout


def test_bold_header_in_a_terminal_carries_no_trailing_blanks():
    text = render(["Metric", "Value"], [False, False], [["velocity", "a long value"]], bold=True)
    assert text.splitlines()[0] == "\x1b[1mMetric   ┃ Value\x1b[0m"


def test_piped_output_fits_the_columns_asked_for_and_never_cuts_an_email(cli, make_repo):
    """COLUMNS=80 with stdout piped: every line fits, text wraps, columns drop, no email is cut."""
    from rich.cells import cell_len

    repo = make_repo()
    authors = [
        ("Maximilian Alexander Featherstonehaugh", "maximilian.featherstonehaugh@example-company.io"),
        ("dependabot[bot]", "49699333+dependabot[bot]@users.noreply.github.com"),
        ("Zoë", "zoe@acme.io"),
    ]
    for i, author in enumerate(authors * 2):
        repo.commit(
            f"change {i}", {f"f{i}.py": "x\n" * (i + 1)}, author=author, date=f"2026-11-{i + 2:02d}T10:00:00+00:00"
        )
    repo.git("tag", "v1.0.0")
    cli("sync-commits", "--repo", str(repo.path))
    env = {"COLUMNS": "80", "TEAMOPS_NOW": "2026-11-20T10:00:00Z"}
    for args in (
        ["people", "unmapped", "--include-bots"],
        ["kpi", "activity", "--include-bots"],
        ["kpi", "dora"],
        ["kpi"],
    ):
        out = cli(*args, env=env).stdout
        assert out.strip(), args
        wide = [line for line in out.splitlines() if cell_len(line) > 80]
        assert not wide, (args, wide)
        assert "…" not in out, (args, out)
        if args[0] == "people" or args[1:2] == ["activity"]:
            for _, email in authors:
                local, domain = email.split("@")
                assert email in out or (local in out and f"@{domain}" in out), (args, email, out)
    summary = cli("kpi", env=env).stdout
    words = " ".join(line.split("│", 1)[1].strip() for line in summary.splitlines() if "│" in line)
    assert "change fail rate" in words and "(bands of the Accelerate State of DevOps Report 2023)" in words
    # Piped without COLUMNS, nothing is fitted: scripts read whole lines.
    whole = cli("kpi", "activity", env={"TEAMOPS_NOW": "2026-11-20T10:00:00Z"}).stdout
    assert "<maximilian.featherstonehaugh@example-company.io>" in whole and "left out to fit" not in whole


def test_people_list_fits_80_columns_with_every_email_whole(cli):
    from rich.cells import cell_len

    emails = ["davidism@gmail.com", "davidism@users.noreply.github.com", "david.lord@a-long-company-name.example"]
    args = ["people", "add", "davidism", "--name", "David Lord", "--github", "davidism", "--team", "web"]
    assert cli(*args, *(x for e in emails for x in ("--email", e)), "--timezone", "America/Los_Angeles").exit_code == 0
    out = cli("people", "list", env={"COLUMNS": "80"}).stdout
    assert all(cell_len(line) <= 80 for line in out.splitlines()), out
    for email in emails:
        local, domain = email.split("@")
        assert email in out or (local in out and f"@{domain}" in out), (email, out)
    assert "web" in out and "…" not in out
