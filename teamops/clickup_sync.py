"""Mirror ClickUp lists into tasks: statuses, points, hours, RACI fields, sprints and status history."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from teamops.config import Config
from teamops.errors import ConfigError, ServiceError
from teamops.identities import normalise
from teamops.raci import ROLES
from teamops.store.database import now_iso, transaction
from teamops.store.sync_state import load_state, save_state
from teamops.tasks import event_text, record_event
from teamops.wording import count

if TYPE_CHECKING:
    from sqlite_utils import Database

    from teamops.integrations.clickup import ClickUpClient
    from teamops.store.reader import Reader

ROLE_KEYS = {"responsible": "R", "accountable": "A", "consulted": "C", "informed": "I"}
SPRINT_NAME_RE = re.compile(r"\((\d{1,2})/(\d{1,2})(?:/(\d{2,4}))?\s*[-–]\s*(\d{1,2})/(\d{1,2})(?:/(\d{2,4}))?\)")
FIELDS = ("title", "status", "points", "estimate_hours", "spent_hours", "sprint", "due_date", "url")


def ms(value: Any) -> int | None:
    """ClickUp times are milliseconds, as strings or numbers (or null)."""
    if value is None or value == "":
        return None
    try:
        return int(float(str(value)))
    except ValueError:
        return None


def ms_iso(value: Any) -> str | None:
    stamp = ms(value)
    return None if stamp is None else time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(stamp / 1000))


def ms_date(value: Any) -> str | None:
    stamp = ms(value)
    return None if stamp is None else time.strftime("%Y-%m-%d", time.gmtime(stamp / 1000))


def ms_hours(value: Any) -> float | None:
    stamp = ms(value)
    return None if stamp is None else round(stamp / 3_600_000, 2)


def number(value: Any) -> float | None:
    if value is None or value == "":
        return None
    try:
        return float(str(value))
    except ValueError:
        return None


def map_status(status: dict[str, Any] | None, cfg: Config) -> str:
    """A ClickUp status onto teamops' set: the configured map, the same name, or by its type."""
    t = cfg.tasks
    if not isinstance(status, dict):
        return t.default_status
    name = str(status.get("status") or "").strip().lower()
    mapped = {k.lower(): v for k, v in cfg.clickup.status_map.items()}
    if name in mapped:
        return mapped[name]
    snake = re.sub(r"[\s-]+", "_", name)
    if snake in t.statuses:
        return snake
    kind = str(status.get("type") or "").lower()
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
    start, end = ms_date(lst.get("start_date")), ms_date(lst.get("due_date"))
    if start and end:
        return start, end
    match = SPRINT_NAME_RE.search(str(lst.get("name") or ""))
    if not match:
        return start, end
    m1, d1, y1, m2, d2, y2 = match.groups()
    year = int(y1 or y2 or (ms_date(lst.get("date_created")) or date.today().isoformat())[:4])
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
        self.by_id = {v: pid for v, pid in db.execute("SELECT value, person_id FROM identities WHERE kind = 'clickup'")}
        self.by_email = {
            v: pid for v, pid in db.execute("SELECT value, person_id FROM identities WHERE kind = 'email'")
        }
        self.by_name = {v: pid for v, pid in db.execute("SELECT value, person_id FROM identities WHERE kind = 'name'")}
        self.by_handle = {h.lower(): pid for pid, h in db.execute("SELECT id, handle FROM people")}
        self.seen: dict[str, tuple[str | None, str | None]] = {}

    def user(self, user: dict[str, Any]) -> tuple[int | None, str]:
        uid = str(user.get("id") or "")
        email = normalise("email", str(user.get("email") or "")) if user.get("email") else None
        self.seen[uid] = (user.get("username"), email)
        pid = self.by_id.get(uid) or (self.by_email.get(email) if email else None)
        return pid, f"clickup:{uid}"

    def named(self, name: str) -> tuple[int | None, str]:
        """A drop-down or label option naming a person: handle, email or display name."""
        key = name.strip()
        pid = (
            self.by_handle.get(key.lower())
            or self.by_email.get(key.lower())
            or self.by_name.get(normalise("name", key))
        )
        return pid, f"clickup-option:{key}"

    def remember(self) -> None:
        stamp = now_iso()
        with transaction(self.db):
            for uid, (username, email) in self.seen.items():
                self.db.execute(
                    "INSERT INTO clickup_users (id, username, email, last_seen) VALUES (?, ?, ?, ?) "
                    "ON CONFLICT (id) DO UPDATE SET username = excluded.username, email = excluded.email, "
                    "last_seen = excluded.last_seen",
                    [uid, username, email, stamp],
                )


