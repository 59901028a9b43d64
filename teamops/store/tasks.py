"""The tasks family (tasks, task_roles, task_events, task_status_times, escalations), written only here.

Local changes and ClickUp syncs go through the same writer: every field that changes is recorded
as an event in the same transaction, so a task's history replays to its current state.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from teamops.clock import now_iso
from teamops.store.filters import Where

if TYPE_CHECKING:
    from sqlite_utils import Database

    from teamops.store.reader import Reader

# The fields whose changes are events, in the order a new task records them.
FIELDS = ("title", "status", "points", "estimate_hours", "spent_hours", "sprint", "due_date", "url")
ROLES = ("R", "A", "C", "I")
SNAPSHOT_KEYS = (
    "id",
    "key",
    "title",
    "status",
    "points",
    "estimate_hours",
    "spent_hours",
    "sprint",
    "due_date",
    "url",
    "source",
    "blocked_reason",
    "blocked_since",
    "started_at",
    "done_at",
    "created_at",
    "updated_at",
    "removed_at",
    "external_id",
)


def event_text(value: Any) -> str | None:
    """How a value is written in task_events: points as `3`, not `3.0`."""
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


@dataclass(frozen=True)
class Change:
    """Who changes tasks, when, and from where: every event written carries it."""

    at: str
    actor: str | None
    source: str = "local"


def save_event(db: Database, task_id: int, change: Change, name: str, old: Any, new: Any) -> None:
    db.execute(
        "INSERT INTO task_events (task_id, at, actor, field, old, new, source) VALUES (?, ?, ?, ?, ?, ?, ?)",
        [task_id, change.at, change.actor, name, event_text(old), event_text(new), change.source],
    )


def history_of(db: Reader, task_id: int, source: str) -> set[tuple[str, str, str | None, str | None]]:
    """(at, field, old, new) of a task's events from a source's own history, to write each one once."""
    rows = db.execute(
        "SELECT at, field, old, new FROM task_events INDEXED BY idx_task_events_task WHERE task_id = ? AND source = ?",
        [task_id, source],
    )
    return {(r[0], r[1], r[2], r[3]) for r in rows}


def save_event_once(
    db: Database,
    task_id: int,
    change: Change,
    name: str,
    old: Any,
    new: Any,
    seen: set[tuple[str, str, str | None, str | None]],
) -> bool:
    """An event of a tracker's own history (its time, its author), written once however often it is read:
    `seen` is what `history_of` found, kept up to date here."""
    key = (change.at, name, event_text(old), event_text(new))
    if key in seen:
        return False
    save_event(db, task_id, change, name, old, new)
    seen.add(key)
    return True


def values_at(db: Reader, source: str, name: str, at: str) -> dict[int, str | None]:
    """Each of a source's tasks' value of a field at a moment, replayed from its events (written in time order)."""
    rows = db.execute(
        "SELECT e.task_id, e.new FROM task_events e JOIN tasks t ON t.id = e.task_id "
        "WHERE t.source = ? AND e.field = ? AND e.at <= ? AND e.id = (SELECT MAX(x.id) FROM task_events x "
        "WHERE x.task_id = e.task_id AND x.field = e.field AND x.at <= ?)",
        [source, name, at, at],
    )
    return {int(tid): value for tid, value in rows}


def synced_by_external(db: Reader, source: str, external_id: str) -> tuple[int, str] | None:
    """(id, key) of a tracker's task by its id there (a key may change: an issue moved to another project)."""
    row = db.execute(
        "SELECT id, key FROM tasks WHERE source = ? AND external_id = ? ORDER BY id LIMIT 1", [source, external_id]
    ).fetchone()
    return (int(row[0]), str(row[1])) if row else None


def save_new_task(db: Database, change: Change, key: str, fields: dict[str, Any], columns: dict[str, Any]) -> int:
    """Insert a task and its first events (created, then each field that has a value)."""
    values = {**{k: v for k, v in fields.items() if k != "sprint"}, **columns, "key": key}
    values.setdefault("created_at", change.at)
    values.setdefault("updated_at", change.at)
    cur = db.execute(
        f"INSERT INTO tasks ({', '.join(values)}) VALUES ({', '.join('?' * len(values))})", list(values.values())
    )
    task_id = int(cur.lastrowid or 0)
    db.execute(
        "INSERT INTO tasks_fts (rowid, title, description) VALUES (?, ?, ?)",
        [task_id, values.get("title"), values.get("description")],
    )
    save_event(db, task_id, change, "created", None, fields["title"])
    for name in FIELDS[1:]:
        if fields.get(name) is not None:
            save_event(db, task_id, change, name, None, fields[name])
    return task_id


