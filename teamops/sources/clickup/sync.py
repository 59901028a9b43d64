"""Mirror ClickUp lists into tasks: statuses, points, hours, RACI fields, sprints and status history."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from teamops.clock import date_from_ms, iso_from_ms, now_iso
from teamops.config import Config
from teamops.errors import ConfigError, ServiceError
from teamops.integrations.clickup import ClickUpTask, ms, number
from teamops.people.identities import normalise
from teamops.store import tasks as task_store
from teamops.store.database import transaction
from teamops.store.people import identity_map, people, save_tracker_users
from teamops.store.sprints import save_closed, save_synced_sprint, sprint_by_name, sprint_ids, synced_sprints
from teamops.store.sync_state import SyncState, load_state, save_state
from teamops.store.tasks import ROLES, Change
from teamops.wording import count
from teamops.work.sprints import start_sprint
from teamops.work.tasks import status_columns

if TYPE_CHECKING:
    from sqlite_utils import Database

    from teamops.integrations.clickup import ClickUpClient

ROLE_KEYS = {"responsible": "R", "accountable": "A", "consulted": "C", "informed": "I"}
SPRINT_NAME_RE = re.compile(r"\((\d{1,2})/(\d{1,2})(?:/(\d{2,4}))?\s*[-–]\s*(\d{1,2})/(\d{1,2})(?:/(\d{2,4}))?\)")
KIND = BY_CLICKUP = "clickup"  # the tasks' source, their changes' author, the identity kind of its users
Holder = tuple[int | None, str]


def map_status(name: str, kind: str, cfg: Config) -> str:
    """A ClickUp status onto teamops' set: the configured map, the same name, or by its type."""
    t = cfg.tasks
    name = name.strip().lower()
    if not name and not kind:
        return t.default_status
    mapped = {k.lower(): v for k, v in cfg.clickup.status_map.items()}
    if name in mapped:
        return mapped[name]
    snake = re.sub(r"[\s-]+", "_", name)
    if snake in t.statuses:
        return snake
    if kind in ("closed", "done"):
        return t.done_statuses[0]
    if "block" in name:
        return t.blocked_statuses[0]
    if "review" in name and "review" in t.statuses:
        return "review"
    if kind == "open":
        return t.default_status
    return t.active_statuses[0] if t.active_statuses else t.default_status


def sprint_dates(lst: dict[str, Any]) -> tuple[str | None, str | None]:
    """A sprint list's dates: its start and due dates, else parsed from a name like 'Sprint 3 (11/2 - 11/15)'."""
    start, end = date_from_ms(ms(lst.get("start_date"))), date_from_ms(ms(lst.get("due_date")))
    if start and end:
        return start, end
    match = SPRINT_NAME_RE.search(str(lst.get("name") or ""))
    if not match:
        return start, end
    m1, d1, y1, m2, d2, y2 = match.groups()
    year = int(y1 or y2 or (date_from_ms(ms(lst.get("date_created"))) or date.today().isoformat())[:4])
    year = year + 2000 if year < 100 else year
    first = date(year, int(m1), int(d1))
    end_year = int(y2) + (2000 if y2 and int(y2) < 100 else 0) if y2 else year
    last = date(end_year, int(m2), int(d2))
    if last < first:  # "Sprint 9 (12/28 - 1/10)"
        last = date(end_year + 1, int(m2), int(d2))
    return start or first.isoformat(), end or last.isoformat()


@dataclass
class ClickUpResult:
    """What one sync did, for the summary line."""

    lists: int = 0
    added: int = 0
    changed: int = 0
    closed: int = 0
    removed: int = 0
    requests: int = 0
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)
    time_in_status: str = "off"


