"""Tasks with RACI roles: every change validated first and recorded as an event, so history replays."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from teamops.config import Config
from teamops.errors import Findings, InvalidInput
from teamops.messages import Message
from teamops.raci import ROLE_NAMES, ROLES, RoleHolder, holders_of, violations
from teamops.store.database import now_iso, transaction
from teamops.wording import count

if TYPE_CHECKING:
    from sqlite_utils import Database

    from teamops.store.reader import Reader

FIELDS = ("title", "status", "points", "estimate_hours", "spent_hours", "sprint", "due_date", "url")


@dataclass
class TaskChange:
    """Fields to set (None = leave as is) and role lists to replace (None = leave as is)."""

    title: str | None = None
    status: str | None = None
    points: float | None = None
    estimate_hours: float | None = None
    spent_hours: float | None = None
    sprint: str | None = None  # "" removes the task from its sprint
    due_date: str | None = None
    url: str | None = None
    roles: dict[str, list[str]] = field(default_factory=dict)


def event_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def task_ref(db: Reader, ref: str) -> int:
    """A task by `12`, `#12` or its key (`T-12`, a ClickUp id); unknown is invalid input (exit 5)."""
    text = ref.strip().lstrip("#")
    if text.isdigit() and len(text) > 18:  # past SQLite's 64-bit integers: no such task
        row = None
    elif text.isdigit():
        row = db.execute("SELECT id FROM tasks WHERE id = ?", [int(text)]).fetchone()
    else:
        row = db.execute("SELECT id FROM tasks WHERE key = ? OR external_id = ?", [text, text]).fetchone()
    if row is None:
        raise InvalidInput(f"no task {ref!r}", "see `teamops task list`")
    return int(row[0])


def _sprint_id(db: Database, name: str) -> int:
    row = db.execute("SELECT id FROM sprints WHERE name = ?", [name]).fetchone()
    if row is None:
        raise InvalidInput(f"no sprint {name!r}", "create it with `teamops sprint add`")
    return int(row[0])


def _holders_for(db: Database, roles: dict[str, list[str]]) -> list[RoleHolder]:
    """Role holders from handles; unknown handles stay as references so the rules can name them."""
    holders: list[RoleHolder] = []
    for role in ROLES:
        for handle in roles.get(role, []):
            row = db.execute("SELECT id, handle, active FROM people WHERE handle = ?", [handle]).fetchone()
            if row is None:
                raise InvalidInput(
                    f"no person with handle {handle!r} (given as {ROLE_NAMES[role]}): nothing was saved",
                    "see `teamops people list`, or add them with `teamops people add`",
                )
            else:
                holders.append(RoleHolder(role, int(row[0]), row[1], bool(row[2])))
    return holders


def _validate(cfg: Config, status: str, holders: list[RoleHolder], what: str) -> None:
    if status not in cfg.tasks.statuses:
        raise InvalidInput(f"unknown status {status!r}", f"statuses: {', '.join(cfg.tasks.statuses)}")
    problems = violations(status, holders, cfg.raci)
    if problems:
        listed = "; ".join(message for _, message in problems)
        raise Findings(f"{what} refused, nothing was saved: {count(len(problems), 'RACI violation')}: {listed}")


def _check_status(cfg: Config, status: str | None) -> None:
    """A status given on the command line must be one of `[tasks] statuses`; an empty one is not."""
    if status is not None and status not in cfg.tasks.statuses:
        raise InvalidInput(f"unknown status {status!r}", f"statuses: {', '.join(cfg.tasks.statuses)}")


def _check_numbers(change: TaskChange) -> None:
    for name in ("points", "estimate_hours", "spent_hours"):
        value = getattr(change, name)
        if value is not None and value < 0:
            raise InvalidInput(f"{name.replace('_', ' ')} must not be negative")
    if change.due_date:
        from datetime import date

        try:
            date.fromisoformat(change.due_date)
        except ValueError:
            raise InvalidInput(f"due date {change.due_date!r} is not YYYY-MM-DD") from None


def record_event(
    db: Database,
    task_id: int,
    at: str,
    actor: str | None,
    name: str,
    old: Any,
    new: Any,
    source: str = "local",
) -> None:
    db.execute(
        "INSERT INTO task_events (task_id, at, actor, field, old, new, source) VALUES (?, ?, ?, ?, ?, ?, ?)",
        [task_id, at, actor, name, event_text(old), event_text(new), source],
    )


def _write_roles(db: Database, task_id: int, role: str, holders: list[RoleHolder]) -> None:
    db.execute("DELETE FROM task_roles WHERE task_id = ? AND role = ?", [task_id, role])
    for h in holders:
        db.execute(
            "INSERT OR IGNORE INTO task_roles (task_id, role, person_id, external_ref) VALUES (?, ?, ?, ?)",
            [task_id, role, h.person_id, h.external_ref],
        )


def _roles_text(holders: list[RoleHolder], role: str) -> str:
    return ",".join(sorted(h.label for h in holders if h.role == role))


def add_task(db: Database, cfg: Config, title: str, change: TaskChange, actor: str | None) -> tuple[int, Message]:
    """Validate, then create the task, its roles and its first events; returns the task_created message."""
    title = title.strip()
    if not title:
        raise InvalidInput("a task needs a title")
    _check_numbers(change)
    _check_status(cfg, change.status)
    status = change.status if change.status is not None else cfg.tasks.default_status
    holders = _holders_for(db, change.roles)
    _validate(cfg, status, holders, "task")
    sprint_id = _sprint_id(db, change.sprint) if change.sprint else None
    now = now_iso()
    with transaction(db):
        cur = db.execute(
            "INSERT INTO tasks (key, title, status, points, estimate_hours, spent_hours, sprint_id, due_date, url, "
            "source, created_at, updated_at, started_at, done_at, blocked_since) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'local', ?, ?, ?, ?, ?)",
            [
                f"new:{now}:{title[:20]}",
                title,
                status,
                change.points,
                change.estimate_hours,
                change.spent_hours,
                sprint_id,
                change.due_date,
                change.url,
                now,
                now,
                now if status in cfg.tasks.active_statuses else None,
                now if status in cfg.tasks.done_statuses else None,
                now if status in cfg.tasks.blocked_statuses else None,
            ],
        )
        task_id = int(cur.lastrowid or 0)
        db.execute("UPDATE tasks SET key = ? WHERE id = ?", [f"T-{task_id}", task_id])
        record_event(db, task_id, now, actor, "created", None, title)
        for name, value in (
            ("status", status),
            ("points", change.points),
            ("estimate_hours", change.estimate_hours),
            ("spent_hours", change.spent_hours),
            ("sprint", change.sprint),
            ("due_date", change.due_date),
            ("url", change.url),
        ):
            if value is not None:
                record_event(db, task_id, now, actor, name, None, value)
        for role in ROLES:
            mine = [h for h in holders if h.role == role]
            if mine:
                _write_roles(db, task_id, role, mine)
                record_event(db, task_id, now, actor, f"role:{role}", None, _roles_text(holders, role))
    responsible = _roles_text(holders, "R").replace(",", ", ")
    accountable = _roles_text(holders, "A")
    msg = Message(
        kind="task_created",
        key=f"task_created:T-{task_id}",
        title=f"New task #{task_id}: {title}",
        text=f"*{title}* — Responsible: {responsible}; Accountable: {accountable}.",
        fields={
            k: v
            for k, v in {
                "task": f"#{task_id}",
                "status": status,
                "responsible": responsible,
                "accountable": accountable,
                "points": event_text(change.points),
                "sprint": change.sprint,
                "due": change.due_date,
            }.items()
            if v
        },
        url=change.url,
        people=sorted({h.label for h in holders if h.role in ("R", "A")}),
    )
    return task_id, msg


def current(db: Reader, task_id: int) -> dict[str, Any]:
    row = db.execute(
        "SELECT t.id, t.key, t.title, t.status, t.points, t.estimate_hours, t.spent_hours, s.name, t.due_date, "
        "t.url, t.source, t.blocked_reason, t.blocked_since, t.started_at, t.done_at, t.created_at, t.updated_at, "
        "t.removed_at, t.external_id FROM tasks t LEFT JOIN sprints s ON s.id = t.sprint_id WHERE t.id = ?",
        [task_id],
    ).fetchone()
    keys = (
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
    return dict(zip(keys, row, strict=True))


def update_task(
    db: Database, cfg: Config, task_id: int, change: TaskChange, actor: str | None, reason: str | None = None
) -> list[str]:
    """Apply a change after validating the result; returns the fields that changed."""
    _check_numbers(change)
    _check_status(cfg, change.status)
    before = current(db, task_id)
    holders = holders_of(db, [task_id])[task_id]
    new_holders = [h for h in holders if h.role not in change.roles] + _holders_for(
        db, {r: v for r, v in change.roles.items()}
    )
    status = change.status or before["status"]
    _validate(cfg, status, new_holders, f"change to #{task_id}")
    sprint_id = None
    if change.sprint:
        sprint_id = _sprint_id(db, change.sprint)
    now = now_iso()
    changed: list[str] = []
    with transaction(db):
        sets: dict[str, Any] = {}
        for name in FIELDS:
            value = getattr(change, name)
            if value is None:
                continue
            old = before[name]
            if name == "sprint":
                new_value: Any = value or None
                if new_value == old:
                    continue
                sets["sprint_id"] = sprint_id
            else:
                new_value = value
                if event_text(new_value) == event_text(old):
                    continue
                sets[name] = new_value
            record_event(db, task_id, now, actor, name, old, new_value)
            changed.append(name)
        if "status" in sets:
            new = sets["status"]
            if new in cfg.tasks.active_statuses and not before["started_at"]:
                sets["started_at"] = now
            sets["done_at"] = now if new in cfg.tasks.done_statuses else None
            if new in cfg.tasks.blocked_statuses:
                sets["blocked_since"] = now
                sets["blocked_reason"] = reason
                record_event(db, task_id, now, actor, "blocked_reason", before["blocked_reason"], reason)
            elif before["status"] in cfg.tasks.blocked_statuses:
                sets["blocked_since"] = None
                sets["blocked_reason"] = None
        for role in change.roles:
            old_text = _roles_text(holders, role)
            mine = [h for h in new_holders if h.role == role]
            new_text = _roles_text(mine, role)
            if old_text != new_text:
                _write_roles(db, task_id, role, mine)
                record_event(db, task_id, now, actor, f"role:{role}", old_text or None, new_text or None)
                changed.append(f"role:{role}")
        if sets or changed:
            sets["updated_at"] = now
            db.execute(
                f"UPDATE tasks SET {', '.join(f'{k} = ?' for k in sets)} WHERE id = ?",
                [*sets.values(), task_id],
            )
    return changed


def block_task(db: Database, cfg: Config, task_id: int, reason: str, actor: str | None) -> Message:
    """Block with a reason; returns the task_blocked message for the Accountable and Responsible people."""
    if not reason.strip():
        raise InvalidInput("--reason is required: say what the task waits for")
    before = current(db, task_id)
    if before["status"] in cfg.tasks.blocked_statuses:
        raise InvalidInput(f"#{task_id} is already blocked since {before['blocked_since']}")
    update_task(db, cfg, task_id, TaskChange(status=cfg.tasks.blocked_statuses[0]), actor, reason=reason.strip())
    after = current(db, task_id)
    holders = holders_of(db, [task_id])[task_id]
    accountable = _roles_text(holders, "A")
    responsible = _roles_text(holders, "R").replace(",", ", ")
    return Message(
        kind="task_blocked",
        key=f"task_blocked:{after['key']}:{after['blocked_since']}",
        title=f"Task #{task_id} is blocked",
        text=f"*{after['title']}* is blocked: {reason.strip()}",
        fields={
            "task": f"#{task_id}",
            "reason": reason.strip(),
            "accountable": accountable or "-",
            "responsible": responsible or "-",
        },
        url=after["url"],
        people=sorted({h.label for h in holders if h.role in ("R", "A")}),
        severity="warning",
    )


def unblock_task(db: Database, cfg: Config, task_id: int, actor: str | None, status: str | None = None) -> None:
    """End the blocking episode; the task goes back to an active status."""
    before = current(db, task_id)
    if before["status"] not in cfg.tasks.blocked_statuses:
        raise InvalidInput(f"#{task_id} is not blocked (it is {before['status']})")
    target = status or (cfg.tasks.active_statuses[0] if cfg.tasks.active_statuses else cfg.tasks.default_status)
    update_task(db, cfg, task_id, TaskChange(status=target), actor)


def list_tasks(
    db: Reader,
    cfg: Config,
    status: str | None = None,
    sprint: str | None = None,
    person: str | None = None,
    open_only: bool = False,
) -> list[dict[str, Any]]:
    where: list[str] = ["t.removed_at IS NULL"]
    params: list[Any] = []
    _check_status(cfg, status)
    if status is not None:
        where.append("t.status = ?")
        params.append(status)
    if open_only:
        done = cfg.tasks.done_statuses
        where.append(f"t.status NOT IN ({','.join('?' * len(done))})")
        params += done
    if sprint:
        where.append("s.name = ?")
        params.append(sprint)
    if person:
        from teamops.people import person_id

        where.append("t.id IN (SELECT r.task_id FROM task_roles r WHERE r.person_id = ?)")
        params.append(person_id(db, person))
    rows = db.execute(
        "SELECT t.id, t.key, t.title, t.status, t.points, s.name, t.due_date, t.blocked_since, t.source "
        f"FROM tasks t LEFT JOIN sprints s ON s.id = t.sprint_id WHERE {' AND '.join(where)} ORDER BY t.id",
        params,
    ).fetchall()
    holders = holders_of(db, [r[0] for r in rows])
    return [
        {
            "id": r[0],
            "key": r[1],
            "title": r[2],
            "status": r[3],
            "points": r[4],
            "sprint": r[5],
            "due": r[6],
            "blocked_since": r[7],
            "source": r[8],
            "responsible": _roles_text(holders[r[0]], "R"),
            "accountable": _roles_text(holders[r[0]], "A"),
        }
        for r in rows
    ]


def history(db: Reader, task_id: int) -> list[dict[str, Any]]:
    return [
        {"at": at, "actor": actor, "field": f, "old": old, "new": new, "source": src}
        for at, actor, f, old, new, src in db.execute(
            "SELECT at, actor, field, old, new, source FROM task_events WHERE task_id = ? ORDER BY id",
            [task_id],
        )
    ]


def replay(db: Database, task_id: int, until: str | None = None) -> dict[str, str | None]:
    """The task's fields and roles as its events say they were (at `until`, or now)."""
    state: dict[str, str | None] = {}
    for event in history(db, task_id):
        if until and event["at"] > until:
            break
        name = "title" if event["field"] == "created" else event["field"]
        state[name] = event["new"]
    return state


@dataclass
class TaskThen:
    """A task as its events say it was at a moment: for documents about a past period."""

    task_id: int
    title: str
    status: str | None = None
    points: str | None = None
    status_since: str | None = None
    blocked_reason: str | None = None
    removed: bool = False


def tasks_as_of(db: Reader, until: str) -> list[TaskThen]:
    """Every task created before `until`, replayed from its events up to then."""
    tasks: dict[int, TaskThen] = {}
    for tid, at, name, new in db.execute(
        "SELECT task_id, at, field, new FROM task_events WHERE at < ? AND field IN "
        "('created', 'title', 'status', 'points', 'blocked_reason', 'removed') ORDER BY id",
        [until],
    ):
        task = tasks.setdefault(tid, TaskThen(tid, new or ""))
        if name in ("created", "title"):
            task.title = new or task.title
        elif name == "status":
            if new != task.status:
                task.status_since = at
            task.status = new
        elif name == "points":
            task.points = new
        elif name == "blocked_reason":
            task.blocked_reason = new
        elif name == "removed":
            task.removed = new is not None
    return list(tasks.values())
