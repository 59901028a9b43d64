"""One GitLab project into the store: commits (unless a clone of it is synced), merge requests with their
notes, deployments (or releases, when the project deploys to no environment). Each stream resumes from the
cursor saved with the last page it stored, and a run that finds nothing new costs one request per stream."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from teamops.errors import Refused
from teamops.sources import Progress, SyncOptions, Target
from teamops.sources.gitlab.client import project_path
from teamops.sources.gitlab.records import Deployment, commit, deployment, merge_request, read_notes, text
from teamops.store.commits import (
    commit_row,
    default_branch,
    mark_missing,
    missing_parents,
    repo_source,
    save_commit_rows,
    save_default_branch,
    save_repo,
    stored_shas,
)
from teamops.store.database import transaction
from teamops.store.sync_state import load_state, save_state
from teamops.sync.result import SyncResult

if TYPE_CHECKING:
    from sqlite_utils import Database

    from teamops.delivery.commit_graph import CommitGraph
    from teamops.sources.gitlab import GitLabSource
    from teamops.sources.gitlab.client import GitLabClient
    from teamops.sync.deployments import DeploymentSync

MAX_ROOT_ROUNDS = 1000
BRANCH_LIMIT = 500  # commits kept per merge request read from the history


def project_repo_id(db: Database, locator: str) -> int:
    """The repos row of a project, shared with a clone whose `origin` is that project."""
    return save_repo(db, f"gitlab:{locator.lower()}", locator, "gitlab", locator)


def sync_project(
    db: Database, source: GitLabSource, target: Target, opts: SyncOptions, progress: Progress | None
) -> SyncResult:
    """Every stream of one project; a project GitLab no longer shows is marked missing."""
    started = time.monotonic()
    client = source.client()
    first = client.requests
    repo_id = project_repo_id(db, target.locator)
    result = SyncResult(repo=target.locator, repo_id=repo_id)
    if target.default_branch and not target.branches:
        save_default_branch(db, repo_id, target.default_branch, only_if_unknown=True)
    try:
        _commits(db, client, target, repo_id, opts, progress or (lambda n, t: None), result)
        graph = functools.cache(lambda: _graph(db, repo_id))
        if source.settings_.merge_requests:
            saved = sync_merge_requests(db, client, target.locator, repo_id, graph)
            if saved:
                result.pulls = saved
                result.details.append(f"merge requests of {target.locator}: {saved} new or updated")
        environment = source.settings_.environment or opts.cfg.dora.environment
        delivered = sync_deployments(db, client, target.locator, repo_id, environment)
        if delivered is not None:
            result.deployments = delivered.added + delivered.changed
            result.details.append(delivered.line(target.locator))
    except Refused as exc:
        mark_missing(db, [repo_id], exc.message)
        raise
    result.requests = client.requests - first
    result.rate_limit_remaining = client.rate_remaining
    result.seconds = time.monotonic() - started
    return result


def _graph(db: Database, repo_id: int) -> CommitGraph:
    from teamops.delivery.commit_graph import CommitGraph

    return CommitGraph.stored(db, repo_id)


def _commits(
    db: Database,
    client: GitLabClient,
    target: Target,
    repo_id: int,
    opts: SyncOptions,
    report: Progress,
    result: SyncResult,
) -> None:
    """Each branch walked newest first (topological order) to the first stored commit, then from any parent
    still missing; a branch whose newest commit is the one stored costs one request."""
    clone = repo_source(db, repo_id)[2]
    if clone:
        result.details.append(f"commits: from the clone at {clone}")
        return
    from teamops.people.identities import IdentityResolver

    branches = target.branches or [_default_branch(db, client, target.locator, repo_id)]
    person_for = IdentityResolver.load(db, "gitlab").person_for
    filtered = bool(opts.since or opts.until)
    path = f"{project_path(target.locator)}/repository/commits"
    for branch in branches:
        result.branches.append(branch)
        state = load_state(db, f"gitlab:{repo_id}:{branch}")
        settled = state.status == "complete" and not opts.full and not filtered
        resumed = state.status == "running" and bool(state.details.get("roots"))
        roots: list[list[Any]] = list(state.details["roots"]) if resumed else [[branch, 1]]
        head, added, unchanged = state.head, 0, False
        for _ in range(MAX_ROOT_ROUNDS):
            while roots:
                ref, page = roots[0]
                params: dict[str, Any] = {"ref_name": ref, "with_stats": "true", "order": "topo", "page": page}
                params |= {k: v for k, v in (("since", opts.since), ("until", opts.until)) if v}
                for data in client.pages(path, params, f"the commits of {target.locator}"):
                    records = [r for r in map(commit, data) if r is not None]
                    if ref == branch and page == 1 and records:
                        if settled and records[0].sha == state.head:
                            unchanged = True
                            break
                        head = records[0].sha
                    known = set() if opts.full else stored_shas(db, repo_id, [r.sha for r in records])
                    fresh = []
                    for r in records:
                        if r.sha in known:
                            break
                        fresh.append(r)
                    page += 1
                    stopped = len(fresh) < len(records)
                    roots[0] = [ref, page]
                    state.status = "running"
                    state.details = {"roots": roots[1:] if stopped else roots}
                    rows = [commit_row(repo_id, c, person_for(c.author_email, None, c.author_name)) for c in fresh]
                    save_commit_rows(db, rows, state)  # the page lands with the cursor after it
                    added += len(rows)
                    report(len(rows), None)
                    if stopped:
                        break
                roots.pop(0)
            missing = [] if (filtered or unchanged) else missing_parents(db, repo_id)
            if not missing:
                break
            roots = [[m, 1] for m in missing]
        with transaction(db):
            if not filtered:
                state.status, state.head = "complete", head
            state.details = {}
            save_state(db, state)
        if added:
            result.unchanged = False
            result.new += added
            result.details.append(f"{branch}: {added:,} new up to {(head or '')[:10]}")
        else:
            result.details.append(f"{branch}: unchanged since the last sync")


def _default_branch(db: Database, client: GitLabClient, locator: str, repo_id: int) -> str:
    known = default_branch(db, repo_id)
    if known:
        return known
    project = client.get(project_path(locator), None, f"the project {locator}")
    branch = text(project.get("default_branch") if isinstance(project, dict) else None)
    if not branch:
        raise Refused(f"GitLab project {locator} has no default branch (an empty repository)")
    save_default_branch(db, repo_id, branch)
    return branch


def sync_merge_requests(
    db: Database, client: GitLabClient, locator: str, repo_id: int, graph: Callable[[], CommitGraph]
) -> int:
    """Merge requests updated since the last run, oldest update first, each with its notes; a page lands
    with the cursor after it. The commits of a merged one come from the stored history when it was merged
    with a merge commit, else from GitLab."""
    from teamops.store.pulls import save_pulls, stored_updates

    state = load_state(db, f"gitlab:{repo_id}:~merge-requests")  # `~` is in no branch name
    params = {"scope": "all", "state": "all", "order_by": "updated_at", "sort": "asc"}
    if state.cursor:
        params["updated_after"] = state.cursor
    saved = 0
    base = f"{project_path(locator)}/merge_requests"
    for page in client.pages(base, params, f"the merge requests of {locator}"):
        listed = [m for m in page if isinstance(m, dict) and isinstance(m.get("iid"), int)]
        seen = stored_updates(db, repo_id, [m["iid"] for m in listed])
        records = []
        for raw in listed:
            if seen.get(raw["iid"]) == text(raw.get("updated_at")):
                continue  # the request at the cursor again, unchanged
            author = text((raw.get("author") or {}).get("username")) if isinstance(raw.get("author"), dict) else None
            notes = _all(client, f"{base}/{raw['iid']}/notes", {"sort": "asc", "order_by": "created_at"}, "notes")
            record = merge_request(raw, read_notes(notes, author), _commits_of(client, base, raw, graph))
            if record is not None:
                records.append(record)
        if listed:
            state.cursor = max(str(m.get("updated_at") or "") for m in listed) or state.cursor
        state.status = "complete"
        save_pulls(db, repo_id, records, state)
        saved += len(records)
    return saved


def _commits_of(
    client: GitLabClient, base: str, raw: dict[str, Any], graph: Callable[[], CommitGraph]
) -> list[str] | None:
    """A merged request's commits, oldest first: what its merge commit brought, else GitLab's list."""
    if raw.get("state") != "merged":
        return None
    merge = text(raw.get("merge_commit_sha"))
    if merge and (brought := graph().brought_by(merge, BRANCH_LIMIT)):
        return list(reversed(brought))
    listed = _all(client, f"{base}/{raw['iid']}/commits", None, "commits of a merge request")
    return [str(c["id"]) for c in reversed(listed) if isinstance(c, dict) and isinstance(c.get("id"), str)]


def _all(client: GitLabClient, path: str, params: dict[str, Any] | None, what: str) -> list[Any]:
    found: list[Any] = []
    for page in client.pages(path, params, what):
        found += page
    return found


def sync_deployments(
    db: Database, client: GitLabClient, locator: str, repo_id: int, environment: str
) -> DeploymentSync | None:
    """Deployments to the production environment updated since the last run (a redeploy is a deployment of
    its own, a failed one is a failure); without any, the project's releases. None when nothing changed."""
    from teamops.store.deployments import save_deployment
    from teamops.sync.deployments import DeploymentSync, link_commits, stored_parents, utc

    state = load_state(db, f"gitlab:{repo_id}:~deployments")
    params = {"environment": environment, "order_by": "updated_at", "sort": "asc"}
    if state.cursor:
        params["updated_after"] = state.cursor
    found: list[Deployment] = []
    for page in client.pages(f"{project_path(locator)}/deployments", params, f"the deployments of {locator}"):
        found += [d for d in map(deployment, page) if d is not None]
    releases: list[tuple[str, str, str]] = []
    if not found and not state.details.get("environment_used"):
        releases = _releases(client, locator, state.details.get("release_tags") or [])
    if not found and not releases:
        return None
    result = DeploymentSync()
    pending = [d.updated_at for d in found if d.status == "pending"]
    with transaction(db):
        for d in found:
            if d.status != "pending":
                outcome = save_deployment(
                    db, repo_id, f"deployment {d.id}", d.sha, environment, utc(d.at), d.status, "deployment"
                )
                if outcome != "same":
                    setattr(result, outcome, getattr(result, outcome) + 1)
        for tag, sha, at in releases:
            outcome = save_deployment(db, repo_id, tag, sha, environment, utc(at), "success", "release")
            if outcome != "same":
                setattr(result, outcome, getattr(result, outcome) + 1)
        if found:
            state.details["environment_used"] = True
            latest = max(d.updated_at for d in found)
            state.cursor = min(pending) if pending else latest  # one still under way is read again
        if releases:
            state.details["release_tags"] = sorted(
                {*(state.details.get("release_tags") or []), *(t for t, _, _ in releases)}
            )
        state.status = "complete"
        save_state(db, state)
    if not (result.added or result.changed):
        return None
    link_commits(db, repo_id, stored_parents(db, repo_id), result)
    return result


def _releases(client: GitLabClient, locator: str, known: list[str]) -> list[tuple[str, str, str]]:
    """(tag, sha, released at) of releases not yet stored, newest first until a stored one; upcoming ones left out."""
    seen = set(known)
    found: list[tuple[str, str, str]] = []
    params = {"order_by": "released_at", "sort": "desc"}
    for page in client.pages(f"{project_path(locator)}/releases", params, f"the releases of {locator}"):
        for raw in page:
            if not isinstance(raw, dict):
                continue
            tag = text(raw.get("tag_name"))
            sha = text((raw.get("commit") or {}).get("id")) if isinstance(raw.get("commit"), dict) else None
            at = text(raw.get("released_at")) or text(raw.get("created_at"))
            if tag in seen:
                return found
            if tag and sha and at and raw.get("upcoming_release") is not True:
                found.append((tag, sha, at))
    return found
