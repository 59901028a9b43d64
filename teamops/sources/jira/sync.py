"""Mirror a Jira Cloud site's issues into tasks: their current values, their status, points and sprint history
from the changelog (dated as Jira dates it), their sprints and who holds them.

One pass reads `POST /rest/api/3/search/jql` (never the old `/search`, gone since 2025) for the configured
projects or JQL, issues updated since the last pass minus a margin (search is eventually consistent), oldest
update first, 100 a page with each issue's changelog embedded; each page is stored in one transaction with
the token of the next, so a killed pass resumes there. An issue whose changelog Jira cut (more than the
embedded entries) is read again whole through `POST /rest/api/3/changelog/bulkfetch`, 1,000 issues a call.
Every so often (`full_every_hours`) a pass reads everything: a synced issue it does not see was deleted or
left the query.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from teamops.clock import now_iso, parse_iso, to_iso
from teamops.errors import ServiceError
from teamops.people.identities import normalise
from teamops.sources.jira.records import Change, JiraIssue, SiteFields, changes_of, issue_of, number, site_fields
from teamops.store import tasks as task_store
from teamops.store.database import transaction
from teamops.store.people import identity_map, save_tracker_users
from teamops.store.sprints import save_closed, save_started_from_history, save_synced_sprint, sprint_by_name
from teamops.store.sprints import sprint_ids as stored_sprint_ids
from teamops.store.sync_state import SyncState, load_state, save_state
from teamops.store.tasks import Change as Written

if TYPE_CHECKING:
    from sqlite_utils import Database

    from teamops.config import Config
    from teamops.sources.jira import JiraConfig
    from teamops.sources.jira.client import JiraClient

KIND = "jira"  # the tasks' source, their events' source, the identity kind of Jira's accountIds
PAGE = 100  # issues a search page, with their fields and changelog
BULK_ISSUES = 1000  # issues a bulk changelog call takes
Holder = tuple[int | None, str]


@dataclass
class JiraResult:
    """What one sync did, for the summary line and the JSON."""

    issues: int = 0
    added: int = 0
    changed: int = 0
    closed: int = 0
    removed: int = 0
    moved: int = 0
    events: int = 0
    sprints: int = 0
    requests: int = 0
    seconds: float = 0.0
    full: bool = False
    notes: list[str] = field(default_factory=list)


class Statuses:
    """Jira statuses onto teamops' set: the configured map, else by the status's category (To Do, In
    Progress, Done), learned from the issues read; a status never seen with its category by its name."""

    def __init__(self, cfg: Config, settings: JiraConfig) -> None:
        self.cfg = cfg
        self.mapped = {k.strip().lower(): v for k, v in settings.status_map.items()}
        self.categories: dict[str, str] = {}

    def learn(self, name: str, category: str) -> None:
        if name and category:
            self.categories[name.lower()] = category

    def of(self, name: str | None) -> str | None:
        if name is None:
            return None
        t = self.cfg.tasks
        key = name.strip().lower()
        if key in self.mapped:
            return self.mapped[key]
        category = self.categories.get(key) or _category_by_name(key)
        if category == "done":
            return t.done_statuses[0]
        if category == "new":
            return t.default_status
        if "block" in key and t.blocked_statuses:
            return t.blocked_statuses[0]
        if "review" in key and "review" in t.statuses:
            return "review"
        return t.active_statuses[0] if t.active_statuses else t.default_status


def _category_by_name(name: str) -> str:
    if name in ("done", "closed", "resolved", "released", "complete", "completed", "won't do", "cancelled"):
        return "done"
    if name in ("to do", "todo", "open", "backlog", "new", "selected for development", "reopened"):
        return "new"
    return "indeterminate"


class People:
    """Jira accounts to people: by accountId, then email (when the site shows it); each one seen is kept for
    `people unmapped`, except apps (accountType "app"), which are bots."""

    def __init__(self, db: Database) -> None:
        self.db = db
        ids: dict[str, dict[str, int]] = {KIND: {}, "email": {}}
        for kind, value, pid in identity_map(db):
            if kind in ids:
                ids[kind][value] = pid
        self.by_id, self.by_email = ids[KIND], ids["email"]
        self.seen: dict[str, tuple[str | None, str | None]] = {}

    def holder(self, user: dict[str, Any]) -> Holder:
        email = normalise("email", user["email"]) if user.get("email") else None
        if not user.get("app"):
            self.seen[user["id"]] = (user.get("name"), email)
        pid = self.by_id.get(normalise(KIND, user["id"])) or (self.by_email.get(email) if email else None)
        return pid, f"{KIND}:{user['id']}"

    def remember(self) -> None:
        with transaction(self.db):
            save_tracker_users(self.db, KIND, self.seen)


@dataclass
class Context:
    """What every page of a pass shares."""

    cfg: Config
    settings: JiraConfig
    fields: SiteFields
    statuses: Statuses
    people: People
    sprints: dict[str, int]
    result: JiraResult
    pass_id: str


def jql_for(settings: JiraConfig, minutes: int | None) -> str:
    """The pass's query: the configured JQL or projects, updated in the last N minutes (relative to Jira's own
    clock, so no time zone of the account's applies), oldest update first."""
    base = settings.jql.strip() or "project in ({})".format(", ".join(f'"{p}"' for p in settings.projects))
    if minutes is not None:
        base = f'({base}) AND updated >= "-{minutes}m"'
    return f"{base} ORDER BY updated ASC"


