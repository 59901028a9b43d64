"""Commits of a local clone: one streaming `git log` per branch, in batches committed with their cursor."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from teamops.clock import now_iso
from teamops.errors import InvalidInput
from teamops.identities import IdentityResolver
from teamops.integrations.git_local import GitRepo
from teamops.records import CommitRecord
from teamops.store.commits import BATCH_SIZE, has_commits, repo_by_path, save_commits, save_repo, stored_shas
from teamops.store.database import transaction
from teamops.store.sync_state import SyncState, load_state, save_state
from teamops.sync.result import SyncResult
from teamops.wording import count

if TYPE_CHECKING:
    from sqlite_utils import Database

Progress = Callable[[int, int | None], None]


def _no_progress(advance: int, total: int | None) -> None:
    return None


def local_repo_row(db: Database, repo: GitRepo, name: str | None = None) -> tuple[int, str]:
    """The repos row of a clone: shared with GitHub sync when `origin` is on github.com."""
    path = str(repo.root)
    found = repo_by_path(db, path)
    if found:
        return found
    gh = repo.github_name()
    if gh:
        key, display, kind = f"github:{gh.lower()}", gh, "github"
    else:
        key, display, kind = f"git:{path}", name or repo.root.name, "git"
    return save_repo(db, key, display, kind, gh or path, path=path), display


def sync_git_repo(
    db: Database,
    repo: GitRepo,
    branches: list[str] | None = None,
    *,
    name: str | None = None,
    since: str | None = None,
    until: str | None = None,
    full: bool = False,
    progress: Progress | None = None,
    batch_size: int = BATCH_SIZE,
) -> SyncResult:
    """Pull new commits of a local clone; unchanged branches cost one `git rev-parse`.

    A shallow clone is refused: its history ends at the graft, and syncing it would store only what
    it has as if that were all.
    """
    shallow = repo.shallow_commits()
    if shallow is not None:
        raise InvalidInput(
            f"{repo.root} is a shallow clone ({count(shallow, 'commit')}): a sync would store only those",
            "fetch the whole history first: `git fetch --unshallow` (in GitHub Actions: actions/checkout "
            "with `fetch-depth: 0`), or sync from the API with --repo owner/name",
        )
    started = time.monotonic()
    repo_id, display = local_repo_row(db, repo, name)
    result = SyncResult(repo=display, repo_id=repo_id)
    filtered = bool(since or until)
    resolver = IdentityResolver.load(db)
    for branch in branches or [repo.current_branch()]:
        head = repo.resolve(branch)
        if head is None:
            if branches and repo.resolve("HEAD") is not None:
                raise InvalidInput(f"branch {branch!r} not found in {repo.root}")
            continue  # an empty repository: nothing to do, and that is fine
        result.branches.append(branch)
        state = load_state(db, f"git:{repo_id}:{branch}")
        if not full and not filtered and state.status == "complete" and state.head == head:
            result.details.append(f"{branch}: head {head[:10]} unchanged since the last sync")
            continue
        result.unchanged = False
        added, detail = _sync_branch(db, repo, repo_id, head, state, resolver, since, until, full, progress, batch_size)
        result.new += added
        result.details.append(f"{branch}: {detail}")
    result.seconds = time.monotonic() - started
    return result


def _sync_branch(
    db: Database,
    repo: GitRepo,
    repo_id: int,
    head: str,
    state: SyncState,
    resolver: IdentityResolver,
    since: str | None,
    until: str | None,
    full: bool,
    progress: Progress | None,
    batch_size: int,
) -> tuple[int, str]:
    """One branch: walk from the last synced head (or the whole history), store what is new."""
    report = progress or _no_progress
    filtered = bool(since or until)
    exclude = []
    if not full and state.status == "complete" and state.head and repo.has_commit(state.head):
        exclude = [state.head]
    if state.status != "complete":
        state.status = "running"
    state.target = head
    with transaction(db):
        save_state(db, state)
    stream: Iterator[CommitRecord]
    todo: list[str] = []
    first = not has_commits(db, repo_id)
    if first:
        # First sync: one streaming walk, no set difference needed; counting costs a second walk,
        # so only when someone watches a progress bar.
        if progress is not None and getattr(progress, "shown", True):
            progress(0, repo.count(head, exclude, since=since, until=until))
        stream = repo.log(head, exclude, since=since, until=until)
    else:
        candidates = repo.rev_list(head, exclude, since=since, until=until)
        have = stored_shas(db, repo_id, candidates)
        todo = [sha for sha in candidates if sha not in have]
        report(0, len(todo))
        stream = repo.log(shas=todo) if todo else iter(())
    added = save_commits(db, repo_id, stream, resolver.person_for, state, report, batch_size)
    with transaction(db):
        if not filtered:
            state.status = "complete"
            state.head = head
            state.last_success_at = now_iso()
        save_state(db, state)
    how = "first walk" if first else f"{len(todo):,} not yet stored"
    since_what = f"since {exclude[0][:10]}" if exclude else "whole history"
    return added, f"{added:,} new up to {head[:10]} ({since_what}, {how})"
