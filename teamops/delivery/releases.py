"""What a release holds by git's ancestry: `git log --no-merges A..B`, from a clone or the stored graph."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from teamops.clock import parse_iso
from teamops.errors import TeamopsError, UsageError
from teamops.integrations.git_local import GitRepo, checked_ref
from teamops.store.commits import ancestors, commit_graph, find_repo, repos_with_paths
from teamops.store.deployments import all_deployments

if TYPE_CHECKING:
    from teamops.config import Config
    from teamops.store.reader import Reader


@dataclass
class ReleaseRange:
    """The non-merge commits B has and A has not; A is the release before B when not given (None: B's whole history)."""

    repo_id: int
    repo: str
    since_ref: str | None
    until_ref: str
    shas: list[str]
    since: str | None  # the commit time of A, or None for a whole history
    until: str  # the commit time of B


def split_range(text: str) -> tuple[str | None, str]:
    """`A..B` → (A, B); `B` → (None, B)."""
    if ".." in text:
        since, _, until = text.partition("..")
        if not since or not until or until[:1] == ".":
            raise UsageError(f"{text!r} is not a range: write A..B (two tags) or one tag")
        return since, until
    return None, text


def release_range(db: Reader, cfg: Config, since: str | None, until: str, repo: str | None) -> ReleaseRange:
    """The range in the one synced repository where `until` names a commit (ask for --repo when several do)."""
    for ref in (since, until):
        if ref is not None:
            checked_ref(ref)
    candidates = _repositories(db, repo)
    found: list[ReleaseRange] = []
    for repo_id, name, path in candidates:
        rng = _from_clone(db, cfg, repo_id, name, path, since, until) if path else None
        rng = rng or _from_store(db, cfg, repo_id, name, since, until)
        if rng is not None:
            found.append(rng)
    if not found:
        where = f"repository {repo!r}" if repo else "any synced repository"
        raise UsageError(
            f"{until!r}{f' or {since!r}' if since else ''} is not a tag or commit of {where}",
            "give tags of a synced repository (teamops deploy list shows the release tags)",
        )
    if len(found) > 1:
        names = ", ".join(r.repo for r in found)
        raise UsageError(f"{until!r} names a commit in several repositories ({names})", "choose one with --repo")
    return found[0]


def _repositories(db: Reader, repo: str | None) -> list[tuple[int, str, str | None]]:
    if repo is None:
        return repos_with_paths(db)
    row = find_repo(db, repo)
    if row is None:
        raise UsageError(f"no repository {repo!r} is synced", "sync it first: teamops sync-commits --repo ...")
    return repos_with_paths(db, row[0])


def _from_clone(
    db: Reader, cfg: Config, repo_id: int, name: str, path: str, since: str | None, until: str
) -> ReleaseRange | None:
    try:
        git = GitRepo.open(Path(path))
    except TeamopsError:
        return None
    tip = git.resolve(until)
    if tip is None:
        return None
    if since is None:
        since = _previous_tag(git, cfg, tip)
        base = git.resolve(since) if since else None
    else:
        base = git.resolve(since)
        if base is None:
            raise UsageError(f"{since!r} is not a tag or commit of {name}")
    return ReleaseRange(
        repo_id,
        name,
        since,
        until,
        git.non_merges_between(tip, base),
        git.commit_time(base) if base else None,
        git.commit_time(tip) or "",
    )


def _previous_tag(git: GitRepo, cfg: Config, tip: str) -> str | None:
    """The latest release tag (by its date) in B's history on another commit: what B follows."""
    pattern = re.compile(cfg.dora.tag_pattern)
    merged = git.tags_merged_into(tip)
    older = [
        (parse_iso(when), name)
        for name, sha, when in git.release_tags()
        if name in merged and sha != tip and pattern.search(name)
    ]
    return max(older)[1] if older else None


def _from_store(db: Reader, cfg: Config, repo_id: int, name: str, since: str | None, until: str) -> ReleaseRange | None:
    """Tags known as deployments (GitHub Releases, synced tags) and full shas, over the stored commit graph."""
    graph = commit_graph(db, repo_id)
    parents = {sha: node[0] for sha, node in graph.items()}
    tags = {d.name: d.sha for d in sorted(all_deployments(db, repo_id), key=lambda d: d.deployed_at)}

    def resolve(ref: str) -> str | None:
        sha = tags.get(ref) or (ref if ref in graph else None)
        return sha if sha in graph else None

    tip = resolve(until)
    if tip is None:
        return None
    mine = ancestors(parents, tip)
    if since is None:
        pattern = re.compile(cfg.dora.tag_pattern)
        older = [t for t, sha in tags.items() if sha in mine and sha != tip and pattern.search(t)]
        since = older[-1] if older else None
    base = resolve(since) if since else None
    if since and base is None:
        raise UsageError(f"{since!r} is not a tag or commit of {name}")
    theirs = ancestors(parents, base) if base else set()
    shas = sorted((s for s in mine - theirs if not graph[s][1]), key=lambda s: graph[s][2], reverse=True)
    return ReleaseRange(repo_id, name, since, until, shas, graph[base][2] if base else None, graph[tip][2])