class _People:
    """ClickUp users to people: by ClickUp id, then email; unknown users are remembered for `people unmapped`."""

    def __init__(self, db: Database) -> None:
        self.db = db
        ids: dict[str, dict[str, int]] = {"clickup": {}, "email": {}, "name": {}}
        for kind, value, pid in identity_map(db):
            if kind in ids:
                ids[kind][value] = pid
        self.by_id, self.by_email, self.by_name = ids["clickup"], ids["email"], ids["name"]
        self.by_handle = {p.handle.lower(): p.id for p in people(db)}
        self.seen: dict[str, tuple[str | None, str | None]] = {}

    def user(self, user: dict[str, Any]) -> Holder:
        uid = str(user.get("id") or "")
        email = normalise("email", str(user.get("email") or "")) if user.get("email") else None
        self.seen[uid] = (user.get("username"), email)
        pid = self.by_id.get(uid) or (self.by_email.get(email) if email else None)
        return pid, f"clickup:{uid}"

    def named(self, name: str) -> Holder:
        """A drop-down or label option naming a person: handle, email or display name."""
        key = name.strip()
        pid = (
            self.by_handle.get(key.lower())
            or self.by_email.get(key.lower())
            or self.by_name.get(normalise("name", key))
        )
        return pid, f"clickup-option:{key}"

    def remember(self) -> None:
        with transaction(self.db):
            save_tracker_users(self.db, KIND, self.seen)


def _field_people(cf: dict[str, Any], people: _People) -> list[Holder]:
    """Who a custom field names: users fields by user; drop-downs and labels by option name."""
    kind = cf.get("type")
    value = cf.get("value")
    if value is None or value == "":
        return []
    if kind == "users":
        return [people.user(u) for u in (value if isinstance(value, list) else [value]) if isinstance(u, dict)]
    options = (cf.get("type_config") or {}).get("options") or []
    if kind == "drop_down":
        idx = ms(value)
        chosen = next((o for o in options if o.get("orderindex") == idx or o.get("id") == value), None)
        return [people.named(str(chosen.get("name")))] if chosen else []
    if kind == "labels":
        ids = value if isinstance(value, list) else [value]
        names = [str(o.get("name") or o.get("label")) for o in options if o.get("id") in ids]
        return [people.named(n) for n in names]
    return []


@dataclass
class SyncedTask:
    """A ClickUp task as teamops stores it, with its role holders."""

    key: str
    external_id: str
    fields: dict[str, Any]
    list_id: str
    parent_key: str | None
    created_at: str
    updated_ms: int
    done_at: str | None
    archived: bool
    roles: dict[str, list[Holder]]


def hours(stamp: int | None) -> float | None:
    return None if stamp is None else round(stamp / 3_600_000, 2)


def to_synced(t: ClickUpTask, cfg: Config, people: _People, sprints: dict[str, str]) -> SyncedTask:
    """Map a ClickUp task onto teamops' fields: statuses, points, hours, sprint and RACI roles."""
    cu = cfg.clickup
    points = t.points
    if cu.points_field:
        cf = t.custom_fields.get(cu.points_field.lower())
        points = number(cf.get("value")) if cf else None
    roles: dict[str, list[Holder]] = {r: [] for r in ROLES}
    for key, field_name in cu.raci_fields.items():
        cf = t.custom_fields.get(field_name.strip().lower())
        if cf is not None:
            roles[ROLE_KEYS[key]] = _field_people(cf, people)
    if not roles["R"] and cu.assignees_as_responsible:
        roles["R"] = [people.user(u) for u in t.assignees]
    status = map_status(t.status, t.status_type, cfg)
    fields = {
        "title": t.name,
        "status": status,
        "points": points,
        "estimate_hours": hours(t.time_estimate_ms),
        "spent_hours": hours(t.time_spent_ms),
        # A task added to a sprint list keeps its home list; the sprint list is one of its locations.
        "sprint": next((sprints[x] for x in (t.list_id, *t.locations) if x in sprints), None),
        "due_date": date_from_ms(t.due_ms),
        "url": t.url,
    }
    return SyncedTask(
        key=f"cu:{t.id}",
        external_id=t.id,
        fields=fields,
        list_id=t.list_id,
        parent_key=f"cu:{t.parent}" if t.parent else None,
        created_at=iso_from_ms(t.created_ms) or now_iso(),
        updated_ms=t.updated_ms,
        done_at=iso_from_ms(t.done_ms) if status in cfg.tasks.done_statuses else None,
        archived=t.archived,
        roles=roles,
    )