def save_task_changes(
    db: Database,
    task_id: int,
    change: Change,
    before: dict[str, Any],
    fields: dict[str, Any],
    columns: dict[str, Any],
) -> list[str]:
    """Record an event for each given field whose value differs, then write those and `columns`."""
    sets: dict[str, Any] = dict(columns)
    changed: list[str] = []
    for name in FIELDS:
        if name not in fields or event_text(fields[name]) == event_text(before.get(name)):
            continue
        save_event(db, task_id, change, name, before.get(name), fields[name])
        changed.append(name)
        if name != "sprint":  # the sprint's id comes in `columns`
            sets[name] = fields[name]
    if sets:
        if "title" in sets or "description" in sets:  # the search table follows (it needs the old text to forget)
            title, text = db.execute("SELECT title, description FROM tasks WHERE id = ?", [task_id]).fetchone()
            db.execute(
                "INSERT INTO tasks_fts (tasks_fts, rowid, title, description) VALUES ('delete', ?, ?, ?)",
                [task_id, title, text],
            )
            db.execute(
                "INSERT INTO tasks_fts (rowid, title, description) VALUES (?, ?, ?)",
                [task_id, sets.get("title", title), sets.get("description", text)],
            )
        db.execute(f"UPDATE tasks SET {', '.join(f'{k} = ?' for k in sets)} WHERE id = ?", [*sets.values(), task_id])
    return changed


def save_key(db: Database, task_id: int, key: str) -> None:
    db.execute("UPDATE tasks SET key = ? WHERE id = ?", [key, task_id])


def save_removed(db: Database, task_id: int, change: Change, reason: str) -> None:
    """A task gone from its source (moved out of a list, deleted): kept, marked removed."""
    db.execute("UPDATE tasks SET removed_at = ?, updated_at = ? WHERE id = ?", [change.at, change.at, task_id])
    save_event(db, task_id, change, "removed", None, reason)


# -- roles ---------------------------------------------------------------------------------------------


def role_refs(db: Reader, task_id: int) -> dict[str, list[tuple[int | None, str | None]]]:
    """(person id, external ref) per role."""
    out: dict[str, list[tuple[int | None, str | None]]] = {}
    for role, pid, ext in db.execute(
        "SELECT role, person_id, external_ref FROM task_roles WHERE task_id = ?", [task_id]
    ):
        out.setdefault(role, []).append((pid, ext))
    return out


def save_roles(
    db: Database,
    task_id: int,
    change: Change,
    role: str,
    holders: list[tuple[int | None, str | None]],
    old_label: str | None,
    new_label: str | None,
) -> None:
    """Replace a role's holders and record the change as an event (labels as the caller reads them)."""
    db.execute("DELETE FROM task_roles WHERE task_id = ? AND role = ?", [task_id, role])
    for pid, ext in holders:
        db.execute(
            "INSERT OR IGNORE INTO task_roles (task_id, role, person_id, external_ref) VALUES (?, ?, ?, ?)",
            [task_id, role, pid, ext],
        )
    save_event(db, task_id, change, f"role:{role}", old_label, new_label)


def save_held_roles(
    db: Database,
    task_id: int,
    change: Change,
    roles: dict[str, list[tuple[int | None, str]]],
    current: dict[str, list[tuple[int | None, str | None]]],
) -> bool:
    """A tracker's holders of each role given ((person, external ref); a person found needs no ref), an event for
    each role whose holders changed; roles not given stay as they are. Whether any changed."""
    changed = False
    for role in ROLES:
        if role not in roles:
            continue
        holders = [(pid, None if pid else ext) for pid, ext in roles[role]]
        have = current.get(role, [])
        if sorted(f"{p}|{e}" for p, e in holders) == sorted(f"{p}|{e}" for p, e in have):
            continue
        old = ",".join(sorted(f"{p}|{e}" for p, e in have)) or None
        label = ",".join(sorted(str(pid) if pid else str(ext) for pid, ext in holders)) or None
        save_roles(db, task_id, change, role, holders, old, label)
        changed = True
    return changed


def save_role_people(db: Database) -> None:
    """Roles held by a tracker's users nobody matched yet (`kind:id`): resolved once an identity names them."""
    db.execute(
        """
        UPDATE task_roles SET person_id = m.pid, external_ref = NULL
        FROM (
            SELECT r.id AS rid, i.person_id AS pid FROM task_roles r JOIN identities i
                ON i.kind = substr(r.external_ref, 1, instr(r.external_ref, ':') - 1)
                AND i.value = substr(r.external_ref, instr(r.external_ref, ':') + 1)
            WHERE r.person_id IS NULL AND instr(r.external_ref, ':') > 0
        ) AS m
        WHERE task_roles.id = m.rid
        """
    )


