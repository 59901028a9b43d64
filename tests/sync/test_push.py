"""Push events from GitHub Actions or a forwarded webhook: signature, shapes, line counts."""

from __future__ import annotations

import contextlib
import json
import sqlite3
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from teamops.errors import InvalidInput
from teamops.sources.github.payloads import check_signature, parse_push, signature_of
from tests.conftest import lines
from tests.fakes.github import FakeGitHub
from tests.support.memory import run_measured
from tests.support.paths import FIXTURES

WEBHOOKS = FIXTURES / "github-webhooks"
SECRET = "It's a Secret to Everybody"


def test_githubs_published_signature_vector():
    assert signature_of(SECRET, b"Hello, World!") == (
        "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
    )
    check_signature(SECRET, b"Hello, World!", signature_of(SECRET, b"Hello, World!"))
    with pytest.raises(InvalidInput, match="does not match"):
        check_signature(SECRET, b"Hello, World?", signature_of(SECRET, b"Hello, World!"))
    with pytest.raises(InvalidInput, match="no signature was given"):
        check_signature(SECRET, b"Hello, World!", None)


def rows(db: Path) -> list[tuple]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(
            "SELECT sha, author_name, author_login, additions, deletions, stats_missing, parents FROM commits ORDER BY authored_at"
        ).fetchall()
    finally:
        conn.close()


def push_payload(repo, shas: list[str], full_name: str = "acme/api", distinct: bool = True) -> dict:
    commits = []
    for sha in shas:
        info = repo.git("show", "-s", "--format=%an%x00%ae%x00%aI%x00%B", sha).split("\x00")
        commits.append(
            {
                "id": sha,
                "tree_id": "0" * 40,
                "distinct": distinct,
                "message": info[3].strip(),
                "timestamp": info[2],
                "url": f"https://github.com/{full_name}/commit/{sha}",
                "author": {"name": info[0], "email": info[1], "username": info[0].lower()},
                "committer": {"name": info[0], "email": info[1]},
            }
        )
    return {
        "ref": "refs/heads/main",
        "before": "0" * 40,
        "after": shas[-1],
        "created": False,
        "deleted": False,
        "forced": False,
        "base_ref": None,
        "compare": "",
        "commits": commits,
        "head_commit": commits[-1],
        "repository": {"full_name": full_name, "name": full_name.split("/")[1]},
        "pusher": {"name": "x"},
        "sender": {"login": "x"},
    }


@pytest.fixture
def pushed(make_repo):
    repo = make_repo("api")
    a = repo.commit("first", {"a.py": lines(5)}, author=("Ann", "ann@acme.io"))
    b = repo.commit("second", {"a.py": lines(7)}, author=("Ann", "ann@acme.io"), date="2026-11-03T10:00:00+01:00")
    return repo, [a, b]


def test_actions_push_with_counts_from_the_checkout(pushed, cli, tmp_path):
    repo, shas = pushed
    event = tmp_path / "event.json"
    event.write_text(json.dumps(push_payload(repo, shas)))
    db = tmp_path / "t.db"
    res = cli(
        "--db",
        str(db),
        "sync-commits",
        "--event",
        str(event),
        env={"GITHUB_EVENT_NAME": "push", "GITHUB_WORKSPACE": str(repo.path)},
    )
    assert res.exit_code == 0, res.output
    assert "ingested push to acme/api (main): 2 commits (2 line counts from the checkout)" in res.stderr
    got = rows(db)
    assert [(r[3], r[4], r[5]) for r in got] == [(5, 0, 0), (2, 0, 0)]
    assert got[0][2] == "ann" and got[1][6] == shas[0]
    # ingesting the same event again changes nothing
    cli("--db", str(db), "sync-commits", "--event", str(event), env={"GITHUB_WORKSPACE": str(repo.path)})
    assert rows(db) == got