def _field_people(cf: dict[str, Any], people: _People) -> list[tuple[int | None, str]]:
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


def normalise_task(t: dict[str, Any], cfg: Config, people: _People, sprints: dict[str, str]) -> dict[str, Any]:
    """A ClickUp task as teamops stores it, with its role holders."""
    cu = cfg.clickup
    fields = {str(cf.get("name") or "").strip().lower(): cf for cf in t.get("custom_fields") or []}
    points = number(t.get("points"))
    if cu.points_field:
        cf = fields.get(cu.points_field.lower())
        points = number(cf.get("value")) if cf else None
    roles: dict[str, list[tuple[int | None, str]]] = {r: [] for r in ROLES}
    for key, field_name in cu.raci_fields.items():
        cf = fields.get(field_name.strip().lower())
        if cf is not None:
            roles[ROLE_KEYS[key]] = _field_people(cf, people)
    if not roles["R"] and cu.assignees_as_responsible:
        roles["R"] = [people.user(u) for u in t.get("assignees") or [] if isinstance(u, dict)]
    lst = t.get("list") or {}
    list_id = str(lst.get("id") or "")
    status = map_status(t.get("status"), cfg)
    parent = t.get("parent")
    return {
        "key": f"cu:{t['id']}",
        "external_id": str(t["id"]),
        "title": str(t.get("name") or "(untitled)"),
        "status": status,
        "points": points,
        "estimate_hours": ms_hours(t.get("time_estimate")),
        "spent_hours": ms_hours(t.get("time_spent")),
        "sprint": sprints.get(list_id),
        "due_date": ms_date(t.get("due_date")),
        "url": t.get("url"),
        "list_id": list_id,
        "parent_key": f"cu:{parent}" if parent else None,
        "created_at": ms_iso(t.get("date_created")) or now_iso(),
        "updated_ms": ms(t.get("date_updated")) or 0,
        "done_at": ms_iso(t.get("date_done") or t.get("date_closed")) if status in cfg.tasks.done_statuses else None,
        "archived": bool(t.get("archived")),
        "roles": roles,
    }


