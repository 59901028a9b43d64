"""GitHub's releases and production Deployments as deployments."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from teamops.errors import Refused
from teamops.records import DeliveryRecord
from teamops.sources.github.events import reads
from teamops.store.database import transaction
from teamops.store.deployments import all_deployments as stored_deployments
from teamops.store.deployments import save_deployment
from teamops.store.sync_state import load_state, save_state
from teamops.sync.deployments import DeploymentSync, _count, link_commits, stored_parents, utc

if TYPE_CHECKING:
    from sqlite_utils import Database

    from teamops.config import Config
    from teamops.sources import EventOutcome
    from teamops.sources.github.client import GitHubClient


DEPLOYMENT_STATES = {"SUCCESS": "success", "INACTIVE": "success", "FAILURE": "failure", "ERROR": "failure"}


def sync_github_delivery(
    db: Database, cfg: Config, client: GitHubClient, full_name: str, repo_id: int
) -> DeploymentSync | None:
    """Releases (not drafts, not pre-releases) and production Deployments of a GitHub repository.

    Two conditional requests say whether anything changed (free when not); only then one GraphQL
    query reads the new ones, newest first, until it meets what is stored. None when nothing changed.
    """
    state = load_state(db, f"delivery:{repo_id}")
    env = cfg.dora.environment
    warnings: list[str] = []

    def listing(kind: str, permission: str, params: dict[str, Any] | None = None) -> tuple[bool, str | None, bool]:
        """(changed, etag, allowed): a refused listing (a fine-grained token without that permission)
        leaves that kind out with a warning; the commits are synced all the same."""
        try:
            changed, etag = client.changed(
                f"/repos/{full_name}/{kind}", state.details.get(f"{kind}_etag"), f"the {kind} of {full_name}", params
            )
        except Refused as exc:
            warnings.append(
                f"warning: {exc}: {kind} of {full_name} left out of the delivery metrics "
                f"(the token needs the {permission} permission, read; see docs/github.md)"
            )
            return False, state.details.get(f"{kind}_etag"), False
        return changed, etag, True

    releases, rel_etag, _ = listing("releases", "Contents")
    deploys, dep_etag, deploys_allowed = listing("deployments", "Deployments", {"environment": env})
    deploys = deploys or (deploys_allowed and bool(state.details.get("pending")))  # a status may have moved on
    if not (releases or deploys):
        if (rel_etag, dep_etag) != (state.details.get("releases_etag"), state.details.get("deployments_etag")):
            with transaction(db):
                state.details.update({"releases_etag": rel_etag, "deployments_etag": dep_etag})
                save_state(db, state)
        return DeploymentSync(warnings=warnings) if warnings else None
    known = {(d.source, d.name): d for d in stored_deployments(db, repo_id)}

    def stop(record: DeliveryRecord) -> bool:
        old = known.get((record.source, record.name))
        if record.source == "release":
            return old is not None and old.sha == record.sha
        return old is not None and record.state in DEPLOYMENT_STATES

    found = client.delivery(full_name, env, releases, deploys, stop)
    result = DeploymentSync(warnings=warnings)
    pending = False
    with transaction(db):
        for record in found:
            if record.source == "release":
                if record.draft or record.prerelease or not record.sha:
                    continue
                status = "success"
            else:
                finished = DEPLOYMENT_STATES.get(record.state or "")
                if finished is None or not record.sha:
                    pending = True  # queued or in progress: read again next time
                    continue
                status = finished
            outcome = save_deployment(db, repo_id, record.name, record.sha, env, utc(record.at), status, record.source)
            _count(result, outcome)
        state.details.update({"releases_etag": rel_etag, "deployments_etag": dep_etag, "pending": pending})
        state.status = "complete"
        save_state(db, state)
    link_commits(db, repo_id, stored_parents(db, repo_id), result)
    return result


@reads("deployment_status", "a deployment_status payload")
def ingest_deployment_status(db: Database, cfg: Config, payload: dict[str, Any]) -> EventOutcome:
    """A `deployment_status` event: a production Deployment's latest state, stored as the sync stores it (the
    same name, so the sync and the event agree); a workflow run of the same commit then counts once."""
    from teamops.errors import InvalidInput
    from teamops.sources import EventOutcome
    from teamops.sources.github.commits import github_repo_id
    from teamops.sources.github.runs import SOURCE as RUNS
    from teamops.store.deployments import without_twins

    repository, deployment, status = (payload.get(k) for k in ("repository", "deployment", "deployment_status"))
    repo = repository.get("full_name") if isinstance(repository, dict) else None
    if not (isinstance(repo, str) and isinstance(deployment, dict) and isinstance(status, dict)):
        raise InvalidInput("not a deployment_status payload: no repository, deployment or deployment_status")
    ident, sha, at = deployment.get("id"), deployment.get("sha"), status.get("created_at")
    if not isinstance(ident, int) or not isinstance(sha, str) or len(sha) != 40 or not isinstance(at, str):
        raise InvalidInput("not a deployment_status payload: the deployment has no id, commit or time")
    env = cfg.dora.environment
    shown = f"ingested deployment_status of {repo} deployment {ident}"
    data: dict[str, Any] = {"report": "sync-commits-event", "repo": repo, "deployment": ident, "stored": 0}
    state = DEPLOYMENT_STATES.get(str(status.get("state") or "").upper())
    if deployment.get("environment") != env:
        return EventOutcome(f"{shown}: to {deployment.get('environment')}, not {env}", data)
    if state is None:
        return EventOutcome(f"{shown}: {status.get('state')}, not finished; stored once it is", data)
    repo_id = github_repo_id(db, repo)
    result = DeploymentSync()
    with transaction(db):
        _count(result, save_deployment(db, repo_id, f"deployment {ident}", sha, env, utc(at), state, "deployment"))
        result.removed += without_twins(db, repo_id, RUNS)
    link_commits(db, repo_id, stored_parents(db, repo_id), result)
    data["stored"] = result.added + result.changed
    return EventOutcome(f"{shown}: {state} ({result.added} new, {result.changed} changed)", data)
