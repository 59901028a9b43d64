"""Pull requests into the store: from GitHub's GraphQL (newest updates first, stopping at what is stored),
from webhook and Actions payloads, and inferred from a clone's merge commits and squash subjects."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from teamops.clock import now_iso
from teamops.delivery.commit_graph import CommitGraph
from teamops.errors import InvalidInput
from teamops.records import PullRecord, RequestRecord, ReviewRecord, account
from teamops.store.database import transaction
from teamops.store.pulls import known_numbers, save_pulls, save_pulls_in
from teamops.store.sync_state import load_state, save_state

if TYPE_CHECKING:
    from sqlite_utils import Database

    from teamops.integrations.github import GitHubClient

MERGE_SUBJECT = re.compile(r"^Merge pull request #(\d+) from (\S+)")
SQUASH_SUBJECT = re.compile(r"^(.*\S)\s*\(#(\d+)\)$")  # "Subject (#12)", also "Subject(#12)"
PULL_REF = re.compile(r"\bpull/(\d+)(?:/(?:head|merge))?\b")  # "Merge branch 'pull/12/head'", "origin/pull/12"
PLAIN_MERGE = re.compile(r"^Merge (?:branch|remote-tracking branch|commit|tag|\S+ of )|^Merge https?://")
MENTION = re.compile(r"(?<![\w/])#(\d+)\b")
BRANCH_LIMIT = 500  # commits kept per inferred pull request
INFER_BATCH = 2000  # commits read, and pull requests written, at a time


@dataclass
class PullSync:
    """What one pass over a repository's pull requests did."""

    saved: int = 0
    pages: int = 0
    inferred: int = 0

    def line(self, repo: str) -> str:
        if self.inferred:
            return f"pull requests of {repo}: {self.inferred:,} inferred from merge commits and squash subjects"
        return f"pull requests of {repo}: {self.saved:,} new or updated ({self.pages} pages)"


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


def inferred_number(subject: str, body: str, is_merge: bool) -> tuple[int, str, str | None] | None:
    """(number, title, head branch) a commit's message names as its pull request, or None.

    GitHub's merge subject, a squash subject `Title (#N)` (on a merge too, when its title was edited),
    a merge of a `pull/N` ref, or a merge with its own subject whose body names one `#N`.
    """
    if is_merge and (merged := MERGE_SUBJECT.match(subject)):
        return int(merged.group(1)), body.strip().split("\n", 1)[0] or subject, merged.group(2).split("/", 1)[-1]
    if squashed := SQUASH_SUBJECT.match(subject):
        return int(squashed.group(2)), squashed.group(1), None
    if not is_merge:
        return None
    if ref := PULL_REF.search(subject):
        return int(ref.group(1)), subject, f"pull/{ref.group(1)}"
    named = set(MENTION.findall(body))
    if len(named) == 1 and not PLAIN_MERGE.match(subject):
        return int(named.pop()), subject, None
    return None


def infer_pulls(db: Database, repo_id: int, graph: Callable[[], CommitGraph] | None = None) -> PullSync | None:
    """Pull requests a clone's history names (see `inferred_number`), marked inferred (GitHub's own record
    always wins). Only commits stored since the last pass are read; the graph (the sync's own, when it
    passes one) is read once, and only when a merge needs it."""
    state = load_state(db, f"pulls-inferred:{repo_id}")
    top = db.execute("SELECT COALESCE(MAX(id), 0) FROM commits WHERE repo_id = ?", [repo_id]).fetchone()[0]
    if state.cursor == str(top):
        return None
    since = int(state.cursor or 0)
    found = db.execute(
        "SELECT sha, message, committed_at, is_merge FROM commits WHERE repo_id = ? AND id > ? "
        "AND (is_merge = 1 OR message LIKE '%(#%)%') ORDER BY committed_at",
        [repo_id, since],
    )
    known = known_numbers(db, repo_id)
    graph = graph or functools.cache(lambda: CommitGraph.stored(db, repo_id))
    inferred = 0
    while rows := found.fetchmany(INFER_BATCH):  # a batch at a time: memory stays flat however long the history
        pulls: dict[int, PullRecord] = {}
        for sha, message, at, is_merge in rows:
            subject, _, body = str(message).partition("\n")
            named = inferred_number(subject, body, bool(is_merge))
            if named is None or named[0] in known or named[0] in pulls:
                continue
            number, title, head = named
            commits = graph().brought_by(sha, BRANCH_LIMIT) if is_merge else [sha]
            pulls[number] = PullRecord(
                source="git",
                number=number,
                title=title,
                author=None,
                author_kind="user",
                state="merged",
                draft=False,
                created_at=None,
                merged_at=at,
                closed_at=at,
                head_branch=head,
                merge_commit_sha=sha,
                commits=commits,
                inferred=True,
            )
        if pulls:
            with transaction(db):
                save_pulls_in(db, repo_id, list(pulls.values()))
            known.update(pulls)
            inferred += len(pulls)
    with transaction(db):
        state.cursor, state.status = str(top), "complete"
        save_state(db, state)
    return PullSync(inferred=inferred) if inferred else None


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
    from teamops.sync.github import github_repo_id

    repo, record = event_record(event, payload)
    save_pulls(db, github_repo_id(db, repo), [record])
    return repo, record
