"""Deployments from release tags and `deploy record`, and the commits each one shipped first."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from teamops.errors import InvalidInput
from teamops.store.commits import commit_graph
from teamops.store.database import transaction
from teamops.store.deployments import (
    all_deployments as stored_deployments,
)
from teamops.store.deployments import (
    linked_tips,
    remove_deployments,
    save_deployment,
    save_links,
    shipped,
    to_link,
)
from teamops.store.sync_state import load_state, save_state

if TYPE_CHECKING:
    from sqlite_utils import Database

    from teamops.config import Config
    from teamops.delivery.commit_graph import CommitGraph
    from teamops.integrations.git_local import GitRepo
    from teamops.store.reader import Reader

Parents = Callable[[list[str], list[str]], Mapping[str, Sequence[str]]]


@dataclass
class DeploymentSync:
    """What a pass over a repository's deployments did."""

    added: int = 0
    changed: int = 0
    removed: int = 0
    linked: int = 0
    commits: int = 0
    warnings: list[str] = field(default_factory=list)

    def line(self, repo: str) -> str:
        text = f"deployments of {repo}: {self.added} new, {self.changed} changed, {self.removed} removed"
        if self.linked:
            text += f"; {self.linked} linked to the {self.commits:,} commits they shipped first"
        return text


def utc(stamp: str) -> str:
    """An ISO time with any offset as UTC `...Z` (tag dates carry the tagger's own offset)."""
    try:
        moment = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(f"{stamp!r} is not an ISO time") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def sync_tags(
    db: Database, cfg: Config, repo: GitRepo, repo_id: int, graph: Callable[[], CommitGraph] | None = None
) -> DeploymentSync | None:
    """Release tags as production deployments: matching `[dora] tag_pattern`, moved and deleted ones followed.

    None when the tags have not changed since the last look (so an unchanged repository still costs
    one git call). What each shipped first comes from the sync's stored graph (`graph`) when it holds the
    whole history, else from one `git rev-list`.
    """
    state = load_state(db, f"tags:{repo_id}")
    stamp = repo.tag_refs_stamp()
    signature = None if stamp is None else f"{stamp}:{cfg.dora.tag_pattern}"
    if signature is not None and state.cursor == signature and not to_link(db, repo_id):
        return None
    pattern = re.compile(cfg.dora.tag_pattern)
    result = DeploymentSync()
    tags = [(name, sha, utc(at)) for name, sha, at in repo.release_tags() if pattern.search(name)]
    env = cfg.dora.environment
    stored = {
        d.name: (d.sha, d.environment, d.deployed_at, d.status)
        for d in stored_deployments(db, repo_id)
        if d.source == "tag"
    }
    with transaction(db):
        for name, sha, at in tags:
            if stored.get(name) == (sha, env, at, "success"):
                continue
            _count(result, save_deployment(db, repo_id, name, sha, env, at, "success", "tag"))
        result.removed = remove_deployments(db, repo_id, "tag", {name for name, _, _ in tags})

    def parents(include: list[str], exclude: list[str]) -> Mapping[str, Sequence[str]]:
        found = graph().between(include, exclude) if graph is not None else None
        return found if found is not None else repo.parents_between(include, exclude)

    link_commits(db, repo_id, parents, result)
    with transaction(db):
        state.cursor = signature
        state.status = "complete"
        save_state(db, state)
    return result


def stored_parents(db: Reader, repo_id: int) -> Parents:
    """The commit graph from stored commits, for repositories synced through the API (no clone)."""

    def parents(include: list[str], exclude: list[str]) -> Mapping[str, Sequence[str]]:
        seen = shipped(db, repo_id)
        return {sha: node[0] for sha, node in commit_graph(db, repo_id).items() if sha not in seen}

    return parents


def link_commits(db: Database, repo_id: int, parents_of: Parents, result: DeploymentSync) -> None:
    """For each deployment not linked yet, oldest first: the commits it reaches that none before it did.

    One ancestry pass for all of them (what they reach minus what linked deployments reach), then a
    walk in time order; a deployment already linked is never walked again.
    """
    todo = to_link(db, repo_id)
    if not todo:
        return
    graph = parents_of([d.sha for d in todo], linked_tips(db, repo_id))
    taken: set[str] = set()
    links = []
    parents_of_sha = graph.get
    for deployment in todo:
        mine: list[str] = []
        stack = [deployment.sha]
        pop, push, keep = stack.pop, stack.extend, mine.append
        while stack:
            sha = pop()
            if sha in taken:
                continue
            parents = parents_of_sha(sha)
            if parents is None:
                continue
            taken.add(sha)
            keep(sha)
            push(parents)
        links.append((deployment, mine))
        result.linked += 1
        result.commits += len(mine)
    with transaction(db):
        save_links(db, links)


def record_deployment(
    db: Database,
    repo_id: int,
    repo: GitRepo | None,
    *,
    sha: str,
    name: str,
    environment: str,
    status: str,
    at: str,
    source: str = "record",
) -> tuple[str, DeploymentSync]:
    """One deployment from a deploy job (`teamops deploy record`), linked to what it shipped first.

    With a clone, ancestry comes from git; without one, from the stored commits of the repository.
    """
    result = DeploymentSync()
    with transaction(db):
        outcome = save_deployment(db, repo_id, name, sha, environment, at, status, source)
    parents = repo.parents_between if repo is not None else stored_parents(db, repo_id)
    link_commits(db, repo_id, parents, result)
    return outcome, result


def _count(result: DeploymentSync, outcome: str) -> None:
    if outcome != "same":
        setattr(result, outcome, getattr(result, outcome) + 1)