def test_counts_from_the_api_when_no_checkout_has_them(pushed, cli, tmp_path):
    repo, shas = pushed
    event = tmp_path / "event.json"
    event.write_text(json.dumps(push_payload(repo, shas)))
    with FakeGitHub({"acme/api": repo.path}) as gh:
        res = cli(
            "--db",
            str(tmp_path / "t.db"),
            "sync-commits",
            "--event",
            str(event),
            env={"GITHUB_TOKEN": gh.token, "TEAMOPS_GITHUB_API_URL": gh.url},
        )
        assert "2 from the API in 1 request" in res.stderr, res.output
    assert [(r[3], r[4], r[5]) for r in rows(tmp_path / "t.db")] == [(5, 0, 0), (2, 0, 0)]


def test_counts_missing_are_completed_by_the_next_sync(pushed, cli, tmp_path):
    repo, shas = pushed
    event = tmp_path / "event.json"
    event.write_text(json.dumps(push_payload(repo, shas)))
    db = tmp_path / "t.db"
    res = cli("--db", str(db), "sync-commits", "--event", str(event))
    assert "2 without line counts until the next sync" in res.stderr
    assert [(r[3], r[5]) for r in rows(db)] == [(None, 1), (None, 1)]
    missing = json.loads(cli("--db", str(db), "kpi", "activity", "-f", "json").stdout)["rows"][0]
    assert missing["counts_missing"] == 2
    with FakeGitHub({"acme/api": repo.path}) as gh:
        res = cli(
            "--db",
            str(db),
            "sync-commits",
            "--repo",
            "acme/api",
            env={"GITHUB_TOKEN": gh.token, "TEAMOPS_GITHUB_API_URL": gh.url},
        )
        assert res.exit_code == 0, res.output
    assert [(r[3], r[5]) for r in rows(db)] == [(5, 0), (2, 0)]


def test_real_payloads_tags_deletions_and_new_branch(cli, tmp_path):
    db = str(tmp_path / "t.db")
    tag = cli("--db", db, "sync-commits", "--event", str(WEBHOOKS / "push" / "payload.json"))
    assert tag.exit_code == 0 and "0 commits" in tag.stderr
    branch = cli("--db", db, "sync-commits", "--event", str(WEBHOOKS / "push" / "with-new-branch.payload.json"))
    assert branch.exit_code == 0 and "1 commit" in branch.stderr
    conn = sqlite3.connect(db)
    sha, login, email = conn.execute("SELECT sha, author_login, author_email FROM commits").fetchone()
    assert sha == "6113728f27ae82c7b1a177c8d03f9e96e0adf246"
    assert login == "Codertocat" and email == "21031067+codertocat@users.noreply.github.com"
    conn.close()
    nouser = cli(
        "--db",
        db,
        "sync-commits",
        "--event",
        str(WEBHOOKS / "push" / "with-no-username-committer.payload.json"),
    )
    assert nouser.exit_code == 0


def test_non_distinct_commits_are_skipped(pushed, cli, tmp_path):
    repo, shas = pushed
    event = tmp_path / "event.json"
    event.write_text(json.dumps(push_payload(repo, shas, distinct=False)))
    res = cli("--db", str(tmp_path / "t.db"), "sync-commits", "--event", str(event))
    assert "0 commits" in res.stderr and "2 not distinct, skipped" in res.stderr


@pytest.mark.parametrize(
    ("path", "event_name", "needle"),
    [
        ("other/ping.json", None, "received a ping event, not a push payload"),
    ],
)
def test_other_events_are_exit_5(cli, tmp_path, path, event_name, needle):
    env = {"GITHUB_EVENT_NAME": event_name} if event_name else None
    res = cli("--db", str(tmp_path / "t.db"), "sync-commits", "--event", str(WEBHOOKS / path), env=env)
    assert res.exit_code == 5 and needle in res.stderr
    assert res.stderr.count("\n") == 1


