"""gen-doc: the offline document's outline, a model's document, and publishing to a fake ClickUp Docs."""

from __future__ import annotations

import json
import shutil
import sqlite3

import pytest

from tests.conftest import lines
from tests.fakes.clickup import TOKEN, FakeClickUp
from tests.fakes.openai import FakeOpenAI

NOW = {"TEAMOPS_NOW": "2026-11-25T10:00:00Z"}


@pytest.fixture
def week(cli, isolated, make_repo):
    repo = make_repo()
    repo.commit(
        "Add invoice export",
        {"billing/export.py": lines(120)},
        author=("Ann", "ann@acme.io"),
        date="2026-11-17T10:00:00+00:00",
    )
    repo.commit(
        "Document the export",
        {"docs/export.md": lines(20)},
        author=("Ben", "ben@acme.io"),
        date="2026-11-18T10:00:00+00:00",
    )
    repo.commit("Outside the week", {"x.py": lines(5)}, author=("Ben", "ben@acme.io"), date="2026-11-24T10:00:00+00:00")
    cli("sync-commits", "--repo", str(repo.path))
    cli("analyze")
    cli("people", "add", "ann", "--email", "ann@acme.io")
    cli("people", "add", "ben", "--email", "ben@acme.io")
    cli(
        "task",
        "add",
        "Export invoices",
        "-R",
        "ann",
        "-A",
        "ben",
        "--points",
        "3",
        "--no-send",
        env={"TEAMOPS_NOW": "2026-11-16T09:00:00Z"},
    )
    cli("task", "done", "1", env={"TEAMOPS_NOW": "2026-11-19T09:00:00Z"})
    cli("task", "add", "Fix SSO", "-R", "ben", "-A", "ann", "--no-send", env={"TEAMOPS_NOW": "2026-11-16T09:00:00Z"})
    cli("task", "block", "2", "--reason", "vendor keys", "--no-send", env={"TEAMOPS_NOW": "2026-11-20T09:00:00Z"})
    return repo


def test_weekly_heuristic_document_has_the_outline(cli, week, isolated):
    res = cli("gen-doc", "weekly", env=NOW)
    assert res.exit_code == 0, res.output
    doc = res.stdout
    assert doc.startswith("# Week 2026-W47 (2026-11-16 to 2026-11-22)\n\n_2026-11-16 to 2026-11-22_")
    headings = [line for line in doc.splitlines() if line.startswith("## ")]
    assert headings == ["## Highlights", "## Work by area", "## People", "## Tasks", "## Numbers"]
    assert "| repo | billing | 1 | 3 | ann |" in doc and "| repo | docs | 1 | 1 | ben |" in doc
    assert "Outside the week" not in doc
    assert "- #1 Export invoices (3 points)" in doc and "- #2 Fix SSO: vendor keys (since 2026-11-20)" in doc
    assert "- 2 commits, +140 / -0 lines, 4 AI points" in doc
    assert "gen-doc weekly (heuristic): 2 commits, 1 task done" in res.stderr
    again = cli("gen-doc", "weekly", env=NOW).stdout
    assert again == doc  # deterministic
    conn = sqlite3.connect(isolated / "teamops.db")
    assert conn.execute("SELECT COUNT(*), MIN(model) FROM docs").fetchone() == (2, "heuristic")
    conn.close()


def test_a_past_week_shows_tasks_as_they_were_at_its_end(cli, week):
    # After the week: the blocked task is unblocked and finished, the done one reopened and renamed.
    later = {"TEAMOPS_NOW": "2026-11-24T09:00:00Z"}
    cli("task", "unblock", "2", env=later)
    cli("task", "done", "2", env=later)
    cli("task", "update", "1", "--status", "in_progress", "--title", "Export invoices v2", env=later)
    doc = cli("gen-doc", "weekly", env=NOW).stdout
    assert "**Done (1)**\n\n- #1 Export invoices (3 points)" in doc
    assert "**Blocked (1)**\n\n- #2 Fix SSO: vendor keys (since 2026-11-20)" in doc
    assert "v2" not in doc
    this_week = cli("gen-doc", "weekly", "--since", "2026-11-23", "--until", "2026-11-29", env=NOW).stdout
    assert "**Done (1)**\n\n- #2 Fix SSO" in this_week and "**In progress (1)**\n\n- #1 Export invoices v2" in this_week


