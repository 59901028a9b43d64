"""GitLab's JSON as teamops' records: commits, merge requests with what their system notes say (review
requests, approvals, readiness: the approvals API keeps no times), deployments. Payloads are hostile:
every field is checked before use."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from teamops.assists.detect import body_marks
from teamops.clock import iso_with_offset
from teamops.records import CommitRecord, PullRecord, RequestRecord, ReviewRecord

# Accounts GitLab makes for access tokens and its own automation: project_12_bot_3f2a..., group_7_bot_...
TOKEN_BOT_RE = re.compile(r"^(?:project|group)_\d+_bot(?:_[0-9a-f]+)?$|^(?:ghost|support-bot|alert-bot)$", re.I)
MENTION_RE = re.compile(r"@([A-Za-z0-9_.][A-Za-z0-9_.-]*)")
STATES = {"opened": "open", "locked": "open", "closed": "closed", "merged": "merged"}
# What a deployment's status means for DORA: canceled, skipped and blocked deployments shipped nothing.
DEPLOYMENT_STATUS = {"success": "success", "failed": "failure"}
PENDING_STATUS = ("created", "running", "blocked")


def text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def account(user: Any) -> tuple[str | None, str]:
    """(username, kind) of a GitLab user object: "bot" for token and service accounts, "ghost" for none."""
    name = text(mapping(user).get("username"))
    if name is None or name == "ghost":
        return None, "ghost"
    bot = mapping(user).get("bot") is True or bool(TOKEN_BOT_RE.match(name)) or name.lower().endswith("-bot")
    return name, "bot" if bot else "user"


def commit(raw: Any) -> CommitRecord | None:
    """A commit of `repository/commits` (with_stats) as a CommitRecord; None when it is not one."""
    data = mapping(raw)
    sha = text(data.get("id"))
    committed = text(data.get("committed_date")) or text(data.get("created_at"))
    if not sha or not re.fullmatch(r"[0-9a-f]{40}|[0-9a-f]{64}", sha) or not committed:
        return None
    try:
        authored_at, offset = iso_with_offset(text(data.get("authored_date")) or committed)
        committed_at, _ = iso_with_offset(committed)
    except ValueError:
        return None
    parents = [p for p in data.get("parent_ids") or [] if isinstance(p, str)]
    stats = mapping(data.get("stats"))
    known = isinstance(stats.get("additions"), int) and isinstance(stats.get("deletions"), int)
    return CommitRecord(
        sha=sha,
        parents=parents,
        author_name=text(data.get("author_name")) or "",
        author_email=(text(data.get("author_email")) or "").lower(),
        authored_at=authored_at,
        author_tz_offset=offset,
        committed_at=committed_at,
        message=(text(data.get("message")) or text(data.get("title")) or "").rstrip("\n"),
        additions_total=stats.get("additions") if known else None,
        deletions_total=stats.get("deletions") if known else None,
        stats_missing=not known,
        files_known=False,
    )


@dataclass
class Notes:
    """What a merge request's notes say, oldest first."""

    reviews: list[ReviewRecord]
    requests: list[RequestRecord]
    ready_at: str | None