def sync_jira(
    db: Database, cfg: Config, settings: JiraConfig, client: JiraClient, *, full: bool = False, progress: Any = None
) -> JiraResult:
    """One pass over the site (resumed when the last was killed), then the sprints and their commitments."""
    started = time.monotonic()
    result = JiraResult()
    fields = site_fields(
        client.get("/rest/api/3/field", what="the site's fields"), settings.points_field, settings.accountable_field
    )
    if not fields.points:
        result.notes.append(
            "no story-point field on this site (neither 'Story Points' nor 'Story point estimate'): tasks keep no "
            "points; set [jira] points_field"
        )
    sprint_states = _sync_sprints(db, settings, client, result)
    state = load_state(db, f"{KIND}:issues")
    run = _start(db, settings, state, full)
    ctx = Context(
        cfg, settings, fields, Statuses(cfg, settings), People(db), stored_sprint_ids(db), result, run["pass_id"]
    )
    result.full = bool(run["full"])
    token = run.get("token")
    while True:
        body: dict[str, Any] = {
            "jql": run["jql"],
            "fields": fields.wanted(),
            "expand": "changelog",
            "maxResults": PAGE,
        }
        if token:
            body["nextPageToken"] = token
        try:
            page = client.post("/rest/api/3/search/jql", body, what="the issues search")
        except ServiceError as exc:
            if token and "(400)" in exc.message:  # a page token Jira no longer takes: the pass starts over
                token = None
                continue
            raise
        issues = page.get("issues") if isinstance(page, dict) else None
        if not isinstance(issues, list):
            raise ServiceError("Jira answered the issues search with something that is not a page of issues")
        token = page.get("nextPageToken") if isinstance(page.get("nextPageToken"), str) else None
        with transaction(db):
            cut = [_without_changelog(raw) for raw in issues if _store_issue(db, ctx, raw)]
            state.details.setdefault("whole_changelog", []).extend(cut)
            state.details["token"] = token
            state.requests_used = client.requests
            save_state(db, state)
        if progress:
            progress(len(issues), None)
        if not token or page.get("isLast") is True:
            break
    _whole_changelogs(db, ctx, client, state)
    _end(db, ctx, state, run)
    ctx.people.remember()
    _sprint_lifecycle(db, ctx, sprint_states)
    result.requests = client.requests
    result.seconds = time.monotonic() - started
    return result


