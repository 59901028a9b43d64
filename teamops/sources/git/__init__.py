"""The `git` kind: a local clone, or a folder pattern (`../*`) of clones; release tags become deployments."""

from __future__ import annotations

import functools
import glob
import re
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from teamops.errors import ServiceError
from teamops.sources import Files, Kind, Progress, SyncOptions, Target, hosting, is_pattern, register

if TYPE_CHECKING:
    from sqlite_utils import Database

    from teamops.config import Config
    from teamops.store.reader import Reader
    from teamops.sync.result import SyncResult


@register
class GitSource(Kind):
    """Commits from `git log` of a clone on this machine; its path is the locator."""

    kind: ClassVar[str] = "git"
    config_key: ClassVar[str] = "path"
    example: ClassVar[str] = 'path = "DIR"'
    label: ClassVar[str] = "git"
    remote: ClassVar[bool] = False
    streams: ClassVar[tuple[str, ...]] = ("commits", "pulls", "deployments")  # pulls from merges, tags as releases
    order: ClassVar[int] = 0  # an existing path wins over an owner/name that looks the same

    def __init__(self, cfg: Config) -> None:
        self.cfg = cfg

    @classmethod
    def claims(cls, value: str) -> bool:
        path = Path(value).expanduser()
        if path.exists() or value.startswith((".", "/", "~")):
            return True
        if is_pattern(value) and glob.glob(str(path)):
            return True  # folders here match it: `src/*` is clones, not an owner named src
        return value.count("/") != 1 or " " in value

    @classmethod
    def locate(cls, cfg: Config, value: str) -> str:
        raw = Path(value).expanduser()
        return str(raw if raw.is_absolute() else cfg.base_dir / raw)

    def expand(self, db: Database | None, target: Target) -> list[Target]:
        """Each folder a pattern matches that is a git clone (its own name checked against include/exclude)."""
        if not target.pattern:
            return [target]
        found = []
        for match in sorted(glob.glob(str(Path(target.locator).expanduser()))):
            path = Path(match)
            if (path / ".git").exists() and target.wanted(path.name):
                found.append(target.member(str(path.resolve())))
        return found

    def sync(self, db: Database, target: Target, opts: SyncOptions, progress: Progress | None) -> SyncResult:
        from teamops.integrations.git_local import GitRepo
        from teamops.sources.git.commits import sync_git_repo
        from teamops.sources.git.tags import sync_tags

        repo = GitRepo.open(Path(target.locator))
        result = sync_git_repo(
            db,
            repo,
            target.branches or None,
            name=target.name,
            since=opts.since,
            until=opts.until,
            full=opts.full,
            progress=progress,
            releases=re.compile(opts.cfg.dora.tag_pattern),
            host=lambda clone: hosting(opts.cfg, clone.origin_url()),
        )
        if result.repo_id is not None:
            from teamops.delivery.commit_graph import CommitGraph

            repo_id = result.repo_id
            graph = functools.cache(lambda: CommitGraph.stored(db, repo_id))  # one per sync, read when first asked for
            deployed = sync_tags(db, opts.cfg, repo, result.repo_id, graph)
            if deployed is not None:
                result.deployments = deployed.added + deployed.changed
                result.details.append(deployed.line(result.repo))
            from teamops.sources.git.pulls import infer_pulls

            inferred = infer_pulls(db, result.repo_id, graph)
            if inferred is not None:
                result.pulls = inferred.inferred
                result.details.append(inferred.line(result.repo))
        return result

    def size(self, target: Target) -> int | None:
        from teamops.errors import TeamopsError
        from teamops.integrations.git_local import GitRepo

        try:
            return max(1, GitRepo.open(Path(target.locator)).count("HEAD"))
        except TeamopsError:
            return 1

    def repository(self, db: Database, target: Target) -> tuple[int, str]:
        from teamops.integrations.git_local import GitRepo
        from teamops.sources.git.commits import local_repo_row

        return local_repo_row(
            db, GitRepo.open(Path(target.locator)), target.name, lambda c: hosting(self.cfg, c.origin_url())
        )

    def check(self, target: Target, offline: bool) -> str:
        from teamops.integrations.git_local import GitRepo

        repo = GitRepo.open(Path(target.locator))
        return f"{repo.root} on {repo.current_branch()}"

    def diff(self, db: Reader, repo_id: int, locator: str, sha: str) -> Files:
        raise ServiceError(f"the clone at {locator} no longer has commit {sha[:10]}")