def test_release_between_tags_and_out_file(cli, week, isolated):
    week.git("tag", "v1.0", "HEAD~2")
    week.git("tag", "v1.1", "HEAD~1")
    res = cli(
        "gen-doc", "release", "--since", "v1.0", "--until", "v1.1", "--repo", "repo", "--out", "notes.md", env=NOW
    )
    assert res.exit_code == 0, res.output
    text = (isolated / "notes.md").read_text()
    assert text.startswith("# Release notes v1.0..v1.1") and "Document the export" in text
    assert cli("gen-doc", "release").exit_code == 2
    assert cli("gen-doc", "release", "--since", "no-such-tag").exit_code == 2
    assert cli("gen-doc", "monthly").exit_code == 2


def released_shas(doc: dict) -> set[str]:
    return {c["sha"] for c in json.loads(doc["material"])["commits"]}


def git_log(repo, span: str) -> set[str]:
    return {sha[:10] for sha in repo.git("log", "--no-merges", "--format=%H", span).split()}


@pytest.fixture
def two_lines(cli, make_repo):
    """Releases on main and on a maintenance line, a merge of the line back into main, and work on no tag."""
    repo = make_repo()
    repo.commit("first", {"a.py": "1\n"}, date="2026-11-02T10:00:00+00:00")
    repo.git("tag", "1.0.0")
    repo.git("checkout", "-q", "-b", "stable")
    repo.commit("fix on stable", {"b.py": "1\n"}, date="2026-11-03T10:00:00+00:00")
    repo.git("tag", "1.0.1")
    repo.git("checkout", "-q", "main")
    repo.commit("feature", {"c.py": "1\n"}, date="2026-11-02T12:00:00+00:00")  # older than the fix
    repo.merge("stable", date="2026-11-04T10:00:00+00:00")
    repo.commit("second feature", {"d.py": "1\n"}, date="2026-11-05T10:00:00+00:00")
    repo.git("tag", "1.1.0")
    repo.git("checkout", "-q", "-b", "later")
    repo.commit("on no tag yet", {"e.py": "1\n"}, date="2026-11-04T12:00:00+00:00")  # inside the dates, not the tags
    repo.git("checkout", "-q", "main")
    repo.commit("after the release", {"f.py": "1\n"}, date="2026-11-06T10:00:00+00:00")
    res = cli("sync-commits", "--repo", str(repo.path), "--branch", "main", "--branch", "stable", "--branch", "later")
    assert res.exit_code == 0, res.output
    assert cli("analyze").exit_code == 0
    return repo


@pytest.mark.parametrize(
    ("args", "span"),
    [
        (["1.0.1..1.1.0"], "1.0.1..1.1.0"),
        (["--since", "1.0.0", "--until", "1.1.0"], "1.0.0..1.1.0"),
        (["1.1.0"], "1.0.1..1.1.0"),  # the release tag before it, by date, in its history
        (["1.0.1"], "1.0.0..1.0.1"),
        (["1.0.0"], "1.0.0"),  # no tag before it: its whole history
        (["1.1.0..main"], "1.1.0..main"),
    ],
)
def test_release_notes_hold_exactly_what_git_log_lists(cli, two_lines, args, span):
    res = cli("gen-doc", "release", *args, "--dry-run", "--model", "openai/x", "-f", "json", env=NOW)
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert released_shas(doc) == git_log(two_lines, span) != set()
    notes = cli("gen-doc", "release", *args, env=NOW).stdout
    subjects = {line for line in two_lines.git("log", "--no-merges", "--format=%s", span).splitlines()}
    highlights = notes.split("## Highlights")[1].split("## Work by area")[0]
    assert {line[2:].split(" (")[0] for line in highlights.strip().splitlines()} <= subjects
    assert "on no tag yet" not in notes
    assert f"git log --no-merges {span}`" + (" (its whole history)" if ".." not in span else "") in notes


