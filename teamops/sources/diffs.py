"""Commit diffs for estimators, read in batches: one `git show` per batch of a clone's commits, REST for GitHub."""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

from teamops.errors import ServiceError, TeamopsError
from teamops.integrations.git_local import GitRepo
from teamops.store.commits import repo_source

if TYPE_CHECKING:
    from teamops.sources.runner import Sources
    from teamops.store.estimates import CommitToEstimate
    from teamops.store.reader import Reader

Files = list[tuple[str, str]]


class DiffReader:
    """`reader(commit)` → its (path, patch) pairs; `reader.prefetch(commits)` reads a batch of them at once."""

    def __init__(self, db: Reader, sources: Sources | None = None) -> None:
        self.db = db
        self.sources = sources
        self._clones: dict[int, GitRepo | None] = {}
        self._ready: dict[tuple[int, str], Files] = {}
        self._pool: ThreadPoolExecutor | None = None
        self._pending: Future[dict[tuple[int, str], Files]] | None = None
        self._pending_key: list[tuple[int, str]] = []

    def _clone(self, repo_id: int) -> GitRepo | None:
        if repo_id not in self._clones:
            _, _, path = repo_source(self.db, repo_id)
            clone = None
            if path and Path(path).exists():
                try:
                    clone = GitRepo.open(Path(path))
                except TeamopsError:
                    clone = None
            self._clones[repo_id] = clone
        return self._clones[repo_id]

    def prefetch(self, commits: list[CommitToEstimate], upcoming: list[CommitToEstimate] | None = None) -> None:
        """Have these commits' diffs ready (one git call per repository) and start reading `upcoming`
        in the background, so git works while the caller counts tokens."""
        for c in [*commits, *(upcoming or [])]:
            self._clone(c.repo_id)  # the database is read here, never from the reading thread
        pending, self._pending = self._pending, None
        key = [(c.repo_id, c.sha) for c in commits]
        self._ready = pending.result() if pending is not None and self._pending_key == key else self._read(commits)
        if upcoming:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="teamops-diffs")
            self._pending_key = [(c.repo_id, c.sha) for c in upcoming]
            self._pending = self._pool.submit(self._read, upcoming)

    def _read(self, commits: list[CommitToEstimate]) -> dict[tuple[int, str], Files]:
        by_repo: dict[int, list[str]] = {}
        for c in commits:
            by_repo.setdefault(c.repo_id, []).append(c.sha)
        ready: dict[tuple[int, str], Files] = {}
        for repo_id, shas in by_repo.items():
            clone = self._clones.get(repo_id)
            if clone is None:
                continue
            have = clone.present(shas)
            for sha, files in clone.show_many([s for s in shas if s in have]).items():
                ready[(repo_id, sha)] = files
        return ready

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def __call__(self, c: CommitToEstimate) -> Files:
        ready = self._ready.pop((c.repo_id, c.sha), None)
        if ready is not None:
            return ready
        clone = self._clone(c.repo_id)
        if clone is not None and clone.present([c.sha]):
            return clone.show_files(c.sha)
        kind, locator, _ = repo_source(self.db, c.repo_id)
        if self.sources is None:
            raise ServiceError(f"no source for the diff of {c.sha[:10]}: no local clone has it")
        return self.sources.get(kind).diff(self.db, c.repo_id, locator, c.sha)
