"""GitHub's pull requests into the store: from GraphQL (newest updates first, stopping at what is stored), and
from webhook and Actions payloads."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from teamops.assists.detect import body_marks
from teamops.clock import now_iso
from teamops.errors import InvalidInput
from teamops.records import PullRecord, RequestRecord, ReviewRecord
from teamops.sources.github.client import account
from teamops.sources.github.events import reads
from teamops.store.database import transaction
from teamops.store.pulls import save_pulls
from teamops.store.sync_state import load_state, save_state
from teamops.sync.pulls import PullSync

if TYPE_CHECKING:
    from sqlite_utils import Database

    from teamops.config import Config
    from teamops.sources import EventOutcome
    from teamops.sources.github.client import GitHubClient


def sync_github_pulls(db: Database, client: GitHubClient, full_name: str, repo_id: int) -> PullSync | None:
    """Pull requests updated since the last sync, newest first, each page stored with its cursor.

    A conditional request on the REST listing says whether anything changed (free when not). An
    interrupted walk resumes at its cursor; the walk stops at the first pull request not updated
    since the newest one stored before it began.
    """
    state = load_state(db, f"pulls:{repo_id}")
    changed, etag = client.changed(
        f"/repos/{full_name}/pulls",
        state.etag if state.status == "complete" else None,
        f"the pull requests of {full_name}",
        {"state": "all", "sort": "updated", "direction": "desc"},
    )
    if not changed and state.status == "complete":
        return None
    if not changed:  # nothing listed at all
        with transaction(db):
            state.status, state.etag = "complete", etag
            save_state(db, state)
        return None
    walk = dict(state.details) if state.status == "running" else {"stop_at": state.head, "high": None, "cursor": None}
    result = PullSync()
    state.status = "running"
    for page in client.pull_requests(full_name, walk.get("cursor")):
        result.pages += 1
        stop_at = walk.get("stop_at")
        fresh = [p for p in page.pulls if not stop_at or (p.updated_at or "") > stop_at]
        if walk.get("high") is None and page.pulls:
            walk["high"] = max(p.updated_at or "" for p in page.pulls)
        done = len(fresh) < len(page.pulls) or not page.has_next
        walk["cursor"] = page.end_cursor
        state.details = walk
        save_pulls(db, repo_id, fresh, state)
        result.saved += len(fresh)
        if done:
            break
    with transaction(db):
        state.status = "complete"
        state.head = walk.get("high") or walk.get("stop_at")
        state.etag = etag
        state.details = {}
        state.last_success_at = now_iso()
        save_state(db, state)
    return result


# -- webhook and Actions payloads ----------------------------------------------------------------------

PULL_EVENTS = ("pull_request", "pull_request_review")


def _login(user: Any) -> tuple[str | None, str]:
    """(login, kind) of a webhook's user object (missing: a deleted account)."""
    user = user if isinstance(user, dict) else {}
    return account(user.get("login"), user.get("type") == "Bot")


def _text(value: Any, limit: int = 1000) -> str | None:
    return str(value)[:limit] if isinstance(value, (str, int)) and not isinstance(value, bool) else None


def event_record(event: str, payload: dict[str, Any]) -> tuple[str, PullRecord]:
    """(repository owner/name, what a pull_request or pull_request_review payload says of its pull request)."""
    pr = payload.get("pull_request")
    repo = (payload.get("repository") or {}).get("full_name") if isinstance(payload.get("repository"), dict) else None
    if not isinstance(pr, dict) or not isinstance(pr.get("number"), int) or not isinstance(repo, str):
        raise InvalidInput(f"not a {event} payload: no pull_request with a number, or no repository")
    action = str(payload.get("action") or "")
    author, kind = _login(pr.get("user"))
    updated = _text(pr.get("updated_at"))
    merged = _text(pr.get("merged_at"))
    state = "merged" if merged else ("closed" if pr.get("state") == "closed" else "open")
    head: dict[str, Any] = pr["head"] if isinstance(pr.get("head"), dict) else {}
    head_repo = head["repo"].get("full_name") if isinstance(head.get("repo"), dict) else None
    base: dict[str, Any] = pr["base"] if isinstance(pr.get("base"), dict) else {}
    record = PullRecord(
        source="github",
        number=int(pr["number"]),
        title=_text(pr.get("title")) or "",
        author=author,
        author_kind=kind,
        state=state,
        draft=bool(pr.get("draft")),
        created_at=_text(pr.get("created_at")),
        updated_at=updated,
        merged_at=merged,
        closed_at=_text(pr.get("closed_at")),
        base_branch=_text(base.get("ref")),
        head_branch=_text(head.get("ref")),
        head_repo=head_repo if head_repo != repo else None,
        additions=pr.get("additions") if isinstance(pr.get("additions"), int) else None,
        deletions=pr.get("deletions") if isinstance(pr.get("deletions"), int) else None,
        changed_files=pr.get("changed_files") if isinstance(pr.get("changed_files"), int) else None,
        commit_count=pr.get("commits") if isinstance(pr.get("commits"), int) else None,
        merge_commit_sha=_text(pr.get("merge_commit_sha")) if merged else None,
        labels=[str(label.get("name")) for label in pr.get("labels") or [] if isinstance(label, dict)][:50],
        body_marks=body_marks(pr.get("body")),
    )
    if action == "opened" and not record.draft:
        record.ready_at = record.created_at
    elif action == "ready_for_review":
        record.ready_at = updated
    if action == "review_requested":
        who = payload.get("requested_reviewer")
        team = payload.get("requested_team")
        name = _login(who)[0] if who else (f"team:{team.get('slug')}" if isinstance(team, dict) else None)
        if name:
            record.requests = [RequestRecord(name, updated, True)]
    elif action == "review_request_removed":
        who = _login(payload.get("requested_reviewer"))[0]
        if who:
            record.requests = [RequestRecord(who, None, False)]
    review = payload.get("review")
    if event == "pull_request_review" and isinstance(review, dict):
        login, rkind = _login(review.get("user"))
        rid = _text(review.get("node_id")) or _text(review.get("id"))
        if rid:
            state_of = str(review.get("state") or "").upper()
            record.reviews = [ReviewRecord(rid, login, rkind, state_of, _text(review.get("submitted_at")))]
    return repo, record


def ingest_pull_event(db: Database, event: str, payload: dict[str, Any]) -> tuple[str, PullRecord]:
    """Store what a pull_request or pull_request_review payload says; the same payload twice is a no-op."""
    from teamops.sources.github.commits import github_repo_id

    repo, record = event_record(event, payload)
    save_pulls(db, github_repo_id(db, repo), [record])
    return repo, record


def pull_outcome(db: Database, event: str, payload: dict[str, Any]) -> EventOutcome:
    """A pull request event stored, and the line and data `sync-commits --event` shows for it."""
    from teamops.sources import EventOutcome as Outcome

    repo, record = ingest_pull_event(db, event, payload)
    line = f"ingested {event} for {repo} #{record.number}: {record.state}"
    return Outcome(line, {"report": "sync-commits-event", "repo": repo, "number": record.number})


@reads("pull_request", "a pull request payload")
def ingest_pull_payload(db: Database, cfg: Config, payload: dict[str, Any]) -> EventOutcome:
    return pull_outcome(db, "pull_request", payload)


@reads("pull_request_review", "a pull request payload")
def ingest_review_payload(db: Database, cfg: Config, payload: dict[str, Any]) -> EventOutcome:
    return pull_outcome(db, "pull_request_review", payload)
