"""A history shaped like a GitHub project (tests/support/synth.py): every pull request it names is inferred with
the commits git says its merge brought, the graph is read once per sync, and commits only release tags reach are
stored, so release notes hold what `git log` holds."""

from __future__ import annotations

import sqlite3
import subprocess

import pytest

from teamops.delivery.commit_graph import CommitGraph
from tests.support.synth import GitHubShaped


def git(repo, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True).stdout


def rows(db, query, *args):
    conn = sqlite3.connect(db)
    try:
        return conn.execute(query, args).fetchall()
    finally:
        conn.close()


@pytest.fixture(scope="module")
def shaped(tmp_path_factory):
    history = GitHubShaped(700)
    return history, history.build(tmp_path_factory.mktemp("shaped") / "api")


def test_every_pull_request_inferred_with_what_git_says_it_brought_from_one_graph_read(shaped, cli, tmp_path):
    history, repo = shaped
    db = str(tmp_path / "t.db")
    loads = CommitGraph.loads
    assert cli("--db", db, "sync-commits", "--repo", str(repo)).exit_code == 0
    assert CommitGraph.loads - loads == 1  # hundreds of merges, one read of the graph
    assert {n for (n,) in rows(db, "SELECT number FROM pull_requests")} == set(history.pulls)
    kinds = {kind for kind in history.pulls.values()}
    assert kinds == {"merge", "squash", "edited", "ref"}
    for number, sha in rows(db, "SELECT number, merge_commit_sha FROM pull_requests ORDER BY number"):
        got = {s for (s,) in rows(db, "SELECT sha FROM pr_commits WHERE number = ?", number)}
        if history.pulls[number] == "squash":
            assert got == {sha}
        else:
            assert got == set(git(repo, "rev-list", f"{sha}^1..{sha}^2").split()), number
    assert cli("--db", db, "sync-commits", "--repo", str(repo)).exit_code == 0
    assert CommitGraph.loads - loads == 1  # nothing new: not read again


def test_commits_only_release_tags_reach_are_stored_and_in_release_notes(shaped, cli, tmp_path):
    _, repo = shaped
    db = str(tmp_path / "t.db")
    assert cli("--db", db, "sync-commits", "--repo", str(repo)).exit_code == 0
    shipped = set(git(repo, "rev-list", "main", "--tags").split())
    assert {s for (s,) in rows(db, "SELECT sha FROM commits")} == shipped
    assert len(shipped) > len(git(repo, "rev-list", "main").split())  # the maintenance lines are there
    line = "v1.3.0..v1.3.1"
    notes = cli("--db", db, "gen-doc", "release", line)
    expected = len(git(repo, "log", "--no-merges", "--format=%H", line).split())
    assert expected == 2 and f"{expected} commits" in notes.stderr
    # a later maintenance tag is picked up by the next sync
    git(repo, "checkout", "-q", "-b", "1.2.x", "v1.2.0")
    git(
        repo,
        "-c",
        "user.name=Rel",
        "-c",
        "user.email=rel@acme.io",
        "commit",
        "-q",
        "--allow-empty",
        "-m",
        "Release 1.2.1",
    )
    git(repo, "tag", "v1.2.1")
    git(repo, "checkout", "-q", "main")
    res = cli("--db", db, "-v", "sync-commits", "--repo", str(repo))
    assert "release tags: 1 new commit that no synced branch reaches" in res.stderr
    assert rows(db, "SELECT COUNT(*) FROM commits WHERE message = 'Release 1.2.1'") == [(1,)]
    assert "2 inferred" not in res.stderr  # the pull requests are not inferred twice


@pytest.mark.parametrize(
    ("subject", "body", "merge", "number"),
    [
        ("Propagate config from Client(#377)", "", False, 377),
        ("Drop the enum (#251)", "* Drop the enum", True, 251),  # a merge whose title was edited
        ("Merge remote-tracking branch 'origin/pull/12'", "", True, 12),
        ("Release the new parser", "Closes #88", True, 88),  # its own subject, one #N in the body
        ("Release the new parser", "See #88 and #90", True, None),  # two: which one is unknown
        ("Merge branch 'main' into topic", "Conflicts fixed for #88", True, None),  # a plain merge names none
        ("Fix #12 in the parser", "", False, None),  # a mention is no squash subject
    ],
)
def test_which_pull_request_a_message_names(subject, body, merge, number):
    from teamops.sources.git.pulls import inferred_number

    named = inferred_number(subject, body, merge)
    assert (named[0] if named else None) == number
