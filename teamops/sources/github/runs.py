"""GitHub Actions runs of the deploy workflows as production deployments (`[dora] deploy_workflows`).

A completed run on the production branch is one: `success` ships, `failure`, `timed_out` and
`startup_failure` are failed attempts (nothing reached production: no deployment), `cancelled` and
`skipped` are nothing. A run keeps its id through re-runs, so it counts once, as its last attempt ended.
A first sync reads the listing unfiltered (GitHub caps a filtered listing at 1,000 runs, not the whole
one); later ones filter by `created`, and a window that holds more than 1,000 is split in two until each
half holds fewer. A later sync re-reads the runs created in the last 30 days (re-runs are
allowed that long) and since the oldest run still under way, asking first with the listing's ETag: an
unchanged listing is a free 304.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any

from teamops.clock import now_iso
from teamops.dates import parse_iso
from teamops.sources.github.events import reads
from teamops.store.database import transaction
from teamops.store.deployments import remove_deployment, save_deployment, without_twins
from teamops.store.sync_state import load_state, save_state
from teamops.sync.deployments import DeploymentSync, _count, link_commits, stored_parents, utc

if TYPE_CHECKING:
    from sqlite_utils import Database

    from teamops.config import Config
    from teamops.sources import EventOutcome
    from teamops.sources.github.client import GitHubClient

SHIPPED = "success"
FAILED_ATTEMPTS = ("failure", "timed_out", "startup_failure")
LISTED_AT_MOST = 1000  # GitHub's cap on the results of a filtered listing
RERUN_DAYS = 30  # how long after it began GitHub lets a run be re-run
SOURCE = "workflow"  # the deployments' source: one row per run, named "run <id>" (deliveries name it too)
FIRST = "2008-01-01T00:00:00Z"  # before any GitHub repository


@dataclass
class Run:
    """A workflow run as the deployment it is (or is not, or is not yet)."""

    id: int
    sha: str
    conclusion: str  # "" while it is under way
    at: str  # when its last attempt ended (updated_at)
    created: str
    attempt: int

    @property
    def done(self) -> bool:
        return bool(self.conclusion)


def run_of(raw: Any) -> Run | None:
    """A run of the listing, checked field by field; None for one that cannot be read."""
    if not isinstance(raw, dict):
        return None
    rid, sha, at, created = raw.get("id"), raw.get("head_sha"), raw.get("updated_at"), raw.get("created_at")
    if not isinstance(rid, int) or not isinstance(sha, str) or len(sha) != 40:
        return None
    if not isinstance(at, str) or not isinstance(created, str):
        return None
    attempt = raw.get("run_attempt")
    done = raw.get("status") == "completed" and isinstance(raw.get("conclusion"), str)
    conclusion = str(raw["conclusion"]) if done else ""
    return Run(rid, sha, conclusion, at, created, attempt if isinstance(attempt, int) else 1)


Workflow = tuple[str, str]  # its file (deploy-api.yml) and its name (Deploy api), as a deployment keeps them


def workflow_of(raw: Any) -> Workflow:
    """A workflow's file name and name, from the workflows listing or an event's `workflow`."""
    given = raw if isinstance(raw, dict) else {}
    file = PurePosixPath(str(given.get("path") or "").split("@", 1)[0]).name
    return file[:200], str(given.get("name") or file)[:200]


def deploy_workflows(client: GitHubClient, repo: str, patterns: list[str]) -> list[tuple[int, Workflow]]:
    """(id, (file, name)) of the repository's workflows whose file name or name matches one of the globs."""
    return [
        (int(w["id"]), workflow_of(w))
        for page in client.rest_pages(f"/repos/{repo}/actions/workflows", {}, f"the workflows of {repo}", "workflows")
        for w in page
        if isinstance(w, dict) and isinstance(w.get("id"), int) and is_deploy_workflow(w, patterns)
    ]


def is_deploy_workflow(workflow: Any, patterns: list[str]) -> bool:
    """Whether a workflow's file name (`deploy.yml`) or name (`Deploy`) matches one of the globs."""
    if not isinstance(workflow, dict):
        return False
    name, path = str(workflow.get("name") or ""), PurePosixPath(str(workflow.get("path") or "")).name
    return any((path and fnmatch.fnmatchcase(path, g)) or (name and fnmatch.fnmatchcase(name, g)) for g in patterns)


