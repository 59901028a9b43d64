"""The normalised records every source produces: a commit (git, GitHub, push events) and its files, and
a release or deployment a source reports."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

CO_AUTHOR_RE = re.compile(r"^\s*co-authored-by:\s*(.*?)\s*<([^<>]*)>\s*$", re.I | re.M)


def number(value: Any) -> float | None:
    """A service's number, sent as a number or a string; anything else (or not finite) is no number."""
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        parsed = float(str(value))
    except ValueError:
        return None
    return parsed if math.isfinite(parsed) else None


class ReportRow:
    """A record a report shows, one row each: its fields as a dict (shallow, so thousands stay fast)."""

    def row(self) -> dict[str, Any]:
        return dict(vars(self))


@dataclass(slots=True)
class FileStat:
    """One file of a commit: lines added and deleted (0 for binary files), and its old path."""

    path: str
    additions: int
    deletions: int
    binary: bool = False
    old_path: str | None = None


@dataclass(slots=True)
class CommitRecord:
    """A commit as every source (git, GitHub, push events) normalises it."""

    sha: str
    parents: list[str]
    author_name: str
    author_email: str
    authored_at: str
    author_tz_offset: int
    committed_at: str
    message: str
    files: list[FileStat] = field(default_factory=list)
    author_login: str | None = None
    stats_missing: bool = False
    additions_total: int | None = None
    deletions_total: int | None = None
    files_total: int | None = None
    files_known: bool = True

    @property
    def is_merge(self) -> bool:
        return len(self.parents) > 1

    @property
    def co_authors(self) -> list[tuple[str, str]]:
        return parse_co_authors(self.message)


def parse_co_authors(message: str) -> list[tuple[str, str]]:
    """`Co-authored-by: Name <email>` trailers, as GitHub reads them."""
    if "uthored" not in message and "UTHORED" not in message:
        return []
    return [(n, e.strip().lower()) for n, e in CO_AUTHOR_RE.findall(message) if e.strip()]


@dataclass(frozen=True, slots=True)
class DeliveryRecord:
    """A release or a deployment as a source reports it (GitHub's Release and Deployment nodes)."""

    source: str  # "release" or "deployment"
    name: str  # the tag, or "deployment <id>"
    sha: str | None  # the commit it ships; None when the source does not say (yet)
    at: str  # when: published (a release), or the latest status (a deployment); ISO with any offset
    state: str | None = None  # a deployment's latest status (SUCCESS, FAILURE, IN_PROGRESS, ...)
    draft: bool = False
    prerelease: bool = False


@dataclass(slots=True)
class ReviewRecord:
    """One submitted review of a pull request (a dismissed one keeps its place with state DISMISSED)."""

    review_id: str  # GitHub's node id: the same from GraphQL and from webhooks
    reviewer: str | None  # login; None for a deleted account ("ghost")
    reviewer_kind: str  # "user", "bot" or "ghost"
    state: str  # APPROVED, CHANGES_REQUESTED, COMMENTED, DISMISSED, PENDING
    submitted_at: str | None


@dataclass(slots=True)
class RequestRecord:
    """A reviewer asked for (a person or a team), when, and whether the request still waits."""

    reviewer: str  # login, or "team:slug"
    requested_at: str | None
    pending: bool


@dataclass(slots=True)
class PullRecord:
    """A pull request as a source reports it; lists left None are not known from this source."""

    number: int
    title: str
    author: str | None  # login; None for a deleted account ("ghost")
    author_kind: str  # "user", "bot" or "ghost"
    state: str  # "open", "closed" or "merged"
    draft: bool
    created_at: str | None
    updated_at: str | None = None
    ready_at: str | None = None  # when it last became ready for review (created_at when opened ready)
    merged_at: str | None = None
    closed_at: str | None = None
    base_branch: str | None = None
    head_branch: str | None = None
    head_repo: str | None = None  # owner/name the head branch lives in (a fork), when not the repository
    additions: int | None = None
    deletions: int | None = None
    changed_files: int | None = None
    commit_count: int | None = None
    merge_commit_sha: str | None = None
    labels: list[str] | None = None
    first_commit_at: str | None = None
    commits: list[str] | None = None  # head commits (oldest first), as far as the source lists them
    reviews: list[ReviewRecord] | None = None
    requests: list[RequestRecord] | None = None
    inferred: bool = False  # read from a merge commit or a squash subject, not from the service
    body_marks: list[list[str]] | None = None  # [assistant, evidence] an AI assistant left in its description
    source: str = ""  # the kind that reported it ("git" for an inferred one)


@dataclass(slots=True)
class UsageCounts:
    """What an assistant's own report counts for a day: prompts, generations, acceptances and editor lines."""

    prompts: int = 0
    generations: int = 0
    acceptances: int = 0
    lines_suggested: int = 0
    lines_added: int = 0
    lines_deleted: int = 0
    agent_lines: int = 0  # lines its agent (edit and agent modes) wrote into files itself


@dataclass(slots=True)
class UsageDay:
    """An organisation's day in an assistant's usage report: its users and, where reported, pull requests."""

    day: str
    counts: UsageCounts
    active_users: int | None = None
    weekly_active_users: int | None = None
    monthly_active_users: int | None = None
    prs_created: int | None = None
    prs_created_by_assistant: int | None = None
    prs_merged: int | None = None
    prs_merged_by_assistant: int | None = None
    prs_reviewed_by_assistant: int | None = None


@dataclass(slots=True)
class UsageUser:
    """One account's day in an assistant's usage report."""

    day: str
    login: str
    counts: UsageCounts
    used_agent: bool = False
    used_chat: bool = False
    used_cli: bool = False
