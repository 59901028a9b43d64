"""AI-assisted work from the marks assistants leave: a real history with every built-in mark and the near misses
that only look like one (people named Claude or Devin, dependabot, a cursor in the editor), detection held to
100% precision and recall, `kpi ai` held to `git log --grep`, and the comparison with its sample sizes."""

from __future__ import annotations

import json
import sqlite3
import subprocess
from collections import Counter

import pytest

HUMAN = ("Ann Archer", "ann@acme.example")
# (message, author, the assistants a person reading it would name)
MARKED = [
    (
        "Add parser\n\n🤖 Generated with [Claude Code](https://claude.com/claude-code)\n\n"
        "Co-Authored-By: Claude <noreply@anthropic.com>",
        HUMAN,
        {"Claude Code"},
    ),
    ("Fix lexer\n\nCo-Authored-By: Claude Opus 4.1 <noreply@anthropic.com>", HUMAN, {"Claude Code"}),
    ("Tidy\n\n🤖 Generated with [Claude Code](https://claude.ai/code)", HUMAN, {"Claude Code"}),
    (
        "Update README.md\n\nCo-authored-by: Copilot <175728472+Copilot@users.noreply.github.com>",
        HUMAN,
        {"GitHub Copilot"},
    ),
    ("Initial plan", ("copilot-swe-agent[bot]", "198982749+Copilot@users.noreply.github.com"), {"GitHub Copilot"}),
    ("Speed up search\n\nCo-authored-by: Cursor Agent <cursoragent@cursor.com>", HUMAN, {"Cursor"}),
    ("Refactor\n\nMade-with: Cursor", HUMAN, {"Cursor"}),
    ("Background fix", ("Cursor Agent", "cursoragent@cursor.com"), {"Cursor"}),
    ("feat: export\n\nCo-authored-by: aider (anthropic/claude-3-5-sonnet) <noreply@aider.chat>", HUMAN, {"aider"}),
    ("feat: import", ("Paul Gauthier (aider)", "paul@acme.example"), {"aider"}),
    ("aider: Added tests for the importer", HUMAN, {"aider"}),
    ("Port to 3.13\n\nCo-authored-by: Codex <noreply@openai.com>", HUMAN, {"OpenAI Codex"}),
    (
        "Add retries",
        ("devin-ai-integration[bot]", "158243242+devin-ai-integration[bot]@users.noreply.github.com"),
        {"Devin"},
    ),
    (
        "Bump coverage",
        ("google-labs-jules[bot]", "161369871+google-labs-jules[bot]@users.noreply.github.com"),
        {"Jules"},
    ),
    ("Cache\n\nCo-authored-by: Amp <amp@ampcode.com>\nAmp-Thread-ID: https://ampcode.com/threads/T-1", HUMAN, {"Amp"}),
    (
        "Apply suggestion\n\nCo-authored-by: gemini-code-assist[bot] "
        "<176961590+gemini-code-assist[bot]@users.noreply.github.com>",
        HUMAN,
        {"Gemini"},
    ),
    ("Sandbox\n\nCo-authored-by: openhands <openhands@all-hands.dev>", HUMAN, {"OpenHands"}),
    (
        "Pair\n\nCo-Authored-By: Claude <noreply@anthropic.com>\nCo-authored-by: Cursor <cursoragent@cursor.com>",
        HUMAN,
        {"Claude Code", "Cursor"},
    ),
    ("[ai-gen] scaffold the admin", HUMAN, {"Acme AI"}),  # the team's own mark, [ai_assist] patterns
]
NEAR_MISSES = [
    ("Paint the landing page", ("Claude Monet", "claude@monet.example"), set()),
    ("Pair on checkout\n\nCo-authored-by: Claude Dupont <claude.dupont@acme.example>", HUMAN, set()),
    ("Ship it", ("Devin Booker", "devin@acme.example"), set()),
    ("Around the world", ("Jules Verne", "jules@verne.example"), set()),
    (
        "Bump lodash from 4.17.20 to 4.17.21",
        ("dependabot[bot]", "49699333+dependabot[bot]@users.noreply.github.com"),
        set(),
    ),
    ("Update dependency ruff to v0.8", ("renovate[bot]", "29139614+renovate[bot]@users.noreply.github.com"), set()),
    ("Release 1.2", ("github-actions[bot]", "41898282+github-actions[bot]@users.noreply.github.com"), set()),
    (
        "[pre-commit.ci] auto fixes",
        ("pre-commit-ci[bot]", "66853113+pre-commit-ci[bot]@users.noreply.github.com"),
        set(),
    ),
    ("Fix the cursor position in the editor\n\nMade with love in Lyon", HUMAN, set()),
    ("Docs: compare with aider: it edits files too", HUMAN, set()),
    ("Scaffold\n\nGenerated with cookiecutter", HUMAN, set()),
    ("Pair\n\nCo-authored-by: Copilot Fan <copilot.fan@acme.example>", HUMAN, set()),
    ("Note that noreply@anthropic.com is where Claude's trailer points", HUMAN, set()),
]


