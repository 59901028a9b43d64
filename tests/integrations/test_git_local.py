"""The `git log --numstat -z` parser: chunk boundaries anywhere give the same commits."""

from __future__ import annotations

import subprocess

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from teamops.integrations.git_local import LOG_FORMAT, GitRepo, parse_log_stream
from teamops.records import parse_co_authors
from tests.conftest import GitBuilder


def raw_log(path) -> bytes:
    return subprocess.run(
        [
            "git",
            "-C",
            str(path),
            "log",
            "--numstat",
            "-z",
            "-M",
            "--date=format:%z",
            f"--format={LOG_FORMAT}",
            "main",
        ],
        capture_output=True,
        check=True,
    ).stdout


def as_tuples(commits):
    return [
        (
            c.sha,
            c.parents,
            c.author_name,
            c.author_email,
            c.authored_at,
            c.author_tz_offset,
            c.message,
            [(f.path, f.additions, f.deletions, f.binary, f.old_path) for f in c.files],
        )
        for c in commits
    ]


def test_unicode_paths_renames_and_binary_are_read_exactly(make_repo):
    repo = make_repo()
    repo.commit("add", {"naïve/résumé.md": "a\nb\n", "data.bin": b"\x00\xff\x00"})
    repo.git("mv", "naïve/résumé.md", "naïve/cv.md")
    repo.commit("move", author=("Ünï Cödé", "u@x.io"), date="2026-01-01T00:00:00-05:30")
    repo.commit("tab\tin message", {"with space.txt": "1\n"})
    clone = GitRepo.open(repo.path)
    commits = list(clone.log(clone.rev_list("main")))
    assert list(clone.log([])) == []  # no shas, no commits (git alone would read an empty list as HEAD)
    by = {c.message: c for c in commits}
    assert [(f.path, f.additions, f.binary) for f in by["add"].files] == [
        ("data.bin", 0, True),
        ("naïve/résumé.md", 2, False),
    ]
    moved = by["move"].files[0]
    assert (moved.old_path, moved.path, moved.additions, moved.deletions) == (
        "naïve/résumé.md",
        "naïve/cv.md",
        0,
        0,
    )
    assert by["move"].author_name == "Ünï Cödé" and by["move"].author_tz_offset == -330
    assert by["move"].authored_at == "2026-01-01T05:30:00Z"
    assert by["tab\tin message"].files[0].path == "with space.txt"


def test_co_author_trailers():
    msg = "Fix it\n\nCo-authored-by: Ann <ANN@x.io>\nco-authored-by:Bo <bo@y.io>\nCo-authored-by: nobody\n"
    assert parse_co_authors(msg) == [("Ann", "ann@x.io"), ("Bo", "bo@y.io")]
    assert parse_co_authors("no trailers here") == []


@pytest.fixture(scope="module")
def chunky_log(tmp_path_factory) -> bytes:
    repo = GitBuilder(tmp_path_factory.mktemp("chunky") / "repo")
    repo.commit("one\n\nCo-authored-by: A <a@b.c>", {"a.txt": "1\n2\n", "pic.png": b"\x89P\x00"})
    repo.git("mv", "a.txt", "b.txt")
    repo.commit("two", {"c.txt": "x\n"})
    repo.git("checkout", "-q", "-b", "side")
    repo.commit("", {"d.txt": "d\n"})
    repo.git("checkout", "-q", "main")
    repo.merge("side")
    return raw_log(repo.path)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cuts=st.lists(st.integers(min_value=0, max_value=10_000), max_size=12))
def test_any_chunking_parses_the_same(chunky_log, cuts):
    data = chunky_log
    whole = as_tuples(parse_log_stream([data]))
    points = sorted({c % (len(data) + 1) for c in cuts})
    pieces = [data[a:b] for a, b in zip([0, *points], [*points, len(data)], strict=True)]
    assert as_tuples(parse_log_stream(pieces)) == whole
    assert len(whole) == 4
    assert [c.message for c in parse_log_stream([data])][-1] == "one\n\nCo-authored-by: A <a@b.c>"
