"""GitLab's webhooks through `sync-commits --event FILE --event-name "Push Hook"`: the `X-Gitlab-Token` checked
in constant time against `[gitlab] webhook_token_env`, the payload validated, then stored as a sync would."""

from __future__ import annotations

import hmac
import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from teamops.clients import secret
from teamops.errors import ConfigError, InvalidInput
from teamops.records import CommitRecord, RequestRecord, ReviewRecord
from teamops.sources import EventOutcome, json_object
from teamops.sources.gitlab import settings
from teamops.sources.gitlab.records import mapping, merge_request, text
from teamops.sources.gitlab.sync import project_repo_id

if TYPE_CHECKING:
    from sqlite_utils import Database

    from teamops.config import Config

SHA_RE = re.compile(r"^[0-9a-f]{40}$")
MAX_PUSH_COMMITS = 1000  # GitLab lists at most 20 (total_commits_count says how many were pushed)


def check_token(cfg: Config, token: str | None) -> None:
    """The webhook's secret token, when one is configured, must be the one given (compared in constant time)."""
    var = settings(cfg).webhook_token_env
    expected = secret(var)
    if token and not expected:
        raise ConfigError(f"a token was given (--signature) but ${var} is not set, so it cannot be checked")
    if expected and not (token and hmac.compare_digest(token.encode(), expected.encode())):
        raise InvalidInput("the event's X-Gitlab-Token does not match: refused, nothing stored")


def hook_time(value: Any) -> str | None:
    """A webhook's time in any of GitLab's spellings (`2013-12-03T17:23:34Z`, `2013-12-03 17:23:34 UTC`,
    `2021-04-28 21:50:00 +0200`) as stored: UTC with Z."""
    raw = text(value)
    if raw is None:
        return None
    for candidate in (raw.replace(" UTC", "+00:00").replace("Z", "+00:00"), raw):
        for parse in (datetime.fromisoformat, lambda v: datetime.strptime(v, "%Y-%m-%d %H:%M:%S %z")):
            try:
                moment = parse(candidate)
            except ValueError:
                continue
            moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
            return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return None


def _project(data: dict[str, Any]) -> str:
    name = text(mapping(data.get("project")).get("path_with_namespace"))
    if not name or "/" not in name or len(name) > 500:
        raise InvalidInput("the event names no project (project.path_with_namespace)")
    return name


def ingest(db: Database, cfg: Config, body: bytes, name: str, token: str | None) -> EventOutcome:
    """One payload of a Push, Merge Request or Deployment Hook, authenticated, validated and stored."""
    cap = settings(cfg).event_max_mb * 1_000_000
    if len(body) > cap:
        raise InvalidInput(f"the event is larger than {settings(cfg).event_max_mb} MB: refused")
    check_token(cfg, token)
    data = json_object(body, "a GitLab webhook payload")
    kinds = {"Push Hook": "push", "Merge Request Hook": "merge_request", "Deployment Hook": "deployment"}
    if data.get("object_kind") != kinds[name]:
        raise InvalidInput(f"the event is not a {name} payload (object_kind {str(data.get('object_kind'))[:40]!r})")
    project = _project(data)
    if name == "Push Hook":
        return _push(db, project, data)
    if name == "Merge Request Hook":
        return _merge_request(db, project, data)
    return _deployment(db, cfg, project, data)