def _window(branch: str, lo: str) -> dict[str, Any]:
    """The question a later sync asks: the whole window (not its first run only), since a re-run of an older
    run changes it too."""
    return {"branch": branch, "created": f">={lo}", "per_page": 100}


def _monday(moment: datetime) -> str:
    return _stamp((moment - timedelta(days=moment.weekday())).replace(hour=0, minute=0, second=0, microsecond=0))


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def every_run(client: GitHubClient, repo: str, workflow: int, branch: str) -> list[Run]:
    """Every run of a workflow on the branch, for a first sync: the listing without filters (GitHub caps only a
    filtered one at 1,000), 100 a page, the branch kept here."""
    path = f"/repos/{repo}/actions/workflows/{workflow}/runs"
    return [
        r
        for page in client.rest_pages(path, {}, f"the runs of {repo}", "workflow_runs")
        for raw in page
        if (r := run_of(raw)) is not None and raw.get("head_branch") == branch
    ]


def runs_between(client: GitHubClient, repo: str, workflow: int, branch: str, lo: str, hi: str) -> list[Run]:
    """The runs created in [lo, hi], every one: a window GitHub would cut at 1,000 is split."""
    path = f"/repos/{repo}/actions/workflows/{workflow}/runs"
    base = {"branch": branch, "created": f"{lo}..{hi}", "per_page": 100}
    runs: list[Run] = []
    page = 1
    while True:
        _, _, answer = client.request("GET", path, params={**base, "page": page}, what=f"the runs of {repo}")
        data: dict[str, Any] = answer if isinstance(answer, dict) else {}
        count = data.get("total_count")
        total = count if isinstance(count, int) else 0
        start, end = parse_iso(lo), parse_iso(hi)
        if total > LISTED_AT_MOST and end - start > timedelta(seconds=2):
            middle = start + (end - start) / 2
            left = runs_between(client, repo, workflow, branch, lo, _stamp(middle))
            right = runs_between(client, repo, workflow, branch, _stamp(middle + timedelta(seconds=1)), hi)
            return left + right
        given = data.get("workflow_runs")
        listed: list[Any] = given if isinstance(given, list) else []
        runs += [r for r in map(run_of, listed) if r is not None]
        if len(listed) < 100 or page * 100 >= min(total, LISTED_AT_MOST):
            return runs
        page += 1


def sync_workflow_runs(
    db: Database, cfg: Config, client: GitHubClient, repo: str, repo_id: int, branch: str
) -> DeploymentSync | None:
    """The deploy workflows' runs since the last sync (re-runs included) into deployments; None when nothing
    changed or none is configured."""
    patterns = cfg.dora.deploy_workflows
    if not patterns:
        return None
    state = load_state(db, f"github:{repo_id}:~runs")
    now = parse_iso(now_iso())
    hi = _stamp(now)
    lo = state.cursor or FIRST
    etags: dict[str, str] = dict(state.details.get("etags") or {})
    result = DeploymentSync()
    found: list[Run] = []
    path = f"/repos/{repo}/actions/workflows/{{}}/runs"
    named = dict(deploy_workflows(client, repo, patterns))
    workflows = list(named)
    of: dict[int, Workflow] = {}  # each run's workflow
    for workflow in workflows:
        if state.cursor is None:  # a first sync reads everything: nothing to ask first
            runs = every_run(client, repo, workflow, branch)
            found += runs
            of.update((r.id, named[workflow]) for r in runs)
            continue
        changed, etag = client.changed(
            path.format(workflow), etags.get(str(workflow)), f"the runs of {repo}", _window(branch, lo)
        )
        if etag:
            etags[str(workflow)] = etag
        if changed:
            runs = runs_between(client, repo, workflow, branch, lo, hi)
            found += runs
            of.update((r.id, named[workflow]) for r in runs)
    environment = cfg.dora.environment
    failed = 0
    under_way = [run.created for run in found if not run.done]
    with transaction(db):
        for run in sorted(found, key=lambda r: (r.at, r.id)):  # oldest first: nothing later is unlinked again
            name = f"run {run.id}"
            if not run.done:
                continue  # read again until it ends
            if run.conclusion == SHIPPED:
                saved = save_deployment(
                    db, repo_id, name, run.sha, environment, utc(run.at), "success", SOURCE, of.get(run.id)
                )
                _count(result, saved)
            else:
                failed += run.conclusion in FAILED_ATTEMPTS
                result.removed += remove_deployment(db, repo_id, SOURCE, name)  # a re-run that did not ship
        result.removed += without_twins(db, repo_id, SOURCE)
        # what may still change: runs re-run within 30 days, and runs not ended yet, however old; the window
        # starts on a Monday, so the same question is asked all week and an unchanged answer is a free 304
        cursor = min([_monday(now - timedelta(days=RERUN_DAYS)), *under_way]) if found or state.cursor else None
        if cursor is not None and cursor != state.cursor:
            for workflow in workflows:  # the new question's ETag, for the next sync to ask with
                _, etag = client.changed(path.format(workflow), None, f"the runs of {repo}", _window(branch, cursor))
                etags[str(workflow)] = etag or ""
        state.cursor = cursor
        state.details = {"etags": etags}
        state.status = "complete"
        save_state(db, state)
    result.failed_attempts = failed
    if not (result.added or result.changed or result.removed or failed):
        return None
    link_commits(db, repo_id, stored_parents(db, repo_id), result)
    return result