def role_holders(db: Reader, task_ids: list[int]) -> list[tuple[int, str, int | None, str | None, Any, str | None]]:
    """(task, role, person id, handle, active, external ref) of the tasks' roles, in the order given."""
    if not task_ids:
        return []
    where = Where().within("r.task_id", task_ids)
    return db.execute(
        "SELECT r.task_id, r.role, r.person_id, p.handle, p.active, r.external_ref FROM task_roles r "
        f"LEFT JOIN people p ON p.id = r.person_id WHERE {where.sql} ORDER BY r.id",
        where.params,
    ).fetchall()


# -- reading tasks -----------------------------------------------------------------------------------


def task_id_for(db: Reader, ref: str) -> int | None:
    """A task by `12`, `#12` or its key (`T-12`, a ClickUp id)."""
    text = ref.strip().lstrip("#")
    if text.isdigit() and len(text) > 18:  # past SQLite's 64-bit integers: no such task
        return None
    if text.isdigit():
        row = db.execute("SELECT id FROM tasks WHERE id = ?", [int(text)]).fetchone()
    else:
        row = db.execute("SELECT id FROM tasks WHERE key = ? OR external_id = ?", [text, text]).fetchone()
    return int(row[0]) if row else None


def snapshot(db: Reader, task_id: int) -> dict[str, Any]:
    """A task's columns, with its sprint by name."""
    row = db.execute(
        "SELECT t.id, t.key, t.title, t.status, t.points, t.estimate_hours, t.spent_hours, s.name, t.due_date, "
        "t.url, t.source, t.blocked_reason, t.blocked_since, t.started_at, t.done_at, t.created_at, t.updated_at, "
        "t.removed_at, t.external_id FROM tasks t LEFT JOIN sprints s ON s.id = t.sprint_id WHERE t.id = ?",
        [task_id],
    ).fetchone()
    return dict(zip(SNAPSHOT_KEYS, row, strict=True))


def synced_task(db: Reader, key: str) -> dict[str, Any] | None:
    """A synced task by key, for comparing with its source."""
    row = db.execute(
        "SELECT t.id, t.title, t.status, t.points, t.estimate_hours, t.spent_hours, s.name, t.due_date, t.url, "
        "t.removed_at, t.blocked_since, t.started_at FROM tasks t LEFT JOIN sprints s ON s.id = t.sprint_id "
        "WHERE t.key = ?",
        [key],
    ).fetchone()
    if row is None:
        return None
    keys = ("id", *FIELDS, "removed_at", "blocked_since", "started_at")
    return dict(zip(keys, row, strict=True))


def list_rows(db: Reader, where: Where) -> list[tuple[Any, ...]]:
    """(id, key, title, status, points, sprint, due, blocked_since, source) of the tasks matching."""
    return db.execute(
        "SELECT t.id, t.key, t.title, t.status, t.points, s.name, t.due_date, t.blocked_since, t.source "
        f"FROM tasks t LEFT JOIN sprints s ON s.id = t.sprint_id WHERE {where.sql} ORDER BY t.id",
        where.params,
    ).fetchall()


def events(db: Reader, task_id: int) -> list[dict[str, Any]]:
    return [
        {"at": at, "actor": actor, "field": f, "old": old, "new": new, "source": src}
        for at, actor, f, old, new, src in db.execute(
            "SELECT at, actor, field, old, new, source FROM task_events WHERE task_id = ? ORDER BY id", [task_id]
        )
    ]


def events_before(db: Reader, until: str, names: tuple[str, ...]) -> list[tuple[int, str, str, str | None]]:
    """(task, at, field, new) of every event of these fields before a moment, in the order written."""
    where = Where("at < ?").within("field", list(names))
    return db.execute(
        f"SELECT task_id, at, field, new FROM task_events WHERE {where.sql} ORDER BY id", [until, *where.params]
    ).fetchall()


def open_tasks(db: Reader, done: list[str], task_id: int | None = None) -> list[tuple[int, str, str, str]]:
    """(id, key, title, status) of open tasks, or of one task whatever its status."""
    if task_id is not None:
        return db.execute("SELECT id, key, title, status FROM tasks WHERE id = ?", [task_id]).fetchall()
    where = Where("removed_at IS NULL")
    where.parts.append(f"status NOT IN ({','.join('?' * len(done))})")
    where.params += done
    return db.execute(
        f"SELECT id, key, title, status FROM tasks WHERE {where.sql} ORDER BY id", where.params
    ).fetchall()


