"""GitHub push event payloads: signature check and parsing into commit records."""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from teamops.clock import iso_with_offset
from teamops.errors import InvalidInput
from teamops.records import CommitRecord


@dataclass
class PushEvent:
    """What a push says: the repository, the ref and its distinct new commits."""

    repo: str
    ref: str
    before: str
    after: str
    created: bool
    deleted: bool
    forced: bool
    commits: list[CommitRecord] = field(default_factory=list)
    skipped_not_distinct: int = 0
    pushed_at: str = ""  # when the push happened (ISO, UTC), as the payload says

    @property
    def is_tag(self) -> bool:
        return self.ref.startswith("refs/tags/")

    @property
    def branch(self) -> str | None:
        return self.ref.removeprefix("refs/heads/") if self.ref.startswith("refs/heads/") else None


def signature_of(secret: str, body: bytes) -> str:
    """`sha256=` + hex HMAC-SHA256 of the raw body, as GitHub sends in X-Hub-Signature-256."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def check_signature(secret: str | None, body: bytes, signature: str | None) -> None:
    """Required when a secret is set; compared in constant time; a mismatch is invalid input."""
    if not secret:
        return
    if not signature:
        raise InvalidInput(
            "GITHUB_WEBHOOK_SECRET is set but no signature was given",
            "pass the X-Hub-Signature-256 header value with --signature sha256=HEX",
        )
    expected = signature_of(secret, body)
    if not hmac.compare_digest(expected.encode(), signature.strip().encode("utf-8", "replace")):
        raise InvalidInput("the payload signature does not match: nothing was stored")


def _describe(data: Any) -> str:
    if not isinstance(data, dict):
        return f"a JSON {type(data).__name__}"
    if "zen" in data and "hook_id" in data:
        return "a ping event"
    if "pull_request" in data:
        return "a pull_request event"
    if "issue" in data:
        return "an issues event"
    keys = ", ".join(sorted(data)[:6])
    return f"an object with keys {keys}" if keys else "an empty object"


def _str(data: dict[str, Any], key: str, where: str = "") -> str:
    value = data.get(key)
    if not isinstance(value, str):
        raise InvalidInput(f"push payload: {where}{key} must be a string, got {type(value).__name__}")
    return value


def _to_utc(value: str, where: str) -> tuple[str, int]:
    try:
        return iso_with_offset(value)
    except (ValueError, TypeError, OverflowError):
        raise InvalidInput(f"push payload: {where}timestamp {value!r} is not an ISO time") from None


def parse_push(body: bytes, event_name: str | None, max_commits: int = 2048) -> PushEvent:
    """A push event from raw bytes, or InvalidInput naming what was received instead."""
    if event_name and event_name != "push":
        raise InvalidInput(f"received a {event_name!r} event; only push events carry commits")
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise InvalidInput(f"the event is not valid JSON ({type(exc).__name__})") from None
    except RecursionError:
        raise InvalidInput("the event is nested too deeply to be a push payload") from None
    if not isinstance(data, dict) or not {"ref", "commits", "repository"} <= set(data):
        raise InvalidInput(f"received {_describe(data)}, not a push payload")
    repository = data.get("repository")
    if not isinstance(repository, dict):
        raise InvalidInput("push payload: repository must be an object")
    full_name = repository.get("full_name")
    if not isinstance(full_name, str) or "/" not in full_name:
        raise InvalidInput("push payload: repository.full_name must look like owner/name")
    commits = data.get("commits")
    if not isinstance(commits, list):
        raise InvalidInput("push payload: commits must be a list")
    if len(commits) > max_commits:
        raise InvalidInput(
            f"push payload: {len(commits):,} commits, more than the {max_commits:,} a push lists: refused",
            "GitHub lists at most 2,048; raise [github] event_max_commits if yours really hold more",
        )
    event = PushEvent(
        repo=full_name,
        ref=_str(data, "ref"),
        before=str(data.get("before") or ""),
        after=str(data.get("after") or ""),
        created=bool(data.get("created")),
        deleted=bool(data.get("deleted")),
        forced=bool(data.get("forced")),
        pushed_at=_pushed_at(repository.get("pushed_at")),
    )
    if event.deleted or event.is_tag:
        return event
    for i, raw in enumerate(commits):
        where = f"commits[{i}]."
        if not isinstance(raw, dict):
            raise InvalidInput(f"push payload: commits[{i}] must be an object")
        if raw.get("distinct") is False:
            event.skipped_not_distinct += 1
            continue
        sha = _str(raw, "id", where)
        if len(sha) != 40 or any(ch not in "0123456789abcdef" for ch in sha.lower()):
            raise InvalidInput(f"push payload: {where}id {sha[:50]!r} is not a commit sha")
        author = raw.get("author") or {}
        if not isinstance(author, dict):
            raise InvalidInput(f"push payload: {where}author must be an object")
        authored_at, offset = _to_utc(_str(raw, "timestamp", where), where)
        message = raw.get("message")
        event.commits.append(
            CommitRecord(
                sha=sha.lower(),
                parents=[],
                author_name=str(author.get("name") or ""),
                author_email=str(author.get("email") or "").lower(),
                authored_at=authored_at,
                author_tz_offset=offset,
                committed_at=authored_at,
                message=str(message or "").rstrip("\n"),
                author_login=author.get("username") if isinstance(author.get("username"), str) else None,
                stats_missing=True,
                files_known=False,
            )
        )
    return event


def _pushed_at(value: Any) -> str:
    """`repository.pushed_at` of a push payload: epoch seconds (an ISO string in other events)."""
    if isinstance(value, int | float) and not isinstance(value, bool) and 0 < value < 32503680000:
        return datetime.fromtimestamp(value, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return ""