@reads("workflow_run", "a workflow_run payload")
def ingest_run_payload(db: Database, cfg: Config, payload: dict[str, Any]) -> EventOutcome:
    """A `workflow_run` event (GitHub Actions hands it to a workflow that runs on it): a deploy workflow's run
    on the production branch stored as a sync would; anything else said and left alone."""
    from teamops.errors import InvalidInput
    from teamops.sources import EventOutcome
    from teamops.sources.github.commits import github_repo_id

    given = payload.get("repository")
    repository: dict[str, Any] = given if isinstance(given, dict) else {}
    raw = payload.get("workflow_run")
    repo = repository.get("full_name")
    run = run_of(raw)
    if not isinstance(repo, str) or "/" not in repo or run is None or not isinstance(raw, dict):
        raise InvalidInput("not a workflow_run payload: no repository, or no run with an id, a commit and times")
    branch = cfg.dora.production_branch or str(repository.get("default_branch") or "")
    shown = f"ingested workflow_run {run.id} of {repo}"
    data: dict[str, Any] = {"report": "sync-commits-event", "repo": repo, "run": run.id, "stored": 0}
    workflow = payload.get("workflow") if isinstance(payload.get("workflow"), dict) else raw
    if not is_deploy_workflow(workflow, cfg.dora.deploy_workflows):
        return EventOutcome(f"{shown}: not a deploy workflow ([dora] deploy_workflows)", data)
    if raw.get("head_branch") != branch:
        return EventOutcome(f"{shown}: on {raw.get('head_branch')}, not the production branch {branch}", data)
    if not run.done:
        return EventOutcome(f"{shown}: under way; the run is stored once it ends", data)
    repo_id = github_repo_id(db, repo)
    result = DeploymentSync()
    with transaction(db):
        if run.conclusion == SHIPPED:
            outcome = save_deployment(
                db,
                repo_id,
                f"run {run.id}",
                run.sha,
                cfg.dora.environment,
                utc(run.at),
                "success",
                SOURCE,
                workflow_of(workflow),
            )
            _count(result, outcome)
        else:
            result.removed += remove_deployment(db, repo_id, SOURCE, f"run {run.id}")
        result.removed += without_twins(db, repo_id, SOURCE)
    link_commits(db, repo_id, stored_parents(db, repo_id), result)
    data["stored"] = result.added + result.changed
    what = "a deployment" if run.conclusion == SHIPPED else f"{run.conclusion}: no deployment"
    return EventOutcome(
        f"{shown}: {what} ({result.added} new, {result.changed} changed, {result.removed} removed)", data
    )
