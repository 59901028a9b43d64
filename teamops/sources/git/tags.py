"""A clone's release tags as production deployments, each linked to the commits it shipped first."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING

from teamops.store.database import transaction
from teamops.store.deployments import all_deployments as stored_deployments
from teamops.store.deployments import remove_deployments, save_deployment, to_link
from teamops.store.sync_state import load_state, save_state
from teamops.sync.deployments import DeploymentSync, _count, link_commits, utc

if TYPE_CHECKING:
    from sqlite_utils import Database

    from teamops.config import Config
    from teamops.delivery.commit_graph import CommitGraph
    from teamops.integrations.git_local import GitRepo


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
