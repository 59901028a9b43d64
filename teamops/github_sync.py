"""Commit sync from GitHub: GraphQL history pages, each stored with the cursor that continues it."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from teamops.errors import ServiceError
from teamops.identities import IdentityResolver
from teamops.integrations.git_local import GitRepo
from teamops.integrations.github_events import PushEvent
from teamops.records import CommitRecord
from teamops.store.database import now_iso, transaction
from teamops.store.sync_state import SyncState, load_state, save_state
from teamops.sync import (
    Progress,
    SyncResult,
    _no_progress,
    _write_batch,
    commit_row,
    ensure_repo,
    save_commits,
    stored_shas,
)

if TYPE_CHECKING:
    from sqlite_utils import Database

    from teamops.integrations.github import GitHubClient

MAX_ROOT_ROUNDS = 1000


def github_repo_id(db: Database, full_name: str) -> int:
    """The repos row of owner/name, shared with a local clone whose origin is on github.com."""
    return ensure_repo(db, f"github:{full_name.lower()}", full_name, "github", github=full_name)


def iso_to_utc(value: str) -> tuple[str, int]:
    """GitHub's ISO times (with offset or Z) as stored: UTC with Z, and the offset in minutes."""
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    offset = moment.utcoffset()
    minutes = int(offset.total_seconds() // 60) if offset is not None else 0
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(moment.timestamp())), minutes


def node_to_record(node: dict[str, Any]) -> CommitRecord:
    """A GraphQL Commit node as a CommitRecord; merges keep no line counts, like git's."""
    author = node.get("author") or {}
    user = author.get("user") or {}
    parents_obj = node.get("parents") or {}
    parents = [p["oid"] for p in parents_obj.get("nodes") or []]
    authored_at, offset = iso_to_utc(node.get("authoredDate") or node["committedDate"])
    committed_at, _ = iso_to_utc(node["committedDate"])
    return CommitRecord(
        sha=node["oid"],
        parents=parents,
        author_name=author.get("name") or "",
        author_email=(author.get("email") or "").lower(),
        authored_at=authored_at,
        author_tz_offset=offset,
        committed_at=committed_at,
        message=(node.get("message") or "").rstrip("\n"),
        author_login=user.get("login"),
        additions_total=node.get("additions"),
        deletions_total=node.get("deletions"),
        files_total=node.get("changedFilesIfAvailable"),
        files_known=False,
    )


def missing_parents(db: Database, repo_id: int) -> list[str]:
    """Parents of stored commits that are not stored: where an incremental walk stopped too early."""
    have: set[str] = set()
    wanted: set[str] = set()
    for sha, parents in db.execute("SELECT sha, parents FROM commits WHERE repo_id = ?", [repo_id]):
        have.add(sha)
        if parents:
            wanted.update(parents.split())
    return sorted(wanted - have)


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
    report = progress or _no_progress
    first_request = client.requests
    repo_id = github_repo_id(db, full_name)
    result = SyncResult(repo=full_name)
    if not branches:
        stored = db.execute("SELECT default_branch FROM repos WHERE id = ?", [repo_id]).fetchone()[0]
        if not stored:
            stored = client.default_branch(full_name)
            with transaction(db):
                db.execute("UPDATE repos SET default_branch = ? WHERE id = ?", [stored, repo_id])
        branches = [stored]
    filtered = bool(since or until)
    resolver = IdentityResolver.load(db)
    for branch in branches:
        source = f"github:{repo_id}:{branch}"
        state = load_state(db, source)
        settled = state.status == "complete" and not full and not filtered
        try:
            head, etag = client.branch_head(full_name, branch, state.etag if settled else None)
        finally:
            _record_requests(db, state, client)
        result.branches.append(branch)
        if head is None or (settled and head == state.head):
            result.details.append(f"{branch}: unchanged since the last sync")
            continue
        result.unchanged = False
        if state.status == "running" and state.target and state.details.get("roots"):
            roots: list[list[Any]] = list(state.details["roots"])
            if head != state.target:
                roots.insert(0, [head, None])
            how = "resumed an interrupted walk"
        else:
            roots = [[head, None]]
            how = "full walk" if full else "walk to the first stored commit"
        state.status = "running"
        state.target = head
        state.details = {"roots": roots}
        with transaction(db):
            save_state(db, state)
        added = _walk(db, client, full_name, repo_id, state, resolver, since, until, full, filtered, report)
        result.new += added
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
        result.details.append(f"{branch}: {added:,} new up to {head[:10]} ({how})")
    result.requests = client.requests - first_request
    result.rate_limit_remaining = client.rate_remaining
    result.seconds = time.monotonic() - started
    return result