def read_notes(notes: list[Any], author: str | None) -> Notes:
    """System notes as review requests, approvals (an unapproval dismisses the approval before it) and
    readiness; a comment by someone other than the author is their review (one per reviewer)."""
    reviews: list[ReviewRecord] = []
    requests: dict[str, RequestRecord] = {}
    commented: set[str] = set()
    ready_at: str | None = None
    for raw in sorted((mapping(n) for n in notes), key=lambda n: (str(n.get("created_at") or ""), str(n.get("id")))):
        body = (text(raw.get("body")) or "").strip()
        at = text(raw.get("created_at"))
        who, kind = account(raw.get("author"))
        note_id = f"note-{raw.get('id')}"
        if raw.get("system") is True:
            low = body.lower()
            if low.startswith("approved this merge request"):
                reviews.append(ReviewRecord(note_id, who, kind, "APPROVED", at))
            elif low.startswith("unapproved this merge request"):
                for r in reversed(reviews):
                    if r.reviewer == who and r.state == "APPROVED":
                        r.state = "DISMISSED"
                        break
            elif low.startswith(("requested review from", "requested a review from")):
                for name in MENTION_RE.findall(body):
                    requests.setdefault(name.lower(), RequestRecord(name, at, True))
            elif low.startswith("removed review request for"):
                for name in MENTION_RE.findall(body):
                    if name.lower() in requests:
                        requests[name.lower()].pending = False
            elif low.startswith("marked this merge request as ready") or low.startswith("marked as ready"):
                ready_at = at
        elif who and kind != "bot" and who.lower() not in commented and (author or "").lower() != who.lower():
            commented.add(who.lower())
            reviews.append(ReviewRecord(note_id, who, kind, "COMMENTED", at))
    for name, request in requests.items():  # a reviewer who has reviewed since is no longer waited for
        if any(
            (r.reviewer or "").lower() == name and (r.submitted_at or "") >= (request.requested_at or "")
            for r in reviews
        ):
            request.pending = False
    return Notes(reviews, list(requests.values()), ready_at)


def merge_request(raw: Any, notes: Notes | None, commits: list[str] | None) -> PullRecord | None:
    """A merge request of the list (or a webhook's object_attributes, read the same way) as a PullRecord."""
    data = mapping(raw)
    iid = data.get("iid")
    if not isinstance(iid, int) or isinstance(iid, bool) or iid <= 0:
        return None
    author, kind = account(data.get("author"))
    state = STATES.get(str(data.get("state") or ""), "open")
    draft = data.get("draft") is True or data.get("work_in_progress") is True
    created = text(data.get("created_at"))
    labels = [str(x.get("title") if isinstance(x, dict) else x) for x in data.get("labels") or []]
    fork = data.get("source_project_id") != data.get("target_project_id") and data.get("source_project_id") is not None
    return PullRecord(
        source="gitlab",
        number=iid,
        title=text(data.get("title")) or "",
        author=author,
        author_kind=kind,
        state=state,
        draft=draft,
        created_at=created,
        updated_at=text(data.get("updated_at")),
        ready_at=(notes.ready_at if notes and notes.ready_at else None) or (None if draft else created),
        merged_at=text(data.get("merged_at")) if state == "merged" else None,
        closed_at=text(data.get("closed_at")) or (text(data.get("merged_at")) if state == "merged" else None),
        base_branch=text(data.get("target_branch")),
        head_branch=text(data.get("source_branch")),
        head_repo="(fork)" if fork else None,
        merge_commit_sha=text(data.get("merge_commit_sha")) or text(data.get("squash_commit_sha")),
        labels=labels,
        commits=commits,
        commit_count=len(commits) if commits is not None else None,
        reviews=notes.reviews if notes else None,
        requests=notes.requests if notes else None,
        body_marks=body_marks(data.get("description")),
    )


@dataclass
class Deployment:
    """A deployment of GitLab's list: which commit, when it finished, how it went."""

    id: int  # GitLab's global id: webhooks name a deployment by it
    sha: str
    at: str
    status: str  # success, failure; or pending (created, running, blocked): read again later
    updated_at: str


def deployment(raw: Any) -> Deployment | None:
    """A deployment that shipped or failed, or is still under way; None for a canceled or skipped one."""
    data = mapping(raw)
    ident, sha = data.get("id"), text(data.get("sha"))
    status = str(data.get("status") or "")
    updated = text(data.get("updated_at")) or ""
    if not isinstance(ident, int) or isinstance(ident, bool) or not sha:
        return None
    if status in PENDING_STATUS:
        return Deployment(ident, sha, updated, "pending", updated)
    if status not in DEPLOYMENT_STATUS:
        return None
    at = text(data.get("finished_at")) or updated or text(data.get("created_at")) or ""
    return Deployment(ident, sha, at, DEPLOYMENT_STATUS[status], updated)