def save_synced(db: Database, cfg: Config, task: SyncedTask, sprints: dict[str, int], pass_id: str) -> str:
    """Insert or update one task through the one task writer; returns added, changed, closed or same."""
    now = now_iso()
    by = Change(now, BY_CLICKUP, "clickup")
    sprint_id = sprints.get(task.fields["sprint"]) if task.fields["sprint"] else None
    removed_at = now if task.archived else None
    before = task_store.synced_task(db, task.key)
    status = task.fields["status"]
    columns: dict[str, Any]
    if before is None:
        columns = {
            **status_columns(cfg, status, None, now),
            "done_at": task.done_at,
            "sprint_id": sprint_id,
            "source": "clickup",
            "external_id": task.external_id,
            "list_id": task.list_id,
            "parent_key": task.parent_key,
            "removed_at": removed_at,
            "created_at": task.created_at,
            "updated_at": now,
            "sync_pass": pass_id,
        }
        task_id = task_store.save_new_task(db, by, task.key, task.fields, columns)
        task_store.save_held_roles(db, task_id, by, task.roles, {})
        return "added"
    task_id = before["id"]
    # Field events first, then removal, then roles: the order a task's history has always had.
    changes = task_store.save_task_changes(db, task_id, by, before, task.fields, {})
    columns = {"sync_pass": pass_id, "list_id": task.list_id, "parent_key": task.parent_key}
    if "sprint" in changes:
        columns["sprint_id"] = sprint_id
    if "status" in changes:
        columns.update(status_columns(cfg, status, before, now))
        columns["done_at"] = task.done_at
    if bool(before["removed_at"]) != task.archived:
        columns["removed_at"] = removed_at
        task_store.save_event(db, task_id, by, "removed", before["removed_at"], removed_at)
        changes.append("removed")
    if task_store.save_held_roles(db, task_id, by, task.roles, task_store.role_refs(db, task_id)):
        changes.append("roles")
    if changes:
        columns["updated_at"] = now
    task_store.save_task_changes(db, task_id, by, before, {}, columns)
    if "status" in changes and status in cfg.tasks.done_statuses:
        return "closed"
    return "changed" if changes else "same"


def _sync_sprints(db: Database, client: ClickUpClient, cfg: Config, result: ClickUpResult) -> dict[str, str]:
    """Lists inside the sprint folders become sprints; returns list id → sprint name."""
    names: dict[str, str] = {}
    for folder in cfg.clickup.sprint_folder_ids:
        for lst in client.folder_lists(folder):
            start, end = sprint_dates(lst)
            name = str(lst.get("name") or lst.get("id"))
            if not start or not end:
                result.notes.append(f"sprint list {name!r} has no dates (list dates or 'Name (M/D - M/D)'): skipped")
                continue
            names[str(lst["id"])] = name
            with transaction(db):
                save_synced_sprint(db, KIND, name, start, end, str(lst["id"]))
    return names


def _sprint_lifecycle(db: Database, result: ClickUpResult) -> None:
    """Take the commitment at the first sync at or after a sprint's start; close it after its end."""

    today = now_iso()[:10]
    for name, start, end, status in synced_sprints(db, KIND):
        if status == "planned" and start <= today:
            late = today > start
            n = start_sprint(db, name, estimated=late)
            note = f"sprint {name!r} started: commitment of {count(n, 'task')} taken now"
            if late:
                note += f" — an estimate, since the first sync after its start ({start}) came on {today}"
            result.notes.append(note)
        elif status == "active" and end < today:
            sprint = sprint_by_name(db, name)
            if sprint is not None:
                with transaction(db):
                    save_closed(db, sprint["id"])
            result.notes.append(f"sprint {name!r} closed (it ended {end})")