def _walk(
    db: Database,
    client: GitHubClient,
    full_name: str,
    repo_id: int,
    state: SyncState,
    resolver: IdentityResolver,
    since: str | None,
    until: str | None,
    full: bool,
    filtered: bool,
    report: Progress,
) -> int:
    """Walk every root, page by page; afterwards, walk from any parent that is still missing."""
    added = 0
    roots: list[list[Any]] = state.details["roots"]
    for _ in range(MAX_ROOT_ROUNDS):
        while roots:
            oid, cursor = roots[0]
            stopped = False
            for page in client.history(full_name, oid, cursor, since, until):
                oids = [n["oid"] for n in page.nodes]
                known = set() if full else stored_shas(db, repo_id, oids)
                fresh: list[CommitRecord] = []
                for node in page.nodes:
                    if node["oid"] in known:
                        stopped = True
                        break
                    fresh.append(node_to_record(node))
                done = stopped or not page.has_next
                if done:
                    roots.pop(0)
                else:
                    roots[0] = [oid, page.end_cursor]
                state.details = {"roots": roots}
                rows = [
                    commit_row(repo_id, c, resolver.person_for(c.author_email, c.author_login, c.author_name))
                    for c in fresh
                ]
                if rows:
                    _write_batch(db, rows, state)
                else:
                    with transaction(db):
                        save_state(db, state)
                added += len(rows)
                report(len(rows), None)
                if done:
                    break
            else:
                if roots and roots[0][0] == oid:
                    roots.pop(0)
        if filtered:
            return added
        missing = missing_parents(db, repo_id)
        if not missing:
            return added
        roots.extend([m, None] for m in missing)
    raise ServiceError(f"the history of {full_name} did not close after {MAX_ROOT_ROUNDS} rounds")


def _record_requests(db: Database, state: SyncState, client: GitHubClient) -> None:
    state.rate_limit_remaining = client.rate_remaining
    with transaction(db):
        save_state(db, state)


@dataclass
class EventResult:
    """What ingesting one push event did, for the summary line."""

    repo: str
    ref: str
    stored: int = 0
    from_checkout: int = 0
    from_api: int = 0
    counts_missing: int = 0
    skipped_not_distinct: int = 0
    note: str = ""
    requests: int = 0


def ingest_push(
    db: Database,
    event: PushEvent,
    checkout: GitRepo | None = None,
    client: GitHubClient | None = None,
) -> EventResult:
    """Store a push's commits; line counts from the checkout, else the API, else marked missing."""
    result = EventResult(repo=event.repo, ref=event.ref, skipped_not_distinct=event.skipped_not_distinct)
    if event.deleted:
        result.note = "a branch or tag deletion carries no commits"
        return result
    if event.is_tag:
        result.note = "a tag push carries no commits"
        return result
    records = {c.sha: c for c in event.commits}
    if checkout is not None and records:
        present = checkout.present(list(records))
        for local in checkout.log(shas=[sha for sha in records if sha in present]):
            local.author_login = records[local.sha].author_login
            records[local.sha] = local
            result.from_checkout += 1
    remaining = [sha for sha, rec in records.items() if rec.stats_missing]
    if client is not None and remaining:
        before = client.requests
        nodes = client.commits_by_oid(event.repo, remaining)
        result.requests = client.requests - before
        for sha, node in nodes.items():
            records[sha] = node_to_record(node)
            result.from_api += 1
    result.counts_missing = sum(1 for rec in records.values() if rec.stats_missing)
    repo_id = github_repo_id(db, event.repo)
    result.stored = save_commits(db, repo_id, list(records.values()))
    return result


def commit_diff(db: Database, repo_id: int, sha: str, client_factory: Any = None) -> list[tuple[str, str]]:
    """A commit's (path, patch) pairs for estimators: `git show` for clones, REST for GitHub.

    Diffs are read when needed and never stored whole in the database.
    """
    from teamops.integrations.git_local import GitRepo

    path, github = db.execute("SELECT path, github FROM repos WHERE id = ?", [repo_id]).fetchone()
    if path and Path(path).exists():
        repo = GitRepo.open(Path(path))
        if repo.present([sha]):
            return repo.show_files(sha)
    if github and client_factory is not None:
        client = client_factory()
        return [(f.get("filename", ""), f.get("patch") or "") for f in client.commit_files(github, sha)]
    raise ServiceError(f"no source for the diff of {sha[:10]}: no local clone has it and GitHub is not configured")
