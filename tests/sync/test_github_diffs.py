"""A commit's files and patches for estimators: `git show` for clones, else the repository's source (REST for GitHub)."""

from __future__ import annotations

import pytest

from teamops.config import Config
from teamops.errors import ServiceError
from teamops.sources.diffs import DiffReader
from teamops.sources.git.commits import local_repo_row
from teamops.sources.github.commits import github_repo_id
from teamops.sources.runner import Sources
from teamops.store.database import open_database
from teamops.store.estimates import CommitToEstimate
from tests.conftest import lines
from tests.fakes.github import FakeGitHub


def commit_diff(db, repo_id, sha, sources=None):
    """What `analyze` reads for one commit."""
    return DiffReader(db, sources)(CommitToEstimate(0, repo_id, "r", sha, "", False, 1, 1, 1, None))


def test_local_diff_from_git_show(make_repo, tmp_path):
    repo = make_repo()
    repo.commit("one", {"src/app.py": lines(3), "README.md": "hi\n"})
    sha = repo.commit("two", {"src/app.py": lines(4)})
    db = open_database(tmp_path / "t.db")
    from teamops.integrations.git_local import GitRepo

    repo_id, _ = local_repo_row(db, GitRepo.open(repo.path))
    files = commit_diff(db, repo_id, sha)
    assert [path for path, _ in files] == ["src/app.py"]
    assert "+x 3" in files[0][1]
    # nothing of the diff is stored
    assert db.execute("SELECT COUNT(*) FROM commits").fetchone()[0] == 0


def test_github_diff_paginates_files_300_a_page(make_repo, tmp_path, monkeypatch):
    repo = make_repo()
    repo.commit("base", {"keep.txt": "1\n"})
    sha = repo.commit("wide change", {f"gen/f{i:03d}.txt": f"{i}\n" for i in range(650)})
    db = open_database(tmp_path / "t.db")
    repo_id = github_repo_id(db, "acme/wide")
    with FakeGitHub({"acme/wide": repo.path}) as gh:
        monkeypatch.setenv("GITHUB_TOKEN", gh.token)
        cfg = Config()
        cfg.github.api_url = gh.url
        files = commit_diff(db, repo_id, sha, Sources(cfg))
        pages = [p for _, p, _ in gh.log if sha in p]
    assert len(files) == 650 and len(pages) == 3
    assert files[0][0] == "gen/f000.txt" and files[0][1].startswith("@@")


def test_no_source_for_a_diff_is_a_clear_error(tmp_path):
    db = open_database(tmp_path / "t.db")
    repo_id = github_repo_id(db, "acme/none")
    with pytest.raises(ServiceError, match="no source for the diff"):
        commit_diff(db, repo_id, "a" * 40)


def test_token_never_lands_in_the_database(make_repo, cli, tmp_path):
    repo = make_repo()
    repo.commit("one", {"a": "1\n"})
    db = tmp_path / "t.db"
    with FakeGitHub({"acme/api": repo.path}, token="ghs_UNIQUE_secret_4242") as gh:
        res = cli(
            "--db",
            str(db),
            "-v",
            "sync-commits",
            "--repo",
            "acme/api",
            env={"GITHUB_TOKEN": gh.token, "TEAMOPS_GITHUB_API_URL": gh.url},
        )
        assert res.exit_code == 0
        assert gh.token not in res.output
    cli("--db", str(db), "people", "list")  # checkpoint the WAL into the file
    for path in tmp_path.glob("t.db*"):
        assert b"ghs_UNIQUE_secret_4242" not in path.read_bytes()