@pytest.fixture
def marked(make_repo, cli, tmp_path):
    repo = make_repo("shop")
    expected: dict[str, set[str]] = {}
    for i, (message, author, want) in enumerate(MARKED + NEAR_MISSES):
        sha = repo.commit(
            message, {f"f{i}.py": f"{i}\n"}, author=author, date=f"2026-11-{2 + i % 20:02d}T10:00:00+00:00"
        )
        expected[sha] = want
    config = tmp_path / "teamops.toml"
    config.write_text('[ai_assist]\npatterns = { "Acme AI" = "^\\\\[ai-gen\\\\]" }\nmin_sample = 3\n')
    db = str(tmp_path / "t.db")
    env = {"TEAMOPS_CONFIG": str(config), "TEAMOPS_NOW": "2026-11-25T00:00:00Z"}
    res = cli("--db", db, "sync-commits", "--repo", str(repo.path), "-v", env=env)
    assert res.exit_code == 0, res.output
    return repo, expected, db, env, res


def found(db: str) -> dict[str, set[str]]:
    conn = sqlite3.connect(db)
    try:
        out: dict[str, set[str]] = {}
        for sha, assistant in conn.execute("SELECT sha, assistant FROM assists WHERE number = 0"):
            out.setdefault(sha, set()).add(assistant)
        return out
    finally:
        conn.close()


def test_every_mark_is_found_and_no_near_miss_is(marked):
    _repo, expected, db, _env, res = marked
    got = found(db)
    wrong = {sha[:8]: (got.get(sha, set()), want) for sha, want in expected.items() if got.get(sha, set()) != want}
    assert wrong == {}  # precision and recall: 100%
    assert f"{sum(1 for w in expected.values() if w)} commits newly found co-written" in res.stderr