def open_in(db: Reader, done: list[str], sprint: str | None) -> list[tuple[int, str]]:
    """(id, title) of open tasks, of one sprint when named."""
    where = Where("removed_at IS NULL")
    where.parts.append(f"status NOT IN ({','.join('?' * len(done))})")
    where.params += done
    where.add("sprint_id = (SELECT id FROM sprints WHERE name = ?)", sprint, when=sprint)
    return db.execute(f"SELECT id, title FROM tasks WHERE {where.sql} ORDER BY id", where.params).fetchall()


def blocked(db: Reader, statuses: list[str]) -> list[tuple[int, str, str, str, str | None, str | None, str | None]]:
    """(id, key, title, blocked since, reason, url, team) of tasks blocked now."""
    where = Where("removed_at IS NULL", "blocked_since IS NOT NULL").within("status", statuses)
    return db.execute(
        f"SELECT id, key, title, blocked_since, blocked_reason, url, team FROM tasks WHERE {where.sql}", where.params
    ).fetchall()


def held_by(db: Reader, person_id: int, roles: tuple[str, ...], statuses: list[str]) -> list[tuple[Any, ...]]:
    """(id, title, blocked since, reason) of a person's tasks in these roles and statuses."""
    where = Where("r.person_id = ?", "t.removed_at IS NULL").within("r.role", list(roles)).within("t.status", statuses)
    return db.execute(
        "SELECT DISTINCT t.id, t.title, t.blocked_since, t.blocked_reason FROM tasks t "
        f"JOIN task_roles r ON r.task_id = t.id WHERE {where.sql} ORDER BY t.blocked_since, t.id",
        [person_id, *where.params],
    ).fetchall()


def stale_synced(db: Reader, source: str, list_id: str | None, pass_id: str) -> list[int]:
    """A tracker's tasks of a list (or of the whole workspace) that a full pass did not see: moved out or deleted."""
    in_list = "AND list_id = ? " if list_id is not None else ""
    rows = db.execute(
        f"SELECT id FROM tasks WHERE source = ? {in_list}AND removed_at IS NULL "
        "AND (sync_pass IS NULL OR sync_pass != ?)",
        [source, list_id, pass_id] if list_id is not None else [source, pass_id],
    )
    return [int(r[0]) for r in rows]


def any_task(db: Reader) -> bool:
    return db.execute("SELECT 1 FROM tasks LIMIT 1").fetchone() is not None


def latest_done_before(db: Reader, moment: str) -> str | None:
    row = db.execute(
        "SELECT done_at FROM tasks INDEXED BY idx_tasks_done WHERE done_at < ? ORDER BY done_at DESC LIMIT 1",
        [moment],
    ).fetchone()
    return row[0] if row else None


# -- time in status, escalations --------------------------------------------------------------------


def save_status_times(db: Database, key: str, rows: list[tuple[str, str, int, str | None, bool]]) -> None:
    """Replace a synced task's time in status: (status, source status, minutes, since, current)."""
    found = db.execute("SELECT id FROM tasks WHERE key = ?", [key]).fetchone()
    if found is None:
        return
    stamp = now_iso()
    db.execute("DELETE FROM task_status_times WHERE task_id = ?", [found[0]])
    for status, source_status, minutes, since, current in rows:
        db.execute(
            "INSERT OR REPLACE INTO task_status_times (task_id, status, source_status, minutes, since, is_current, "
            "fetched_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [found[0], status, source_status, minutes, since, int(current), stamp],
        )


def escalated(db: Reader) -> set[tuple[int, str, int]]:
    """(task, blocking episode, level) of every escalation already recorded."""
    return {(t, e, lvl) for t, e, lvl in db.execute("SELECT task_id, episode, level FROM escalations")}


def save_escalation(db: Database, task_id: int, episode: str, level: int, hours: float, at: str) -> bool:
    """Record one escalation; False when another process recorded it first."""
    cur = db.execute(
        "INSERT INTO escalations (task_id, episode, level, hours, queued_at) VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT (task_id, episode, level) DO NOTHING",
        [task_id, episode, level, hours, at],
    )
    return bool(cur.rowcount)


def tasks_created_between(
    db: Reader, since: str | None, until: str | None
) -> list[tuple[int, str, str, str, str | None]]:
    """(id, title, status, created_at, done_at) of the tasks created in a range, for incident matching."""
    rows = db.execute(
        "SELECT id, title, status, created_at, done_at FROM tasks WHERE removed_at IS NULL "
        "AND created_at >= ? AND created_at < ? ORDER BY created_at",
        [since or "", until or "9999"],
    )
    return [(int(r[0]), r[1], r[2], r[3], r[4]) for r in rows]
