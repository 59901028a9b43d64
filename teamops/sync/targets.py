"""Which repositories a commit sync covers, and running it over each: flags, else the config, else here."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from teamops.config import Config
from teamops.integrations.git_local import GitRepo
from teamops.sync.deployments import sync_github_delivery, sync_tags
from teamops.sync.git import sync_git_repo
from teamops.sync.github import sync_github_repo
from teamops.sync.result import SyncResult

if TYPE_CHECKING:
    from sqlite_utils import Database

    from teamops.integrations.github import GitHubClient

ProgressFor = Callable[[str], AbstractContextManager[Any]]


@dataclass
class SyncTarget:
    """One repository to sync: a local clone (`path`) or a GitHub repository (`github`)."""

    kind: str  # "path" or "github"
    where: str
    branches: list[str] = field(default_factory=list)
    name: str | None = None


def resolve_repo_arg(value: str) -> tuple[str, str]:
    """`--repo` names a GitHub repository (owner/name) or a local path; paths win when they exist."""
    path = Path(value).expanduser()
    if path.exists() or value.startswith((".", "/", "~")):
        return "path", str(path)
    if value.count("/") == 1 and " " not in value:
        return "github", value
    return "path", str(path)


def sync_targets(cfg: Config, repo_args: list[str] | None, branches: list[str] | None) -> list[SyncTarget]:
    """`--repo` values, else `[[repos]]`, else the clone in the current folder."""
    chosen = list(branches or [])
    if repo_args:
        return [SyncTarget(*resolve_repo_arg(value), chosen) for value in repo_args]
    if cfg.repos:
        return [
            SyncTarget("github", rc.github, chosen or rc.branches, rc.name)
            if rc.github
            else SyncTarget("path", str(cfg.repo_path(rc)), chosen or rc.branches, rc.name)
            for rc in cfg.repos
        ]
    return [SyncTarget("path", str(Path.cwd()), chosen)]


def sync_all(
    db: Database,
    targets: list[SyncTarget],
    client: GitHubClient | None,
    progress_for: ProgressFor,
    *,
    since: str | None,
    until: str | None,
    full: bool,
    cfg: Config | None = None,
) -> Iterator[SyncResult]:
    """Sync each target in turn, yielding its result as soon as it is done; a clone's release tags
    become deployments (with `cfg`)."""
    for target in targets:
        if target.kind == "github":
            assert client is not None
            with progress_for(f"commits {target.where}") as progress:
                result = sync_github_repo(
                    db,
                    client,
                    target.where,
                    target.branches or None,
                    since=since,
                    until=until,
                    full=full,
                    progress=progress,
                )
            if cfg is not None and result.repo_id is not None:
                before = client.requests
                delivered = sync_github_delivery(db, cfg, client, target.where, result.repo_id)
                result.requests = (result.requests or 0) + client.requests - before
                result.rate_limit_remaining = client.rate_remaining
                if delivered is not None:
                    result.deployments = delivered.added + delivered.changed
                    result.details.append(delivered.line(result.repo))
                    result.warnings += delivered.warnings
            yield result
            continue
        repo = GitRepo.open(Path(target.where))
        with progress_for(f"commits {repo.root.name}") as progress:
            result = sync_git_repo(
                db,
                repo,
                target.branches or None,
                name=target.name,
                since=since,
                until=until,
                full=full,
                progress=progress,
            )
        if cfg is not None and result.repo_id is not None:
            deployed = sync_tags(db, cfg, repo, result.repo_id)
            if deployed is not None:
                result.deployments = deployed.added + deployed.changed
                result.details.append(deployed.line(result.repo))
        yield result