def test_signature_required_when_secret_set_and_mismatch_stores_nothing(cli, tmp_path):
    body = (WEBHOOKS / "push" / "with-new-branch.payload.json").read_bytes()
    event = tmp_path / "e.json"
    event.write_bytes(body)
    db = tmp_path / "t.db"
    env = {"GITHUB_WEBHOOK_SECRET": SECRET}
    missing = cli("--db", str(db), "sync-commits", "--event", str(event), env=env)
    assert missing.exit_code == 5 and "no signature was given" in missing.stderr
    tampered = cli(
        "--db",
        str(db),
        "sync-commits",
        "--event",
        str(event),
        "--signature",
        signature_of(SECRET, body + b" "),
        env=env,
    )
    assert tampered.exit_code == 5 and "does not match" in tampered.stderr
    assert SECRET not in tampered.output
    assert not db.exists() or rows(db) == []
    good = cli(
        "--db",
        str(db),
        "sync-commits",
        "--event",
        str(event),
        "--signature",
        signature_of(SECRET, body),
        env=env,
    )
    assert good.exit_code == 0 and len(rows(db)) == 1
    unchecked = cli("--db", str(db), "sync-commits", "--event", str(event), "--signature", "sha256=00")
    assert unchecked.exit_code == 3


def test_unreadable_and_malformed_files(cli, tmp_path):
    db = str(tmp_path / "t.db")
    assert cli("--db", db, "sync-commits", "--event", str(tmp_path / "nope.json")).exit_code == 5
    bad = tmp_path / "bad.json"
    bad.write_bytes(b"\xff\xfe not json")
    res = cli("--db", db, "sync-commits", "--event", str(bad))
    assert res.exit_code == 5 and "not valid JSON" in res.stderr


payload_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(
    data=st.fixed_dictionaries(
        {"ref": payload_values, "commits": payload_values, "repository": payload_values},
        optional={"deleted": payload_values, "after": payload_values},
    )
)
def test_no_push_shaped_payload_makes_a_traceback(data):
    with contextlib.suppress(InvalidInput):
        parse_push(json.dumps(data).encode(), None)


@settings(max_examples=200, deadline=None)
@given(body=st.binary(max_size=200))
def test_no_bytes_make_a_traceback(body):
    with contextlib.suppress(InvalidInput):
        parse_push(body, None)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(commit=st.dictionaries(st.sampled_from(["id", "message", "timestamp", "author", "distinct"]), payload_values))
def test_malformed_commits_are_one_line_errors(commit):
    body = json.dumps({"ref": "refs/heads/main", "commits": [commit], "repository": {"full_name": "a/b"}}).encode()
    try:
        parse_push(body, "push")
    except InvalidInput as exc:
        assert "\n" not in str(exc)


def test_an_event_past_its_size_or_commit_cap_is_refused_with_bounded_memory(cli, make_repo, isolated):
    repo = make_repo()
    sha = repo.commit("one", {"a.py": "1\n"})
    payload = push_payload(repo, [sha])
    payload["commits"] = payload["commits"] * 3000  # more than a push lists
    many = isolated / "many.json"
    many.write_text(json.dumps(payload))
    res = cli("sync-commits", "--event", str(many), "--event-name", "push")
    assert res.exit_code == 5 and "3,000 commits, more than the 2,048 a push lists" in res.stderr, res.output
    (isolated / "teamops.toml").write_text("[github]\nevent_max_mb = 1\nevent_max_commits = 5000\n")
    huge = isolated / "huge.json"
    with huge.open("w") as f:  # 60 MB: a single read of it would be 60 MB in memory
        f.write('{"ref": "refs/heads/main", "x": "' + "a" * 60_000_000 + '"}')
    code, peak_mb, err = run_measured([sys.executable, "-m", "teamops", "sync-commits", "--event", str(huge)], isolated)
    assert code == 5 and "larger than 1 MB: refused" in err, err
    assert peak_mb < 120, f"{peak_mb:.0f} MB"
    (isolated / "teamops.toml").write_text("[github]\nevent_max_commits = 5000\n")
    ok = cli("sync-commits", "--event", str(many), "--event-name", "push")
    assert ok.exit_code == 0, ok.output  # within the raised cap