def test_kpi_ai_finds_what_git_log_grep_finds(marked, cli):
    repo, expected, db, env, _ = marked
    grep = subprocess.run(
        [
            "git",
            "-C",
            str(repo.path),
            "log",
            "--format=%H",
            "-i",
            "-E",
            "--grep",
            "<noreply@anthropic.com>$",
            "--grep",
            "Generated with \\[Claude Code\\]",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    claude = {sha for sha, who in found(db).items() if "Claude Code" in who}
    assert claude == {
        sha for sha in grep if "Co-authored-by: Claude Dupont" not in repo.git("log", "-1", "--format=%B", sha)
    }
    window = ("--since", "2026-11-01", "--until", "2026-11-25")
    data = json.loads(cli("--db", db, "kpi", "ai", "--by", "assistant", *window, "-f", "json", env=env).stdout)
    by = {r["group"]: r["commits"] for r in data["rows"]}
    assert by["Claude Code"] == len(claude) and by["(none)"] == sum(1 for w in expected.values() if not w)
    assert data["commits"] == len(expected) and data["assisted_commits"] == sum(1 for w in expected.values() if w)
    weekly = json.loads(cli("--db", db, "kpi", "ai", *window, "-f", "json", env=env).stdout)
    assert sum(r["assisted_commits"] for r in weekly["rows"]) == data["assisted_commits"]
    # each person's (and unmapped author's) assisted commits, in kpi activity, from the same marks
    people = json.loads(cli("--db", db, "kpi", "activity", *window, "--include-bots", "-f", "json", env=env).stdout)
    assert sum(r["assisted_commits"] for r in people["rows"]) == data["assisted_commits"]
    ann = next(r for r in people["rows"] if "ann@acme.example" in r["person"])
    assert ann["assisted_commits"] == sum(1 for (_, who, want) in MARKED if who == HUMAN)
    assert cli("--db", db, "people", "add", "ann", "--email", "ann@acme.example", env=env).exit_code == 0
    listed = json.loads(cli("--db", db, "people", "list", "-f", "json", env=env).stdout)["rows"]
    assert [(r["handle"], r["assisted_commits"]) for r in listed] == [("ann", ann["assisted_commits"])]


def test_new_markers_read_the_history_again_and_a_re_run_reads_nothing(marked, cli, tmp_path):
    repo, _expected, db, env, _ = marked
    again = cli("--db", db, "sync-commits", "--repo", str(repo.path), "-v", env=env)
    assert "newly found" not in again.stderr
    config = tmp_path / "other.toml"
    config.write_text('[ai_assist]\npatterns = { "Paint AI" = "landing page" }\n')
    res = cli("--db", db, "sync-commits", "--repo", str(repo.path), env={**env, "TEAMOPS_CONFIG": str(config)})
    assert res.exit_code == 0
    got = found(db)
    assert "Paint AI" in set().union(*got.values()) and "Acme AI" not in set().union(*got.values())


def merge_topic(repo, i: int, message: str, content: str, author: tuple[str, str]) -> None:
    """Branch topic-i with one commit (m{i}.py) on November 3 + i at 09:00, merged at 15:00 as pull request #i+1."""
    repo.git("checkout", "-q", "-b", f"topic-{i}")
    repo.commit(message, {f"m{i}.py": content}, author=author, date=f"2026-11-{3 + i:02d}T09:00:00Z")
    repo.git("checkout", "-q", "main")
    when = {"GIT_AUTHOR_DATE": f"2026-11-{3 + i:02d}T15:00:00Z", "GIT_COMMITTER_DATE": f"2026-11-{3 + i:02d}T15:00:00Z"}
    repo.git("merge", "-q", "--no-ff", "-m", f"Merge pull request #{i + 1} from acme/topic-{i}", f"topic-{i}", env=when)


def test_the_comparison_shows_both_samples_and_says_when_they_are_too_few(make_repo, cli, tmp_path):
    """Six merged pull requests an assistant co-wrote and six it did not (inferred from the merge commits)."""
    repo = make_repo("svc")
    repo.commit("init", {"app.py": "0\n"}, author=HUMAN, date="2026-11-02T09:00:00+00:00")
    for i in range(12):
        trailer = "\n\nCo-Authored-By: Claude <noreply@anthropic.com>" if i % 2 else ""
        merge_topic(repo, i, f"Change {i}{trailer}", "x\n" * (5 + i), HUMAN)
    # one assisted change reverted three days later: the quality line sees it
    when = {"GIT_AUTHOR_DATE": "2026-11-07T10:00:00+00:00", "GIT_COMMITTER_DATE": "2026-11-07T10:00:00+00:00"}
    repo.git("revert", "--no-edit", repo.git("rev-parse", "topic-1"), env=when)
    config = tmp_path / "teamops.toml"
    config.write_text("[ai_assist]\nmin_sample = 5\n")
    env = {"TEAMOPS_CONFIG": str(config), "TEAMOPS_NOW": "2026-11-30T00:00:00Z"}
    db = str(tmp_path / "t.db")
    assert cli("--db", db, "sync-commits", "--repo", str(repo.path), env=env).exit_code == 0
    window = ("--since", "2026-11-01", "--until", "2026-11-30")
    data = json.loads(cli("--db", db, "kpi", "ai", "--compare", *window, "-f", "json", env=env).stdout)
    rows = {r["measure"]: r for r in data["rows"]}
    size = rows["size, median (lines)"]
    assert (size["n_assisted"], size["n_not_assisted"]) == (6, 6) and size["note"] == ""
    assert size["assisted"] == 11.0 and size["not_assisted"] == 10.0  # 6, 8, ... 16 lines and 5, 7, ... 15
    reverted = rows["reverted within 30 days (share of commits)"]
    assert reverted["assisted"] == round(1 / 6, 3) and reverted["not_assisted"] == 0.0
    deploys = rows["change fail rate of deployments"]
    assert deploys["note"] == "too few to compare" and deploys["assisted"] is None
    assert data["pr_share"] == 0.5
    table = cli("--db", db, "kpi", "ai", "--compare", *window, env={**env, "COLUMNS": "160"}).stdout
    assert "too few to compare" in table and "no causal claim" in table


def test_a_pull_request_whose_description_an_assistant_signed_is_assisted(make_repo, cli, tmp_path):
    """Two pull requests from GitHub: one whose description ends with Claude Code's footer (its commit signs
    nothing), one a person wrote that only mentions a cursor."""
    from tests.fakes.github import FakeGitHub, pull_node

    repo = make_repo("api")
    a = repo.commit("Add export", {"a.py": "1\n"}, author=HUMAN, date="2026-11-03T09:00:00+00:00")
    b = repo.commit("Fix cursor", {"b.py": "1\n"}, author=HUMAN, date="2026-11-04T09:00:00+00:00")
    footer = "Adds the export.\n\n🤖 Generated with [Claude Code](https://claude.com/claude-code)"
    pulls = [
        pull_node(
            1,
            created="2026-11-03T08:00:00Z",
            merged="2026-11-03T12:00:00Z",
            state="MERGED",
            commits=[(a, "2026-11-03T09:00:00Z")],
            merge_commit=a,
            body=footer,
        ),
        pull_node(
            2,
            created="2026-11-04T08:00:00Z",
            merged="2026-11-04T12:00:00Z",
            state="MERGED",
            commits=[(b, "2026-11-04T09:00:00Z")],
            merge_commit=b,
            body="Keeps the cursor where it was.",
        ),
    ]
    db = str(tmp_path / "t.db")
    with FakeGitHub({"acme/api": repo.path}) as gh:
        gh.repos["acme/api"].pulls = pulls
        env = {"GITHUB_TOKEN": gh.token, "TEAMOPS_GITHUB_API_URL": gh.url, "TEAMOPS_NOW": "2026-11-20T00:00:00Z"}
        assert cli("--db", db, "sync-commits", "--repo", "acme/api", env=env).exit_code == 0
    conn = sqlite3.connect(db)
    try:
        rows = conn.execute("SELECT number, assistant, how FROM assists WHERE number != 0").fetchall()
    finally:
        conn.close()
    assert rows == [(1, "Claude Code", "body")]
    window = ("--since", "2026-11-01", "--until", "2026-11-20", "-f", "json")
    data = json.loads(cli("--db", db, "kpi", "ai", *window, env=env).stdout)
    assert data["pr_share"] == 0.5 and data["commit_share"] == 0.0


def test_one_assisted_commit_among_thousands_is_under_one_percent_not_none(cli, tmp_path):
    from tests.support.synth import build_repo

    repo = build_repo(tmp_path / "big", 2400, merge_every=0)  # 1 in 2,401: three decimals would say 0
    env = {"GIT_AUTHOR_DATE": "2026-11-03T10:00:00Z", "GIT_COMMITTER_DATE": "2026-11-03T10:00:00Z"}
    subprocess.run(
        [
            "git",
            "-C",
            str(repo),
            "-c",
            "user.name=Ann Archer",
            "-c",
            "user.email=ann@acme.example",
            "commit",
            "-q",
            "--allow-empty",
            "-m",
            "Tidy\n\nCo-Authored-By: Claude <noreply@anthropic.com>",
        ],
        check=True,
        env={**env, "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
    )
    db = str(tmp_path / "t.db")
    assert cli("--db", db, "sync-commits", "--repo", str(repo)).exit_code == 0
    res = cli("--db", db, "kpi", "ai", "--since", "2000-01-01", "--until", "2026-12-01")
    total = int(
        subprocess.run(
            ["git", "-C", str(repo), "rev-list", "--count", "--no-merges", "HEAD"], capture_output=True, text=True
        ).stdout
    )
    assert f"AI-assisted: <1% of {total:,} commits" in res.output
    as_json = cli("--db", db, "kpi", "ai", "--since", "2000-01-01", "--until", "2026-12-01", "-f", "json").stdout
    assert json.loads(as_json)["commit_share"] == round(1 / total, 6) > 0


def test_a_history_without_marks_says_which_marks_are_read_and_one_mark_brings_the_comparison(make_repo, cli, tmp_path):
    """A user on a history no assistant signed is told where the marks are, not sent to an empty comparison."""
    repo = make_repo("svc")
    repo.commit("init", {"a.py": "0\n"}, author=("Claude Shannon", "claude@bell.example"), date="2026-11-02T09:00:00Z")
    repo.commit(
        "Pair on the parser\n\nCo-authored-by: Devin Park <devin@acme.example>",
        {"b.py": "1\n"},
        author=HUMAN,
        date="2026-11-03T09:00:00Z",
    )
    db = str(tmp_path / "t.db")
    assert cli("--db", db, "sync-commits", "--repo", str(repo.path)).exit_code == 0
    none = cli("--db", db, "kpi", "ai", "--since", "2026-11-01", "--until", "2026-11-30")
    assert none.exit_code == 0
    assert "AI-assisted: 0% of 2 commits" in none.stdout
    assert "carries an assistant's mark: the marks read are in docs/kpi.md" in none.stdout
    assert "--compare" not in none.stdout

    repo.commit(
        "Tidy\n\nCo-Authored-By: Claude <noreply@anthropic.com>",
        {"c.py": "2\n"},
        author=HUMAN,
        date="2026-11-04T09:00:00Z",
    )
    assert cli("--db", db, "sync-commits", "--repo", str(repo.path)).exit_code == 0
    one = cli("--db", db, "kpi", "ai", "--since", "2026-11-01", "--until", "2026-11-30")
    assert "AI-assisted: 33% of 3 commits" in one.stdout
    assert "teamops kpi ai --compare" in one.stdout and "the marks read are in" not in one.stdout


def test_merged_pull_requests_count_for_their_authors_team(make_repo, cli, tmp_path):
    """By team, a merged pull request counts for its author's team (from a clone: its branch's first author)."""
    repo = make_repo("svc")
    repo.commit("init", {"app.py": "0\n"}, author=HUMAN, date="2026-11-02T09:00:00Z")
    bob = ("Bob Baker", "bob@acme.example")
    for i, (author, trailer) in enumerate(
        [(HUMAN, ""), (bob, "\n\nCo-Authored-By: Claude <noreply@anthropic.com>")] * 2
    ):
        merge_topic(repo, i, f"Change {i}{trailer}", "x\n", author)
    db = str(tmp_path / "t.db")
    assert cli("--db", db, "people", "add", "ann", "--email", HUMAN[1], "--team", "core").exit_code == 0
    assert cli("--db", db, "people", "add", "bob", "--email", bob[1], "--team", "web").exit_code == 0
    assert cli("--db", db, "sync-commits", "--repo", str(repo.path)).exit_code == 0
    merges = repo.git("log", "--merges", "--format=%H").splitlines()
    by_email = Counter(repo.git("log", "-1", "--format=%ae", f"{sha}^2") for sha in merges)
    res = cli("--db", db, "kpi", "ai", "--by", "team", "--since", "2026-11-01", "--until", "2026-11-30", "-f", "json")
    rows = {r["group"]: r for r in json.loads(res.stdout)["rows"]}
    assert rows["core"]["merged_prs"] == by_email[HUMAN[1]] == 2 and rows["core"]["assisted_prs"] == 0
    assert rows["web"]["merged_prs"] == by_email[bob[1]] == 2 and rows["web"]["pr_share"] == 1.0
