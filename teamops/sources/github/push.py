"""A push event's commits: line counts from the checkout, else the API, else marked missing."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from teamops.clients import secret
from teamops.clock import now_iso
from teamops.config import Config
from teamops.errors import ConfigError, TeamopsError
from teamops.integrations.git_local import GitRepo
from teamops.people.identities import IdentityResolver
from teamops.sources import EventOutcome, hosting, json_object, kind, parse_repo_arg
from teamops.sources.github.client import github_client, node_to_record
from teamops.sources.github.commits import github_repo_id
from teamops.sources.github.payloads import PushEvent, check_signature, parse_push
from teamops.store.commits import save_commits
from teamops.sync.deployments import record_deployment
from teamops.wording import count

if TYPE_CHECKING:
    from sqlite_utils import Database

    from teamops.sources.github.client import GitHubClient


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
    result.stored = save_commits(db, repo_id, list(records.values()), IdentityResolver.load(db, "github").person_for)
    return result


def event_checkout(paths: list[str], workspace: str | None, full_name: str) -> GitRepo | None:
    """The clone to read line counts from: a --repo PATH, $GITHUB_WORKSPACE, or the current folder
    when its origin is the pushed repository."""
    candidates = paths or ([workspace] if workspace else [])
    for where in candidates:
        return GitRepo.open(Path(where))
    try:
        here = GitRepo.open(Path.cwd())
    except TeamopsError:
        return None
    hosted = hosting(None, here.origin_url())
    return here if hosted and hosted[1].lower() == full_name.lower() else None


def ingest_event(
    db: Database,
    cfg: Config,
    body: bytes,
    *,
    event_name: str | None,
    signature: str | None,
    repo_args: list[str] | None,
    env: Mapping[str, str],
) -> tuple[PushEvent, EventResult]:
    """A push payload verified (GITHUB_WEBHOOK_SECRET), parsed and stored, line counts filled where possible."""

    key = secret("GITHUB_WEBHOOK_SECRET")
    if signature and not key:
        raise ConfigError("--signature was given but GITHUB_WEBHOOK_SECRET is not set, so it cannot be checked")
    check_signature(key, body, signature)
    push = parse_push(body, event_name or env.get("GITHUB_EVENT_NAME") or None, cfg.github.event_max_commits)
    paths = [t.locator for t in map(parse_repo_arg, repo_args or []) if not kind(t.kind).remote]  # clones
    checkout = event_checkout(paths, env.get("GITHUB_WORKSPACE") or None, push.repo)
    client = github_client(cfg, required=False) if push.commits else None
    result = ingest_push(db, push, checkout, client)
    if push.is_tag and not push.deleted:
        result.note = _pushed_tag(db, cfg, push, checkout)
    return push, result


def _pushed_tag(db: Database, cfg: Config, push: PushEvent, checkout: GitRepo | None) -> str:
    """A pushed release tag is a production deployment (a later tag sync of a clone refines its time)."""
    tag = push.ref.removeprefix("refs/tags/")
    if not re.search(cfg.dora.tag_pattern, tag) or len(push.after) != 40:
        return f"a tag push ({tag} is not a release tag by [dora] tag_pattern)"
    repo_id = github_repo_id(db, push.repo)
    outcome, _ = record_deployment(
        db,
        repo_id,
        checkout,
        sha=push.after,
        name=tag,
        environment=cfg.dora.environment,
        status="success",
        at=push.pushed_at or now_iso(),
        source="tag",
    )
    return f"a tag push carries no commits; deployment {tag} {outcome}"


def is_pull_payload(body: bytes) -> bool:
    """Whether a payload without an event name is a pull request's (it has one, and no pushed commits)."""
    if b'"pull_request"' not in body:
        return False
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return False
    return isinstance(data, dict) and "pull_request" in data and "commits" not in data


def verified(body: bytes, signature: str | None, what: str) -> dict[str, Any]:
    """A payload whose signature holds (GITHUB_WEBHOOK_SECRET, when set), read as a JSON object."""
    key = secret("GITHUB_WEBHOOK_SECRET")
    if signature and not key:
        raise ConfigError("--signature was given but GITHUB_WEBHOOK_SECRET is not set, so it cannot be checked")
    check_signature(key, body, signature)
    return json_object(body, what)


def describe(push: PushEvent, result: EventResult) -> str:
    """The line an ingested push ends with."""
    where = f"{push.repo} ({push.branch or push.ref})"
    if result.note:
        return f"ingested push to {where}: 0 commits ({result.note})"
    parts = []
    if result.from_checkout:
        parts.append(f"{result.from_checkout} line counts from the checkout")
    if result.from_api:
        parts.append(f"{result.from_api} from the API in {count(result.requests, 'request')}")
    if result.counts_missing:
        parts.append(f"{result.counts_missing} without line counts until the next sync")
    if result.skipped_not_distinct:
        parts.append(f"{result.skipped_not_distinct} not distinct, skipped")
    return f"ingested push to {where}: {count(result.stored, 'commit')}" + (f" ({'; '.join(parts)})" if parts else "")


def ingest(
    db: Database,
    cfg: Config,
    body: bytes,
    name: str | None,
    signature: str | None,
    env: Mapping[str, str],
    repo_args: list[str],
) -> EventOutcome:
    """A push, pull_request or pull_request_review payload (named, in $GITHUB_EVENT_NAME, or told by its shape)."""
    from dataclasses import asdict

    from teamops.sources.github.events import readers

    named = name or env.get("GITHUB_EVENT_NAME") or None
    found = readers()
    if named is None and is_pull_payload(body):  # an unnamed pull request's payload, told by its shape
        payload = verified(body, signature, "a pull request payload")
        return found["pull_request_review" if "review" in payload else "pull_request"][1](db, cfg, payload)
    if named in found:
        what, read = found[named]
        return read(db, cfg, verified(body, signature, what))
    push, pushed = ingest_event(db, cfg, body, event_name=name, signature=signature, repo_args=repo_args, env=env)
    return EventOutcome(describe(push, pushed), {"report": "sync-commits-event", **asdict(pushed)})
