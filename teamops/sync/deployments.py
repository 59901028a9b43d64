"""Deployments from release tags and `deploy record`, and the commits each one shipped first."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from teamops.errors import InvalidInput
from teamops.store.commits import commit_graph
from teamops.store.database import transaction
from teamops.store.deployments import (
    linked_tips,
    save_deployment,
    save_links,
    shipped,
    to_link,
)

if TYPE_CHECKING:
    from sqlite_utils import Database

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
    failed_attempts: int = 0  # deploy runs that shipped nothing

    def line(self, repo: str) -> str:
        text = f"deployments of {repo}: {self.added} new, {self.changed} changed, {self.removed} removed"
        if self.failed_attempts:
            text += f"; {self.failed_attempts} failed deploy attempts (not deployments)"
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