def test_release_notes_from_the_stored_graph_when_the_clone_is_gone(cli, two_lines):
    expected = git_log(two_lines, "1.0.1..1.1.0")
    shutil.rmtree(two_lines.path)
    res = cli("gen-doc", "release", "1.1.0", "--dry-run", "--model", "openai/x", "-f", "json", env=NOW)
    assert res.exit_code == 0, res.output
    assert released_shas(json.loads(res.stdout)) == expected


def test_bad_releases_are_one_line_and_exit_2(cli, two_lines):
    for args in (["nope"], ["1.0.0..nope"], ["..1.0.0"], ["1.0.0..1.1.0", "--since", "1.0.0"]):
        res = cli("gen-doc", "release", *args, env=NOW)
        assert res.exit_code == 2 and res.stderr.count("\n") == 1 and "Traceback" not in res.output, (args, res.output)
    assert cli("gen-doc", "weekly", "1.0.0..1.1.0", env=NOW).exit_code == 2


def test_dry_run_stores_and_sends_nothing(cli, week, isolated):
    with FakeOpenAI() as fake:
        res = cli("gen-doc", "weekly", "--model", "openai/gpt-4o-mini", "--dry-run", env=NOW)
        assert res.exit_code == 0 and "nothing was sent" in res.stderr and fake.requests == []
    assert json.loads(res.stdout)["commits"][0]["subject"] == "Add invoice export"
    conn = sqlite3.connect(isolated / "teamops.db")
    assert conn.execute("SELECT COUNT(*) FROM docs").fetchone() == (0,)
    conn.close()


def test_model_writes_the_document_through_litellm(cli, week, isolated):
    with FakeOpenAI() as fake:
        fake.default = "## Highlights\n- Invoice export shipped\n## Work by area\n...\n## People\n...\n## Tasks\n...\n## Numbers\n..."
        res = cli(
            "gen-doc",
            "weekly",
            "--model",
            "openai/gpt-4o-mini",
            env={**NOW, "OPENAI_API_KEY": fake.key, "TEAMOPS_AI_API_BASE": fake.url},
        )
        assert res.exit_code == 0, res.output
        sent = fake.requests[0]["body"]["messages"]
    assert "## Highlights" in sent[0]["content"] and "<material>" in sent[1]["content"]
    assert res.stdout.startswith("# Week 2026-W47") and "Invoice export shipped" in res.stdout
    assert "tokens in" in res.stderr


def test_publish_twice_updates_one_page_and_recreates_deleted(cli, week, isolated, monkeypatch):
    with FakeClickUp() as fake:
        monkeypatch.setenv("CLICKUP_TOKEN", TOKEN)
        (isolated / "teamops.toml").write_text(
            f'[clickup]\napi_url = "{fake.url}"\nteam_id = "9012345"\ndocs_parent = {{ id = "90120000", type = "4" }}\n'
            '[notify.channels.team]\nkind = "webhook"\nurl = "http://127.0.0.1:9/hook"\n'
            '[notify.routes]\ndoc_published = ["team"]\n',
            encoding="utf-8",
        )
        first = cli("gen-doc", "weekly", "--publish", "--no-send", env=NOW)
        assert first.exit_code == 0, first.output
        assert "published: created page 'Week 2026-W47 (2026-11-16 to 2026-11-22)'" in first.stderr
        assert list(fake.docs) == ["doc1"] and fake.docs["doc1"]["parent"] == {"id": "90120000", "type": 4}
        second = cli("gen-doc", "weekly", "--publish", "--no-send", env=NOW)
        assert "published: updated page" in second.stderr
        assert len(fake.pages["doc1"]) == 1
        put = next(b for m, _, b in fake.bodies if m == "PUT")
        assert put["content_edit_mode"] == "replace" and put["content_format"] == "text/md"
        fake.pages["doc1"].clear()  # the page was deleted in ClickUp
        third = cli("gen-doc", "weekly", "--publish", "--no-send", env=NOW)
        assert "published: created page" in third.stderr and len(fake.pages["doc1"]) == 1
        fake.docs["doc1"]["deleted"] = True  # and now the whole doc
        fourth = cli("gen-doc", "weekly", "--publish", "--no-send", env=NOW)
        assert "published: created page" in fourth.stderr and "doc2" in fake.docs
        conn = sqlite3.connect(isolated / "teamops.db")
        rows = conn.execute("SELECT kind, idempotency_key FROM outbox").fetchall()
        assert len(rows) == 4 and all(k == "doc_published" for k, _ in rows)
        assert (
            conn.execute("SELECT url FROM docs ORDER BY id DESC LIMIT 1")
            .fetchone()[0]
            .startswith("https://app.clickup.com/9012345/v/dc/doc2/")
        )
        conn.close()
        monkeypatch.setenv("CLICKUP_TOKEN", "pk_bad")
        bad = cli("gen-doc", "weekly", "--publish", env=NOW)
        assert bad.exit_code == 4 and "rejected the token" in bad.stderr