def upsert_task(db: Database, cfg: Config, task: dict[str, Any], sprint_ids: dict[str, int], pass_id: str) -> str:
    """Insert or update one task, recording each change as an event; returns added, changed, closed or same."""
    now = now_iso()
    row = db.execute(
        "SELECT t.id, t.title, t.status, t.points, t.estimate_hours, t.spent_hours, s.name, t.due_date, t.url, "
        "t.removed_at, t.blocked_since, t.started_at FROM tasks t LEFT JOIN sprints s ON s.id = t.sprint_id "
        "WHERE t.key = ?",
        [task["key"]],
    ).fetchone()
    sprint_id = sprint_ids.get(task["sprint"]) if task["sprint"] else None
    blocked = task["status"] in cfg.tasks.blocked_statuses
    active = task["status"] in cfg.tasks.active_statuses
    removed_at = now if task["archived"] else None

    def event(tid: int, name: str, old: Any, new: Any) -> None:
        record_event(db, tid, now, "clickup", name, old, new, "clickup")

    if row is None:
        cur = db.execute(
            "INSERT INTO tasks (key, title, status, points, estimate_hours, spent_hours, sprint_id, due_date, url, "
            "source, external_id, list_id, parent_key, blocked_since, started_at, done_at, removed_at, created_at, "
            "updated_at, sync_pass) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'clickup', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                task["key"],
                task["title"],
                task["status"],
                task["points"],
                task["estimate_hours"],
                task["spent_hours"],
                sprint_id,
                task["due_date"],
                task["url"],
                task["external_id"],
                task["list_id"],
                task["parent_key"],
                now if blocked else None,
                now if active else None,
                task["done_at"],
                removed_at,
                task["created_at"],
                now,
                pass_id,
            ],
        )
        tid = int(cur.lastrowid or 0)
        event(tid, "created", None, task["title"])
        for name in FIELDS[1:]:
            if task[name] is not None:
                event(tid, name, None, task[name])
        _write_roles(db, tid, task["roles"], event, {})
        return "added"
    tid = int(row[0])
    old = dict(
        zip(
            ("title", "status", "points", "estimate_hours", "spent_hours", "sprint", "due_date", "url"),
            row[1:9],
            strict=True,
        )
    )
    sets: dict[str, Any] = {"sync_pass": pass_id}
    changed = False
    for name in FIELDS:
        if event_text(old[name]) != event_text(task[name]):
            event(tid, name, old[name], task[name])
            changed = True
            sets["sprint_id" if name == "sprint" else name] = sprint_id if name == "sprint" else task[name]
    closed = False
    if "status" in sets:
        if blocked and not row[10]:
            sets["blocked_since"] = now
        elif not blocked:
            sets["blocked_since"] = None
        if active and not row[11]:
            sets["started_at"] = now
        sets["done_at"] = task["done_at"] if task["status"] in cfg.tasks.done_statuses else None
        closed = task["status"] in cfg.tasks.done_statuses
    if bool(row[9]) != task["archived"]:
        sets["removed_at"] = removed_at
        event(tid, "removed", row[9], removed_at)
        changed = True
    sets["list_id"] = task["list_id"]
    sets["parent_key"] = task["parent_key"]
    current_roles: dict[str, list[str]] = {}
    for role, pid, ext in db.execute("SELECT role, person_id, external_ref FROM task_roles WHERE task_id = ?", [tid]):
        current_roles.setdefault(role, []).append(f"{pid}|{ext}")
    if _write_roles(db, tid, task["roles"], event, current_roles):
        changed = True
    if changed:
        sets["updated_at"] = now
    db.execute(f"UPDATE tasks SET {', '.join(f'{k} = ?' for k in sets)} WHERE id = ?", [*sets.values(), tid])
    if closed:
        return "closed"
    return "changed" if changed else "same"


def _write_roles(
    db: Database, tid: int, roles: dict[str, list[tuple[int | None, str]]], event: Any, current: dict[str, list[str]]
) -> bool:
    changed = False
    for role in ROLES:
        holders = roles.get(role, [])
        want = sorted(f"{pid}|{None if pid else ext}" for pid, ext in holders)
        if want == sorted(current.get(role, [])):
            continue
        db.execute("DELETE FROM task_roles WHERE task_id = ? AND role = ?", [tid, role])
        for pid, ext in holders:
            db.execute(
                "INSERT OR IGNORE INTO task_roles (task_id, role, person_id, external_ref) VALUES (?, ?, ?, ?)",
                [tid, role, pid, None if pid else ext],
            )
        labels = ",".join(sorted(str(pid) if pid else ext for pid, ext in holders))
        event(tid, f"role:{role}", ",".join(sorted(current.get(role, []))) or None, labels or None)
        changed = True
    return changed


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
            list_id = str(lst["id"])
            names[list_id] = name
            with transaction(db):
                db.execute(
                    "INSERT INTO sprints (name, start_date, end_date, source, external_id, created_at) "
                    "VALUES (?, ?, ?, 'clickup', ?, ?) ON CONFLICT (name) DO UPDATE SET "
                    "start_date = excluded.start_date, end_date = excluded.end_date, "
                    "external_id = excluded.external_id",
                    [name, start, end, list_id, now_iso()],
                )
    return names