@dataclass
class _Pass:
    """One pass over a list (or the workspace): full or since a cursor, resumable at a page."""

    kind: str
    target: str
    pass_id: str
    page: int
    since: int | None
    full: bool
    started_ms: int


def _start_pass(db: Database, cfg: Config, kind: str, target: str, state: SyncState, full: bool) -> _Pass:
    """Resume an interrupted pass, or begin one: full when asked, on first sight, or when one is due."""
    details = state.details
    if state.status == "running" and details.get("pass_id"):
        run = _Pass(
            kind,
            target,
            details["pass_id"],
            int(details.get("page", 0)),
            details.get("since"),
            bool(details.get("full")),
            details["pass_ms"],
        )
    else:
        now_ms = int(time.time() * 1000)
        due = (now_ms - details.get("last_full_ms", 0)) > cfg.clickup.full_every_hours * 3_600_000
        is_full = full or not state.cursor or due
        since = None if is_full else int(state.cursor or 0) - cfg.clickup.overlap_s * 1000
        run = _Pass(kind, target, f"{target}:{now_ms}", 0, since, is_full, now_ms)
    state.status = "running"
    details.update(
        {"pass_id": run.pass_id, "page": run.page, "since": run.since, "full": run.full, "pass_ms": run.started_ms}
    )
    with transaction(db):
        save_state(db, state)
    return run


def _read_pages(db: Database, cfg: Config, client: ClickUpClient, run: _Pass, state: SyncState, ctx: _Context) -> None:
    """Every page of the pass, each stored in one transaction with the page to resume at."""
    filters: dict[str, Any] = {"include_closed": True, "subtasks": True, "date_updated_gt": run.since}
    if run.kind == "list":
        # Tasks in several lists (ClickUp Sprints) are only listed with include_timl.
        pages = client.list_tasks(run.target, start_page=run.page, archived=False, include_timl=True, **filters)
    else:
        pages = client.team_tasks(run.target, start_page=run.page, **filters)
    for page, tasks in pages:
        _store_page(db, cfg, client, run, state, ctx, tasks, page + 1)
    if not run.full:
        return
    # Archived tasks, on full passes only: the list endpoint takes `archived`; the workspace one does not,
    # so a workspace is read list by list for them.
    for list_id in [run.target] if run.kind == "list" else client.workspace_lists(run.target):
        for _, tasks in client.list_tasks(list_id, archived=True, **filters):
            _store_page(db, cfg, client, run, state, ctx, tasks, None)


def _store_page(
    db: Database,
    cfg: Config,
    client: ClickUpClient,
    run: _Pass,
    state: SyncState,
    ctx: _Context,
    tasks: list[Any],
    resume_at: int | None,
) -> None:
    """One page in one transaction, with the page to resume at (pages of archived tasks are read again)."""
    with transaction(db):
        for raw in tasks:
            if isinstance(raw, dict) and "id" in raw:
                ctx.save(db, cfg, ClickUpTask.parse(raw), run.pass_id, state)
        if resume_at is not None:
            state.details["page"] = resume_at
        state.requests_used = client.requests
        state.rate_limit_remaining = client.remaining
        save_state(db, state)
    if ctx.progress:
        ctx.progress(len(tasks), None)


