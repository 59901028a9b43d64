"""Commits of a GitHub repository: GraphQL history pages, each stored with the cursor that continues it."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from teamops.clock import now_iso
from teamops.errors import ServiceError
from teamops.people.identities import IdentityResolver
from teamops.records import CommitRecord
from teamops.sources.github.client import node_to_record
from teamops.store.commits import (
    commit_row,
    default_branch,
    missing_parents,
    save_commit_rows,
    save_default_branch,
    save_repo,
    stored_shas,
)
from teamops.store.database import transaction
from teamops.store.sync_state import SyncState, load_state, save_state
from teamops.sync.result import SyncResult

if TYPE_CHECKING:
    from sqlite_utils import Database

    from teamops.sources.github.client import GitHubClient, HistoryPage

MAX_ROOT_ROUNDS = 1000
Progress = Callable[[int, int | None], None]


def _no_progress(advance: int, total: int | None) -> None:
    return None


def github_repo_id(db: Database, full_name: str) -> int:
    """The repos row of owner/name, shared with a local clone whose origin is on github.com."""
    return save_repo(db, f"github:{full_name.lower()}", full_name, "github", full_name)


@dataclass
class _Walk:
    """What one branch's walk needs: where, with which client, mapping authors how, in what range."""

    db: Database
    client: GitHubClient
    full_name: str
    repo_id: int
    resolver: IdentityResolver
    since: str | None
    until: str | None
    full: bool
    report: Progress


def sync_github_repo(
    db: Database,
    client: GitHubClient,
    full_name: str,
    branches: list[str] | None = None,
    *,
    since: str | None = None,
    until: str | None = None,
    full: bool = False,
    progress: Progress | None = None,
) -> SyncResult:
    """Pull new commits of a GitHub repository; an unchanged branch costs one conditional request."""
    started = time.monotonic()
    first_request = client.requests
    repo_id = github_repo_id(db, full_name)
    result = SyncResult(repo=full_name, repo_id=repo_id)
    if not branches:
        known = default_branch(db, repo_id)
        if not known:
            known = client.default_branch(full_name)
            save_default_branch(db, repo_id, known)
        branches = [known]
    walk = _Walk(
        db,
        client,
        full_name,
        repo_id,
        IdentityResolver.load(db, "github"),
        since,
        until,
        full,
        progress or _no_progress,
    )
    for branch in branches:
        result.branches.append(branch)
        detail = _sync_branch(walk, branch, first_request)
        if detail is None:
            result.details.append(f"{branch}: unchanged since the last sync")
            continue
        added, text = detail
        result.unchanged = False
        result.new += added
        result.details.append(f"{branch}: {text}")
    result.requests = client.requests - first_request
    result.rate_limit_remaining = client.rate_remaining
    result.seconds = time.monotonic() - started
    return result


def _sync_branch(walk: _Walk, branch: str, first_request: int) -> tuple[int, str] | None:
    """One branch: None when its head is unchanged (a free 304), else the commits added and how."""
    db, client = walk.db, walk.client
    filtered = bool(walk.since or walk.until)
    state = load_state(db, f"github:{walk.repo_id}:{branch}")
    settled = state.status == "complete" and not walk.full and not filtered
    try:
        head, etag = client.branch_head(walk.full_name, branch, state.etag if settled else None)
    finally:
        state.rate_limit_remaining = client.rate_remaining
        with transaction(db):
            save_state(db, state)
    if head is None or (settled and head == state.head):
        return None
    if state.status == "running" and state.target and state.details.get("roots"):
        roots: list[list[Any]] = list(state.details["roots"])
        if head != state.target:
            roots.insert(0, [head, None])
        how = "resumed an interrupted walk"
    else:
        roots = [[head, None]]
        how = "full walk" if walk.full else "walk to the first stored commit"
    state.status = "running"
    state.target = head
    state.details = {"roots": roots}
    with transaction(db):
        save_state(db, state)
    added = _walk_roots(walk, state, filtered)
    with transaction(db):
        if not filtered:
            state.status = "complete"
            state.head = head
            state.etag = etag
            state.last_success_at = now_iso()
        state.details = {}
        state.requests_used = client.requests - first_request
        state.rate_limit_remaining = client.rate_remaining
        save_state(db, state)
    return added, f"{added:,} new up to {head[:10]} ({how})"


def _walk_roots(walk: _Walk, state: SyncState, filtered: bool) -> int:
    """Walk every root, page by page; afterwards, walk from any parent that is still missing."""
    added = 0
    roots: list[list[Any]] = state.details["roots"]
    for _ in range(MAX_ROOT_ROUNDS):
        while roots:
            added += _walk_root(walk, state, roots)
        if filtered:
            return added
        missing = missing_parents(walk.db, walk.repo_id)
        if not missing:
            return added
        roots.extend([m, None] for m in missing)
    raise ServiceError(f"the history of {walk.full_name} did not close after {MAX_ROOT_ROUNDS} rounds")


def _walk_root(walk: _Walk, state: SyncState, roots: list[list[Any]]) -> int:
    """The first root, until a stored commit or the end of its history; each page lands with its cursor."""
    oid, cursor = roots[0]
    added = 0
    for page in walk.client.history(walk.full_name, oid, cursor, walk.since, walk.until):
        fresh, stopped = _fresh_nodes(walk, page)
        done = stopped or not page.has_next
        if done:
            roots.pop(0)
        else:
            roots[0] = [oid, page.end_cursor]
        state.details = {"roots": roots}
        person_for = walk.resolver.person_for
        rows = [commit_row(walk.repo_id, c, person_for(c.author_email, c.author_login, c.author_name)) for c in fresh]
        save_commit_rows(walk.db, rows, state)
        added += len(rows)
        walk.report(len(rows), None)
        if done:
            return added
    if roots and roots[0][0] == oid:
        roots.pop(0)
    return added


def _fresh_nodes(walk: _Walk, page: HistoryPage) -> tuple[list[CommitRecord], bool]:
    """A page's commits up to the first one already stored (unless --full), and whether it stopped there."""
    known = set() if walk.full else stored_shas(walk.db, walk.repo_id, [n["oid"] for n in page.nodes])
    fresh: list[CommitRecord] = []
    for node in page.nodes:
        if node["oid"] in known:
            return fresh, True
        fresh.append(node_to_record(node))
    return fresh, False