def test_publish_settings_are_checked_before_anything_is_written_or_paid_for(cli, week, isolated):
    with FakeOpenAI() as fake:
        env = {**NOW, "OPENAI_API_KEY": fake.key}
        res = cli("gen-doc", "weekly", "--model", "openai/gpt-4o-mini", "--publish", env=env)
        assert res.exit_code == 3 and "--publish needs [clickup] docs_workspace_id" in res.stderr, res.output
        (isolated / "teamops.toml").write_text('[clickup]\nteam_id = "9012345"\n')
        res = cli("gen-doc", "weekly", "--model", "openai/gpt-4o-mini", "--publish", env=env)
        assert res.exit_code == 3 and "$CLICKUP_TOKEN is not set" in res.stderr, res.output
        assert fake.requests == []
    conn = sqlite3.connect(isolated / "teamops.db")
    assert conn.execute("SELECT COUNT(*) FROM docs").fetchone() == (0,)
    conn.close()


def test_a_quiet_week_falls_back_to_the_week_of_the_latest_activity(cli, make_repo):
    """As `teamops kpi` does: no commit and no task last week means the latest week that had some, said on stderr."""
    repo = make_repo()
    repo.commit("Add export", {"export.py": "x\n"}, author=("Ann", "ann@acme.io"), date="2026-03-04T10:00:00+00:00")
    assert cli("sync-commits", "--repo", str(repo.path)).exit_code == 0
    res = cli("gen-doc", "weekly", "--dry-run", env={"TEAMOPS_NOW": "2026-12-01T10:00:00Z"})
    assert res.exit_code == 0, res.output
    assert "the week of the latest activity (2026-03-04) instead" in res.stderr
    assert "# Week 2026-W10 (2026-03-02 to 2026-03-08)" in res.stdout and "- 1 commit, +1 / -0 lines" in res.stdout
    asked = cli("gen-doc", "weekly", "--dry-run", "--since", "2026-11-23", env={"TEAMOPS_NOW": "2026-12-01T10:00:00Z"})
    assert "latest activity" not in asked.stderr and "- 0 commits" in asked.stdout  # a week asked for is kept


def test_the_weekly_doc_says_what_broke_and_how_fast_it_recovered(cli, week, isolated):
    cli("incident", "open", "Checkout down", "--at", "2026-11-18T09:00:00Z")
    cli("incident", "resolve", "1", "--at", "2026-11-18T11:30:00Z")
    cli("incident", "open", "Slow search", "--at", "2026-11-20T09:00:00Z")
    cli("incident", "open", "Next week's", "--at", "2026-11-24T09:00:00Z")
    doc = cli("gen-doc", "weekly", env=NOW).stdout
    assert "- 2 incidents: Checkout down (recovered in 2.5 h); Slow search (still open)" in doc


def test_the_weekly_doc_says_how_much_an_assistant_co_wrote(cli, week, isolated):
    week.commit(
        "Speed up export\n\nCo-authored-by: Cursor <cursoragent@cursor.com>",
        {"billing/fast.py": lines(10)},
        author=("Ann", "ann@acme.io"),
        date="2026-11-19T10:00:00+00:00",
    )
    cli("sync-commits", "--repo", str(week.path))
    doc = cli("gen-doc", "weekly", env=NOW).stdout
    assert "- 1 of 3 commits co-written by an AI assistant (Cursor 1)" in doc