@dataclass
class _Context:
    """What every page of a sync shares: who people are, the sprints, the counts so far."""

    people: _People
    sprint_lists: dict[str, str]
    sprint_ids: dict[str, int]
    result: ClickUpResult
    progress: Any = None
    touched: list[str] = field(default_factory=list)

    def save(self, db: Database, cfg: Config, raw: ClickUpTask, pass_id: str, state: SyncState) -> None:
        task = to_synced(raw, cfg, self.people, self.sprint_lists)
        outcome = save_synced(db, cfg, task, self.sprint_ids, pass_id)
        # The cursor is ClickUp's own clock (date_updated), never ours: no skew.
        state.details["max_updated"] = max(int(state.details.get("max_updated") or 0), task.updated_ms)
        if outcome != "same":
            self.touched.append(task.external_id)
        if outcome in ("added", "changed", "closed"):
            setattr(self.result, outcome, getattr(self.result, outcome) + 1)


def _end_pass(db: Database, run: _Pass, state: SyncState, result: ClickUpResult) -> None:
    """After a full pass over a list, its tasks not seen are gone; then the cursor moves on."""
    with transaction(db):
        if run.full:
            scope = run.target if run.kind == "list" else None
            why = "moved out of the list or deleted" if scope else "deleted, or out of the token's reach"
            for task_id in task_store.stale_synced(db, KIND, scope, run.pass_id):
                task_store.save_removed(db, task_id, Change(now_iso(), BY_CLICKUP, "clickup"), why)
                result.removed += 1
            state.details["last_full_ms"] = run.started_ms
        state.status = "complete"
        state.cursor = str(max(int(state.cursor or 0), int(state.details.get("max_updated") or 0)))
        state.last_success_at = now_iso()
        for key in ("pass_id", "page", "since", "full", "pass_ms"):
            state.details.pop(key, None)
        save_state(db, state)


def sync_clickup(
    db: Database, cfg: Config, client: ClickUpClient, *, full: bool = False, progress: Any = None
) -> ClickUpResult:
    """Mirror the configured lists (or the workspace); each page is stored with its place in the pass."""
    started = time.monotonic()
    result = ClickUpResult()
    cu = cfg.clickup
    sprint_lists = _sync_sprints(db, client, cfg, result)
    targets = [("list", lid) for lid in dict.fromkeys([*cu.list_ids, *sprint_lists])]
    if not targets:
        if not cu.team_id:
            raise ConfigError("[clickup] needs list_ids, sprint_folder_ids or team_id to know what to sync")
        targets = [("team", cu.team_id)]
    ctx = _Context(_People(db), sprint_lists, sprint_ids(db), result, progress)
    for kind, target in targets:
        result.lists += 1
        state = load_state(db, f"clickup:{kind}:{target}")
        run = _start_pass(db, cfg, kind, target, state, full)
        _read_pages(db, cfg, client, run, state, ctx)
        _end_pass(db, run, state, result)
    ctx.people.remember()
    if cu.time_in_status and ctx.touched:
        result.time_in_status = _status_times(db, cfg, client, ctx.touched)
    _sprint_lifecycle(db, result)
    result.requests = client.requests
    result.seconds = time.monotonic() - started
    return result


def _status_times(db: Database, cfg: Config, client: ClickUpClient, task_ids: list[str]) -> str:
    """Bulk time in status for the tasks that changed; 'unavailable' when the workspace lacks it."""
    try:
        data = client.time_in_status(sorted(set(task_ids)))
    except ServiceError as exc:
        if "rejected the token" in exc.message or "rate limit" in exc.message:
            raise
        return "unavailable"
    with transaction(db):
        for ext_id, info in data.items():
            if not isinstance(info, dict):
                continue
            current = (info.get("current_status") or {}).get("status")
            rows = []
            for item in info.get("status_history") or []:
                name = str(item.get("status") or "")
                total = item.get("total_time") or {}
                rows.append(
                    (
                        map_status(name, str(item.get("type") or "").lower(), cfg),
                        name,
                        int(ms(total.get("by_minute")) or 0),
                        iso_from_ms(ms(total.get("since"))),
                        name == current,
                    )
                )
            task_store.save_status_times(db, f"cu:{ext_id}", rows)
    return "stored"