def _sprint_lifecycle(db: Database, result: ClickUpResult) -> None:
    """Take the commitment at the first sync at or after a sprint's start; close it after its end."""
    from teamops.sprints import start_sprint

    today = now_iso()[:10]
    for name, start, end, status in db.execute(
        "SELECT name, start_date, end_date, status FROM sprints WHERE source = 'clickup' ORDER BY start_date"
    ).fetchall():
        if status == "planned" and start <= today:
            late = today > start
            n = start_sprint(db, name, estimated=late)
            note = f"sprint {name!r} started: commitment of {count(n, 'task')} taken now"
            if late:
                note += f" — an estimate, since the first sync after its start ({start}) came on {today}"
            result.notes.append(note)
        elif status == "active" and end < today:
            with transaction(db):
                db.execute("UPDATE sprints SET status = 'closed', closed_at = ? WHERE name = ?", [now_iso(), name])
            result.notes.append(f"sprint {name!r} closed (it ended {end})")


def sync_clickup(
    db: Database, cfg: Config, client: ClickUpClient, *, full: bool = False, progress: Any = None
) -> ClickUpResult:
    """Mirror the configured lists (or the workspace); each page is stored with its place in the pass."""
    started = time.monotonic()
    result = ClickUpResult()
    cu = cfg.clickup
    sprint_lists = _sync_sprints(db, client, cfg, result)
    sprint_ids = {name: sid for sid, name in db.execute("SELECT id, name FROM sprints")}
    targets = [("list", lid) for lid in dict.fromkeys([*cu.list_ids, *sprint_lists])]
    if not targets:
        if not cu.team_id:
            raise ConfigError("[clickup] needs list_ids, sprint_folder_ids or team_id to know what to sync")
        targets = [("team", cu.team_id)]
    people = _People(db)
    touched: list[str] = []
    for kind, target in targets:
        result.lists += 1
        source = f"clickup:{kind}:{target}"
        state = load_state(db, source)
        now_ms = int(time.time() * 1000)
        last_full = state.details.get("last_full_ms", 0)
        resume = state.status == "running" and state.details.get("pass_id")
        if resume:
            pass_id, page0 = state.details["pass_id"], int(state.details.get("page", 0))
            since, is_full, pass_ms = (
                state.details.get("since"),
                bool(state.details.get("full")),
                state.details["pass_ms"],
            )
        else:
            is_full = full or not state.cursor or (now_ms - last_full) > cu.full_every_hours * 3_600_000
            since = None if is_full else int(state.cursor or 0) - cu.overlap_s * 1000
            pass_id, page0, pass_ms = f"{target}:{now_ms}", 0, now_ms
        state.status = "running"
        state.details.update({"pass_id": pass_id, "page": page0, "since": since, "full": is_full, "pass_ms": pass_ms})
        with transaction(db):
            save_state(db, state)
        filters: dict[str, Any] = {"include_closed": True, "subtasks": True, "date_updated_gt": since}
        archived_passes = [False, True] if is_full else [False]
        for archived in archived_passes:
            pager = (client.list_tasks if kind == "list" else client.team_tasks)(
                target, start_page=page0 if not archived else 0, archived=archived, **filters
            )
            for page, tasks in pager:
                with transaction(db):
                    for raw in tasks:
                        if not isinstance(raw, dict) or "id" not in raw:
                            continue
                        task = normalise_task(raw, cfg, people, sprint_lists)
                        outcome = upsert_task(db, cfg, task, sprint_ids, pass_id)
                        # The cursor is ClickUp's own clock (date_updated), never ours: no skew.
                        state.details["max_updated"] = max(
                            int(state.details.get("max_updated") or 0), task["updated_ms"]
                        )
                        if outcome != "same":
                            touched.append(task["external_id"])
                        if outcome == "added":
                            result.added += 1
                        elif outcome == "changed":
                            result.changed += 1
                        elif outcome == "closed":
                            result.closed += 1
                    if not archived:
                        state.details["page"] = page + 1
                    state.requests_used = client.requests
                    state.rate_limit_remaining = client.remaining
                    save_state(db, state)
                if progress:
                    progress(len(tasks), None)
        with transaction(db):
            if is_full and kind == "list":
                stale = db.execute(
                    "SELECT id FROM tasks WHERE source = 'clickup' AND list_id = ? AND removed_at IS NULL "
                    "AND (sync_pass IS NULL OR sync_pass != ?)",
                    [target, pass_id],
                ).fetchall()
                for (tid,) in stale:
                    stamp = now_iso()
                    db.execute("UPDATE tasks SET removed_at = ?, updated_at = ? WHERE id = ?", [stamp, stamp, tid])
                    db.execute(
                        "INSERT INTO task_events (task_id, at, actor, field, old, new, source) "
                        "VALUES (?, ?, 'clickup', 'removed', NULL, ?, 'clickup')",
                        [tid, stamp, "moved out of the list or deleted"],
                    )
                    result.removed += 1
                state.details["last_full_ms"] = pass_ms
            state.status = "complete"
            state.cursor = str(max(int(state.cursor or 0), int(state.details.get("max_updated") or 0)))
            state.last_success_at = now_iso()
            for key in ("pass_id", "page", "since", "full", "pass_ms"):
                state.details.pop(key, None)
            save_state(db, state)
    people.remember()
    if cu.time_in_status and touched:
        result.time_in_status = _status_times(db, cfg, client, touched)
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
    stamp = now_iso()
    with transaction(db):
        for ext_id, info in data.items():
            row = db.execute("SELECT id FROM tasks WHERE key = ?", [f"cu:{ext_id}"]).fetchone()
            if row is None or not isinstance(info, dict):
                continue
            current = (info.get("current_status") or {}).get("status")
            db.execute("DELETE FROM task_status_times WHERE task_id = ?", [row[0]])
            for item in info.get("status_history") or []:
                name = str(item.get("status") or "")
                total = item.get("total_time") or {}
                db.execute(
                    "INSERT OR REPLACE INTO task_status_times (task_id, status, source_status, minutes, since, "
                    "is_current, fetched_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [
                        row[0],
                        map_status({"status": name, "type": item.get("type")}, cfg),
                        name,
                        int(ms(total.get("by_minute")) or 0),
                        ms_iso(total.get("since")),
                        int(name == current),
                        stamp,
                    ],
                )
    return "stored"


def unmapped_clickup_users(db: Reader) -> list[dict[str, Any]]:
    """ClickUp users seen in tasks that match no person, for `people unmapped`."""
    rows = db.execute(
        """
        SELECT u.id, u.username, u.email, u.last_seen,
            (SELECT COUNT(DISTINCT task_id) FROM task_roles r WHERE r.external_ref = 'clickup:' || u.id)
        FROM clickup_users u
        WHERE NOT EXISTS (SELECT 1 FROM identities i WHERE i.kind = 'clickup' AND i.value = u.id)
          AND NOT EXISTS (SELECT 1 FROM identities i WHERE i.kind = 'email' AND i.value = u.email)
        ORDER BY u.username
        """
    ).fetchall()
    return [
        {
            "source": "clickup",
            "name": name,
            "email": email,
            "login": f"clickup:{uid}",
            "commits": None,
            "tasks": n,
            "last_seen": seen,
        }
        for uid, name, email, seen, n in rows
    ]
