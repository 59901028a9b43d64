"""Commits of a local clone: one streaming `git log` per branch, in batches committed with their cursor."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from teamops.clock import now_iso
from teamops.errors import InvalidInput
from teamops.integrations.git_local import GitRepo
from teamops.people.identities import IdentityResolver
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


Hosted = Callable[[GitRepo], "tuple[str, str] | None"]


def local_repo_row(db: Database, repo: GitRepo, name: str | None = None, host: Hosted | None = None) -> tuple[int, str]:
    """The repos row of a clone: shared with its service's sync when `origin` points at one (`host`: the
    service's kind and locator from the clone's remote, asked only when the clone is new here)."""
    path = str(repo.root)
    found = repo_by_path(db, path)
    if found:
        return found
    hosted = host(repo) if host else None
    if hosted:
        kind, locator = hosted
        key, display = f"{kind}:{locator.lower()}", locator
    else:
        key, display, kind, locator = f"git:{path}", name or repo.root.name, "git", path
    return save_repo(db, key, display, kind, locator, path=path), display


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
    releases: re.Pattern[str] | None = None,
    host: Hosted | None = None,
) -> SyncResult:
    """Pull new commits of a local clone; unchanged branches cost one `git rev-parse`.

    With `releases` (the release tag pattern), commits only release tags reach (a version bump on a
    release branch, a fix on a maintenance line) are stored too: they shipped.

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
    repo_id, display = local_repo_row(db, repo, name, host)
    result = SyncResult(repo=display, repo_id=repo_id)
    filtered = bool(since or until)
    resolver = IdentityResolver.load(db)
    heads: list[str] = []
    # A first walk takes the release tags along: one traversal of the history instead of two.
    folded = (
        release_tips(repo, releases) if releases is not None and not filtered and not has_commits(db, repo_id) else []
    )
    handed = list(folded)
    for branch in branches or [repo.current_branch()]:
        head = repo.resolve(branch)
        if head is None:
            if branches and repo.resolve("HEAD") is not None:
                raise InvalidInput(f"branch {branch!r} not found in {repo.root}")
            continue  # an empty repository: nothing to do, and that is fine
        result.branches.append(branch)
        heads.append(head)
        state = load_state(db, f"git:{repo_id}:{branch}")
        if not full and not filtered and state.status == "complete" and state.head == head:
            result.details.append(f"{branch}: head {head[:10]} unchanged since the last sync")
            continue
        result.unchanged = False
        added, detail = _sync_branch(
            db, repo, repo_id, head, state, resolver, since, until, full, progress, batch_size, handed
        )
        handed = []
        result.new += added
        result.details.append(f"{branch}: {detail}")
    if releases is not None and heads:
        released = _sync_released(db, repo, repo_id, heads, releases, resolver, since, until, full, progress, folded)
        if released is not None:
            result.unchanged = result.unchanged and released[0] == 0
            result.new += released[0]
            result.details.append(released[1])
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
    tips: list[str],
) -> tuple[int, str]:
    """One branch: walk from the last synced head (or the whole history, with the release `tips` along),
    store what is new."""
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
    first = not has_commits(db, repo_id)
    # One `git rev-list` names the commits to read (and counts them for the progress bar); on a first
    # walk all of them are new, otherwise only those not stored yet.
    if tips:
        todo = repo.rev_list_many([head, *tips], exclude, since=since, until=until)
    else:
        todo = repo.rev_list(head, exclude, since=since, until=until)
    if not first:
        have = stored_shas(db, repo_id, todo)
        todo = [sha for sha in todo if sha not in have]
    report(0, len(todo))
    stream: Iterator[CommitRecord] = repo.log(shas=todo)
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


def release_tips(repo: GitRepo, pattern: re.Pattern[str]) -> list[str]:
    """The commits the release tags (names matching `[dora] tag_pattern`) point at."""
    return sorted({sha for name, sha, _ in repo.release_tags() if pattern.search(name)})


def _sync_released(
    db: Database,
    repo: GitRepo,
    repo_id: int,
    heads: list[str],
    pattern: re.Pattern[str],
    resolver: IdentityResolver,
    since: str | None,
    until: str | None,
    full: bool,
    progress: Progress | None,
    folded: list[str],
) -> tuple[int, str] | None:
    """Commits new release tags reach and neither the synced branches nor the tags handled before do.

    None when there is nothing new: no git call at all while the tag refs are untouched, and no walk
    while no tag is new (a tag handled before, or `folded` into this sync's first walk, is not walked
    again).
    """
    state = load_state(db, f"git:{repo_id}:releases")
    filtered = bool(since or until)
    stamp = repo.tag_refs_stamp()
    seen = f"{stamp}:{pattern.pattern}:{' '.join(sorted(heads))}" if stamp else None
    if not full and not filtered and state.status == "complete" and seen is not None and state.target == seen:
        return None  # neither the tags nor the branches moved: not even a git call
    tips = release_tips(repo, pattern)
    handled = set(folded) | (set() if full else set(state.details.get("tips") or []))
    new = [sha for sha in tips if sha not in handled]
    old = [sha for sha in tips if sha in handled]  # still tagged, so still there to exclude
    added = 0
    if new:
        todo = repo.rev_list_many(new, [*heads, *old], since=since, until=until)
        have = stored_shas(db, repo_id, todo)
        todo = [sha for sha in todo if sha not in have]
        (progress or _no_progress)(0, len(todo))
        added = save_commits(db, repo_id, repo.log(shas=todo), resolver.person_for, state, progress or _no_progress)
    with transaction(db):
        if not filtered:
            state.status, state.target, state.last_success_at = "complete", seen, now_iso()
            state.details = {"tips": tips}
        save_state(db, state)
    if not new:
        return None
    return added, f"release tags: {count(added, 'new commit')} that no synced branch reaches"
