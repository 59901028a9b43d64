"""A repository's issues labelled as incidents (`[incidents] labels`) into the incidents table.

Listed through REST (`GET /repos/{owner}/{repo}/issues`). A first sync lists each label's issues (one label at
a time: GitHub joins several with AND). Later ones list every issue updated since the last sync, whatever its
labels, oldest update first: a label added later, a label removed, a reopen or a close all update an issue,
so each is seen and the incident stored, changed or taken back; an unchanged listing is one free 304. Opened
when filed; resolved at its final close; none when closed as not planned or labelled duplicate. Its cause,
when its body names one: "Caused by #123", "root cause: <sha>".
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from teamops.clock import now_iso, parse_iso, to_iso
from teamops.sources.github.events import reads
from teamops.store.database import transaction
from teamops.store.incidents import remove_synced_incident, save_synced_incident
from teamops.store.sync_state import load_state, save_state

if TYPE_CHECKING:
    from sqlite_utils import Database

    from teamops.config import Config
    from teamops.sources import EventOutcome
    from teamops.sources.github.client import GitHubClient

SOURCE = "github"  # the incidents' source; their id is "owner/name#N"
CAUSE_RE = re.compile(
    r"(?i)\b(?:caused by|root cause:?|regression from|introduced (?:in|by))\s+(#\d{1,9}|[0-9a-f]{7,40})\b"
)
NOT_INCIDENTS = ("duplicate",)
CLOCK_MARGIN = timedelta(hours=1)  # how far this machine's clock may run ahead of GitHub's


def incident_fields(
    issue: dict[str, Any], wanted: set[str]
) -> tuple[str, str | None, str, str | None, str | None] | None:
    """(title, severity, opened, resolved, cause) of an issue with one of the wanted labels (lower-cased); None
    when it is no incident."""
    created = issue.get("created_at")
    if not isinstance(created, str) or "pull_request" in issue:
        return None
    names = [str(label.get("name") or "").lower() for label in issue.get("labels") or [] if isinstance(label, dict)]
    if (
        not wanted.intersection(names)
        or issue.get("state_reason") in ("not_planned", "duplicate")
        or any(n in NOT_INCIDENTS for n in names)
    ):
        return None
    severity = next((n for n in names if n.startswith("sev")), None)
    closed = issue.get("closed_at") if issue.get("state") == "closed" else None
    given = issue.get("body")
    body: str = given if isinstance(given, str) else ""
    cause = CAUSE_RE.search(body[:20_000])
    title = str(issue.get("title") or "")[:500] or f"issue #{issue.get('number')}"
    return title, severity, created, closed if isinstance(closed, str) else None, cause.group(1) if cause else None


def sync_incident_issues(db: Database, cfg: Config, client: GitHubClient, repo: str, repo_id: int) -> int | None:
    """Incidents added, changed or taken back since the last sync (None when nothing changed or no label is
    configured)."""
    labels = [label.strip() for label in cfg.incidents.labels if label.strip()]
    if not labels:
        return None
    state = load_state(db, f"github:{repo_id}:~incidents")
    etags: dict[str, str] = dict(state.details.get("etags") or {})
    wanted = {label.lower() for label in labels}
    started = now_iso()
    changed_count = 0
    newest = state.cursor
    # a first sync: each label's issues; later: every issue updated since (its labels may have changed)
    questions = (
        [(label, {"labels": label}) for label in labels] if state.cursor is None else [("*", {"since": state.cursor})]
    )
    for key, narrowed in questions:
        params = _listing(narrowed)
        what = f"the {key if key != '*' else 'updated'} issues of {repo}"
        if state.cursor is not None:  # a first sync has nothing to ask first: it reads
            changed, etag = client.changed(f"/repos/{repo}/issues", etags.get(key), what, {**params, "per_page": 100})
            etags[key] = etag or ""
            if not changed:
                continue
        for page in client.rest_pages(f"/repos/{repo}/issues", params, what):
            with transaction(db):
                for issue in page:
                    if not isinstance(issue, dict) or not isinstance(issue.get("number"), int):
                        continue
                    changed_count += _store(db, repo, repo_id, issue, wanted)
                    updated = issue.get("updated_at")
                    if isinstance(updated, str) and (newest is None or updated > newest):
                        newest = updated
    if state.cursor is None:  # later syncs read every issue updated from here, labelled or not: the ETag of
        newest = to_iso(parse_iso(started) - CLOCK_MARGIN)  # that question, so an unchanged answer is a free 304
        asked = {**_listing({"since": newest}), "per_page": 100}
        _, etag = client.changed(f"/repos/{repo}/issues", None, f"the updated issues of {repo}", asked)
        etags = {"*": etag or ""}
    with transaction(db):
        state.cursor = newest
        state.details = {"etags": etags}
        state.status = "complete"
        save_state(db, state)
    return changed_count or None


def _listing(narrowed: dict[str, str]) -> dict[str, Any]:
    """The issues question: open and closed, oldest update first, narrowed by label or by `since`."""
    return {**narrowed, "state": "all", "sort": "updated", "direction": "asc"}


def _store(db: Database, repo: str, repo_id: int, issue: dict[str, Any], wanted: set[str]) -> int:
    """1 when the issue's incident was stored, changed or taken back; 0 when nothing changed."""
    key = f"{repo}#{issue['number']}"
    fields = incident_fields(issue, wanted)
    if fields is None:
        return remove_synced_incident(db, SOURCE, key)
    return int(save_synced_incident(db, SOURCE, key, repo_id, fields) != "same")


@reads("issues", "an issues payload")
def ingest_issue_payload(db: Database, cfg: Config, payload: dict[str, Any]) -> EventOutcome:
    """An `issues` event: the issue stored as an incident when it carries one of the labels (and is one), or
    taken back when it no longer is (unlabelled, closed as not planned, a duplicate)."""
    from teamops.errors import InvalidInput
    from teamops.sources import EventOutcome
    from teamops.sources.github.commits import github_repo_id

    repository, raw = payload.get("repository"), payload.get("issue")
    repo = repository.get("full_name") if isinstance(repository, dict) else None
    if (
        not isinstance(repo, str)
        or "/" not in repo
        or not isinstance(raw, dict)
        or not isinstance(raw.get("number"), int)
    ):
        raise InvalidInput("not an issues payload: no repository, or no issue with a number")
    key = f"{repo}#{raw['number']}"
    fields = incident_fields(raw, {label.strip().lower() for label in cfg.incidents.labels if label.strip()})
    repo_id = github_repo_id(db, repo)
    with transaction(db):
        if fields is None:
            gone = remove_synced_incident(db, SOURCE, key)
            line = f"issue {key} is no incident" + (" any more: taken back" if gone else "")
        else:
            line = f"incident {key}: {save_synced_incident(db, SOURCE, key, repo_id, fields)}"
    return EventOutcome(f"ingested issues event: {line}", {"report": "sync-commits-event", "repo": repo})