def _push(db: Database, project: str, data: dict[str, Any]) -> EventOutcome:
    """A push's commits, stored without line counts until the next sync reads them."""
    from teamops.people.identities import IdentityResolver
    from teamops.store.commits import save_commits

    ref = text(data.get("ref")) or ""
    listed = data.get("commits")
    commits: list[Any] = listed if isinstance(listed, list) else []
    if len(commits) > MAX_PUSH_COMMITS:
        raise InvalidInput(f"the push lists {len(commits):,} commits, more than GitLab ever sends: refused")
    records = []
    for raw in commits:
        c = mapping(raw)
        sha, at = text(c.get("id")), hook_time(c.get("timestamp"))
        if not sha or not SHA_RE.match(sha) or not at:
            raise InvalidInput("a pushed commit has no valid id or timestamp: refused, nothing stored")
        author = mapping(c.get("author"))
        records.append(
            CommitRecord(
                sha=sha,
                parents=[],
                author_name=text(author.get("name")) or "",
                author_email=(text(author.get("email")) or "").lower(),
                authored_at=at,
                author_tz_offset=0,
                committed_at=at,
                message=(text(c.get("message")) or "").rstrip("\n"),
                stats_missing=True,
            )
        )
    repo_id = project_repo_id(db, project)
    stored = save_commits(db, repo_id, records, IdentityResolver.load(db, "gitlab").person_for) if records else 0
    line = f"ingested push to {project} ({ref.removeprefix('refs/heads/')}): {stored} commits"
    if stored:
        line += " (line counts with the next sync)"
    return EventOutcome(line, {"report": "sync-commits-event", "repo": project, "ref": ref, "stored": stored})


def _merge_request(db: Database, project: str, data: dict[str, Any]) -> EventOutcome:
    """A merge request as its hook shows it; who opened it is the hook's user on `open`, else what is stored."""
    from teamops.store.pulls import save_pulls

    attrs = dict(mapping(data.get("object_attributes")))
    action = text(attrs.get("action")) or ""
    user = mapping(data.get("user"))
    repo_id = project_repo_id(db, project)
    row = db.execute(
        "SELECT author, author_kind FROM pull_requests WHERE repo_id = ? AND number = ?", [repo_id, attrs.get("iid")]
    ).fetchone()
    author = text(user.get("username")) if action == "open" else (row[0] if row else None)
    attrs["author"] = {"username": author} if author else None
    for key in ("created_at", "updated_at", "merged_at", "closed_at"):
        attrs[key] = hook_time(attrs.get(key))
    if action == "merge" and not attrs.get("merged_at"):
        attrs["merged_at"] = attrs.get("updated_at")
    record = merge_request(attrs, None, None)
    if record is None:
        raise InvalidInput("the event's merge request has no iid: refused, nothing stored")
    if record.author is None:
        record.author_kind = str(row[1]) if row else "user"
    actor = text(user.get("username"))
    at = record.updated_at
    if action == "approved" and actor and at:
        record.reviews = [ReviewRecord(f"hook-approved-{actor}-{at}", actor, "user", "APPROVED", at)]
    changes = mapping(data.get("changes"))
    if "reviewers" in changes:
        before = {text(mapping(u).get("username")) for u in mapping(changes["reviewers"]).get("previous") or []}
        now = [text(mapping(u).get("username")) for u in mapping(changes["reviewers"]).get("current") or []]
        record.requests = [RequestRecord(n, at, True) for n in now if n and n not in before]
    save_pulls(db, repo_id, [record])
    line = f"ingested Merge Request Hook for {project} !{record.number}: {action or record.state}"
    return EventOutcome(line, {"report": "sync-commits-event", "repo": project, "number": record.number})


def _deployment(db: Database, cfg: Config, project: str, data: dict[str, Any]) -> EventOutcome:
    """A finished deployment to the production environment (others are said and left alone)."""
    from teamops.store.deployments import save_deployment

    environment = settings(cfg).environment or cfg.dora.environment
    status = {"success": "success", "failed": "failure"}.get(str(data.get("status") or ""))
    ident = data.get("deployment_id")
    sha = (text(data.get("commit_url")) or "").rstrip("/").rsplit("/", 1)[-1]
    at = hook_time(data.get("status_changed_at"))
    shown = f"ingested Deployment Hook for {project}"
    if data.get("environment") != environment or status is None:
        return EventOutcome(f"{shown}: not a finished deployment to {environment}, nothing stored", {"stored": 0})
    if not isinstance(ident, int) or not SHA_RE.match(sha) or not at:
        raise InvalidInput("the deployment names no id, commit or time: refused, nothing stored")
    repo_id = project_repo_id(db, project)
    outcome = save_deployment(db, repo_id, f"deployment {ident}", sha, environment, at, status, "deployment")
    return EventOutcome(
        f"{shown}: deployment {ident} ({status}) {outcome}", {"report": "sync-commits-event", "stored": 1}
    )