def _start(db: Database, settings: JiraConfig, state: SyncState, full: bool) -> dict[str, Any]:
    """Resume a pass a kill left, or begin one: whole when asked, on first sight or when one is due."""
    d = state.details
    if state.status == "running" and d.get("pass_id") and d.get("jql"):
        return {"pass_id": d["pass_id"], "jql": d["jql"], "full": d.get("full"), "token": d.get("token")}
    now = parse_iso(now_iso())
    due = not d.get("last_full") or now - parse_iso(d["last_full"]) > timedelta(hours=settings.full_every_hours)
    whole = full or not state.cursor or due
    minutes = None
    if not whole and state.cursor:
        minutes = int((now - parse_iso(state.cursor)).total_seconds() // 60) + settings.overlap_minutes
    run = {
        "pass_id": f"jira:{now_iso()}:{uuid.uuid4().hex[:12]}",
        "jql": jql_for(settings, minutes),
        "full": whole,
        "token": None,
    }
    state.status = "running"
    d.update({"pass_id": run["pass_id"], "jql": run["jql"], "full": whole, "token": None, "started": now_iso()})
    d.setdefault("whole_changelog", [])
    with transaction(db):
        save_state(db, state)
    return run


def _end(db: Database, ctx: Context, state: SyncState, run: dict[str, Any]) -> None:
    """After a whole pass, the synced issues it did not see are gone; the cursor moves to the pass's start."""
    d = state.details
    with transaction(db):
        if run["full"]:
            by = Written(now_iso(), KIND, KIND)
            for task_id in task_store.stale_synced(db, KIND, None, ctx.pass_id):
                task_store.save_removed(db, task_id, by, "deleted in Jira, or no longer in [jira] projects/jql")
                ctx.result.removed += 1
            d["last_full"] = d.get("started") or now_iso()
        state.cursor = d.get("started") or now_iso()
        state.status = "complete"
        state.last_success_at = now_iso()
        for key in ("pass_id", "jql", "full", "token", "started", "whole_changelog"):
            d.pop(key, None)
        save_state(db, state)


def _store_issue(db: Database, ctx: Context, raw: Any) -> bool:
    """One issue of a page stored; False instead when its changelog was cut: it is stored once read whole."""
    issue = issue_of(raw, ctx.fields)
    if issue is None:
        return False
    ctx.result.issues += 1
    ctx.statuses.learn(issue.status, issue.category)
    log: dict[str, Any] = raw["changelog"] if isinstance(raw.get("changelog"), dict) else {}
    histories: list[Any] = log["histories"] if isinstance(log.get("histories"), list) else []
    total = log["total"] if isinstance(log.get("total"), int) else len(histories)
    if total > len(histories):
        return True
    _save(db, ctx, issue, [c for h in histories for c in changes_of(h)])
    return False


def _without_changelog(raw: dict[str, Any]) -> dict[str, Any]:
    """An issue kept in the pass's state until its whole changelog is read (the cut one left out)."""
    return {k: v for k, v in raw.items() if k != "changelog"}


def _whole_changelogs(db: Database, ctx: Context, client: JiraClient, state: SyncState) -> None:
    """The issues whose changelog Jira cut in the search, stored with their whole changelog (1,000 a call)."""
    waiting = [raw for raw in state.details.get("whole_changelog") or [] if isinstance(raw, dict)]
    by_id = {str(raw.get("id")): raw for raw in waiting}
    pending = list(by_id)
    wanted = [f for f in ctx.fields.history() if f]
    while pending:
        batch, pending = pending[:BULK_ISSUES], pending[BULK_ISSUES:]
        found: dict[str, list[Change]] = {}
        token: str | None = None
        while True:
            body: dict[str, Any] = {"issueIdsOrKeys": batch, "fieldIds": wanted, "maxResults": 10_000}
            if token:
                body["nextPageToken"] = token
            page = client.post("/rest/api/3/changelog/bulkfetch", body, what="the changelogs")
            for log in page.get("issueChangeLogs") or [] if isinstance(page, dict) else []:
                if isinstance(log, dict) and isinstance(log.get("issueId"), str):
                    mine = found.setdefault(log["issueId"], [])
                    mine += [c for h in log.get("changeHistories") or [] for c in changes_of(h)]
            token = page.get("nextPageToken") if isinstance(page, dict) else None
            if not isinstance(token, str) or not token:
                break
        with transaction(db):
            for issue_id in batch:
                issue = issue_of(by_id[issue_id], ctx.fields)
                if issue is not None:
                    _save(db, ctx, issue, found.get(issue_id, []))
            state.details["whole_changelog"] = [by_id[i] for i in pending]
            save_state(db, state)


# -- one issue -------------------------------------------------------------------------------------------


def _sprint_name(issue: JiraIssue) -> str | None:
    """The issue's sprint now: the active one, else the next planned, else the last closed."""
    by_state = {s.get("state"): s for s in issue.sprints}
    chosen = by_state.get("active") or by_state.get("future") or (issue.sprints[-1] if issue.sprints else None)
    return str(chosen.get("name"))[:200] if chosen and chosen.get("name") else None


def _last_sprint(text: str | None) -> str | None:
    """A changelog's Sprint value ("Sprint 1, Sprint 2"): the last sprint named, the one the issue moved to."""
    names = [n.strip() for n in (text or "").split(",") if n.strip()]
    return names[-1] if names else None


def _event(ctx: Context, change: Change) -> tuple[str, Any, Any] | None:
    """A changelog item as a task event (field, old, new), or None for a field teamops keeps no history of."""
    fid = change.field_id
    if fid == "status" or change.field.lower() == "status":
        return "status", ctx.statuses.of(change.old), ctx.statuses.of(change.new)
    if fid in ctx.fields.points or change.field.lower() in ("story points", "story point estimate"):
        return "points", number(change.old), number(change.new)
    if (ctx.fields.sprint and fid == ctx.fields.sprint) or change.field.lower() == "sprint":
        return "sprint", _last_sprint(change.old), _last_sprint(change.new)
    if fid == "resolution" or change.field.lower() == "resolution":
        return "resolution", change.old, change.new
    if change.field.lower() == "key":
        return "key", change.old, change.new
    return None


def _save(db: Database, ctx: Context, issue: JiraIssue, changes: list[Change]) -> None:
    """Insert or update one issue's task: its history first (as it happened), then its values now."""
    s = ctx.settings
    status = ctx.statuses.of(issue.status) or ctx.cfg.tasks.default_status
    sprint = _sprint_name(issue)
    fields = {
        "title": issue.title,
        "status": status,
        "points": issue.points,
        "estimate_hours": None,
        "spent_hours": None,
        "sprint": sprint,
        "due_date": issue.due,
        "url": f"{s.url.rstrip('/')}/browse/{issue.key}",
    }
    found = task_store.synced_by_external(db, KIND, issue.id)
    created = Written(_utc(issue.created), None, KIND)
    if found is None:
        initial = dict(fields)
        for name in ("status", "points", "sprint"):  # as it was filed: the first change's old value
            first = next((e for c in sorted(changes, key=_order) if (e := _event(ctx, c)) and e[0] == name), None)
            if first is not None:
                initial[name] = first[1]
        task_id = task_store.save_new_task(
            db,
            created,
            issue.key,
            initial,
            {"source": KIND, "external_id": issue.id, "created_at": _utc(issue.created)},
        )
        for name in ("points", "sprint"):  # an empty start is a value too: a later change is not its first
            if initial[name] is None and any((e := _event(ctx, c)) and e[0] == name for c in changes):
                task_store.save_event(db, task_id, created, name, None, None)
        ctx.result.added += 1
        before_key = issue.key
    else:
        task_id, before_key = found
    _apply_history(db, ctx, task_id, changes)
    before = task_store.snapshot(db, task_id)
    if before_key != issue.key:  # moved to another project: the old key stays an alias (task_refs)
        task_store.save_key(db, task_id, issue.key)
        moved = Written(_utc(issue.updated), None, KIND)
        task_store.save_event_once(
            db, task_id, moved, "key", before_key, issue.key, task_store.history_of(db, task_id, KIND)
        )
        ctx.result.moved += 1
    # what the history says nothing of (title, due date, link) changed at the issue's last update
    at = Written(_utc(issue.updated), None, KIND)
    changed = task_store.save_task_changes(
        db, task_id, at, before, {k: fields[k] for k in ("title", "due_date", "url")}, {}
    )
    columns = _columns(db, ctx, issue, status, sprint, task_id)
    now_values = {"status": status, "points": issue.points, "sprint": sprint, "removed_at": columns["removed_at"]}
    if any(before.get(k) != v for k, v in now_values.items()):
        changed.append("values")
    if bool(before.get("removed_at")) != bool(columns["removed_at"]):  # resolved as not delivered, or reopened
        why = f"resolved as {issue.resolution}: not delivered"
        if columns["removed_at"]:
            task_store.save_event(db, task_id, Written(columns["removed_at"], None, KIND), "removed", None, why)
        else:
            task_store.save_event(db, task_id, at, "removed", before.get("removed_at"), None)
    task_store.save_task_changes(db, task_id, at, before, {}, columns)
    if _save_roles(db, ctx, task_id, issue):
        changed.append("roles")
    if found is not None and changed:
        done = columns["status"] in ctx.cfg.tasks.done_statuses and before.get("status") != columns["status"]
        if done:
            ctx.result.closed += 1
        else:
            ctx.result.changed += 1


def _columns(
    db: Database, ctx: Context, issue: JiraIssue, status: str, sprint: str | None, task_id: int
) -> dict[str, Any]:
    """The task's values now; when work started and ended from its status history."""
    t = ctx.cfg.tasks
    events = [e for e in task_store.events(db, task_id) if e.get("field") == "status"]
    started = next(
        (e["at"] for e in events if e.get("new") in t.active_statuses or e.get("new") in t.done_statuses), None
    )
    done_at = None
    if status in t.done_statuses:
        done_at = (
            _utc(issue.resolved)
            if issue.resolved
            else next((e["at"] for e in reversed(events) if e.get("new") in t.done_statuses), _utc(issue.updated))
        )
    not_delivered = status in t.done_statuses and (issue.resolution or "").lower() in {
        r.lower() for r in ctx.settings.not_delivered
    }
    sprint_id = ctx.sprints.get(sprint) if sprint else None
    return {
        "status": status,
        "points": issue.points,
        "sprint_id": sprint_id,
        "started_at": started,
        "done_at": done_at,
        "removed_at": done_at if not_delivered else None,
        "parent_key": issue.parent,
        "list_id": issue.project,
        "description": issue.description,
        "updated_at": _utc(issue.updated),
        "sync_pass": ctx.pass_id,
        "external_id": issue.id,
    }


def _apply_history(db: Database, ctx: Context, task_id: int, changes: list[Change]) -> None:
    """Each changelog item a task event at its own time, by its author, once."""
    seen = task_store.history_of(db, task_id, KIND)
    for change in sorted(changes, key=_order):
        event = _event(ctx, change)
        if event is None:
            continue
        by = Written(_utc(change.at), f"{KIND}:{change.actor}" if change.actor else None, KIND)
        if task_store.save_event_once(db, task_id, by, *event, seen):
            ctx.result.events += 1


def _save_roles(db: Database, ctx: Context, task_id: int, issue: JiraIssue) -> bool:
    """The assignee is Responsible; the accountable field's users are Accountable."""
    wanted: dict[str, list[Holder]] = {"R": [], "A": []}
    if issue.assignee:
        wanted["R"] = [ctx.people.holder(issue.assignee)]
    wanted["A"] = [ctx.people.holder(u) for u in issue.accountable]
    by = Written(_utc(issue.updated), None, KIND)
    return task_store.save_held_roles(db, task_id, by, wanted, task_store.role_refs(db, task_id))


def _order(change: Change) -> tuple[str, int, str]:
    return (_utc(change.at), int(change.id) if change.id.isdigit() else 0, change.field_id)


def _utc(stamp: str | None) -> str:
    """Jira's times (`2026-11-02T10:15:30.000+0100`) in UTC, as teamops stores every time; now when missing."""
    try:
        return to_iso(parse_iso(stamp.strip())) if stamp else now_iso()
    except ValueError:
        return now_iso()


# -- sprints ---------------------------------------------------------------------------------------------


SprintStates = dict[str, tuple[str, str, str]]  # sprint name → (Jira's state, started, completed or ends)


def _sync_sprints(db: Database, settings: JiraConfig, client: JiraClient, result: JiraResult) -> SprintStates:
    """The boards' sprints (Agile API) as teamops sprints, with their dates; returns what Jira says of each."""
    boards = list(settings.boards)
    if not boards:
        for project in settings.projects:
            for values in _agile_pages(client, "/rest/agile/1.0/board", {"projectKeyOrId": project}, project):
                boards += [int(b["id"]) for b in values if isinstance(b, dict) and isinstance(b.get("id"), int)]
    states: SprintStates = {}
    for board in dict.fromkeys(boards):
        for values in _agile_pages(client, f"/rest/agile/1.0/board/{board}/sprint", {}, f"board {board}"):
            with transaction(db):
                for sprint in values:
                    _save_sprint(db, sprint, result, states)
    result.sprints = len(states)
    return states


def _agile_pages(client: JiraClient, path: str, params: dict[str, Any], what: str) -> Any:
    """The Agile API's offset pages (`startAt`, `isLast`), 50 a page, as lists."""
    start = 0
    while True:
        page = client.get(
            path, {**params, "startAt": start, "maxResults": 50}, what=f"the {path.rsplit('/', 1)[1]}s of {what}"
        )
        values = page.get("values") if isinstance(page, dict) else None
        values = [v for v in values if isinstance(v, dict)] if isinstance(values, list) else []
        yield values
        if not isinstance(page, dict) or page.get("isLast", True) or not values:
            return
        start += len(values)


def _save_sprint(db: Database, sprint: dict[str, Any], result: JiraResult, states: SprintStates) -> None:
    if sprint.get("id") is None or not sprint.get("name"):
        return
    name = str(sprint["name"])[:200]
    start, end = sprint.get("startDate"), sprint.get("endDate")
    if not isinstance(start, str) or not isinstance(end, str):
        if sprint.get("state") != "future":  # a future sprint has dates once it is planned: stored then
            result.notes.append(f"sprint {name!r} has no dates: skipped")
        return
    save_synced_sprint(db, KIND, name, _utc(start)[:10], _utc(end)[:10], str(sprint["id"]))
    completed = sprint.get("completeDate") if isinstance(sprint.get("completeDate"), str) else end
    states[name] = (str(sprint.get("state") or ""), _utc(start), _utc(completed))


def _sprint_lifecycle(db: Database, ctx: Context, states: SprintStates) -> None:
    """A sprint Jira started is started here with the commitment its history gives (the issues in it at its
    start, their points then); one Jira completed is closed at its completion."""
    for name, (state, started, completed) in states.items():
        sprint = sprint_by_name(db, name)
        if sprint is None:
            continue
        status = sprint["status"]
        if state in ("active", "closed") and status == "planned":
            with transaction(db):
                members = task_store.values_at(db, KIND, "sprint", started)
                points = task_store.values_at(db, KIND, "points", started)
                committed = [(tid, number(points.get(tid))) for tid, now_in in members.items() if now_in == name]
                save_started_from_history(db, sprint["id"], started, committed)
            ctx.result.notes.append(f"sprint {name!r}: started {started[:10]}, {len(committed)} issues committed")
            status = "active"
        if state == "closed" and status == "active":
            with transaction(db):
                save_closed(db, sprint["id"], completed)
