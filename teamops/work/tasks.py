"""Tasks with RACI roles: every change validated first and recorded as an event, so history replays."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from teamops.clock import now_iso
from teamops.config import Config
from teamops.errors import Findings, InvalidInput
from teamops.messages.message import Message, data, link, rich
from teamops.people.handles import person_id
from teamops.store import tasks as store
from teamops.store.database import transaction
from teamops.store.filters import Where
from teamops.store.people import person_by_handle
from teamops.store.sprints import sprint_by_name
from teamops.store.tasks import FIELDS, Change, event_text
from teamops.wording import count
from teamops.work.raci import ROLE_NAMES, ROLES, RoleHolder, holders_of, violations

if TYPE_CHECKING:
    from sqlite_utils import Database

    from teamops.store.reader import Reader


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


def task_ref(db: Reader, ref: str) -> int:
    """A task by `12`, `#12` or its key (`T-12`, a ClickUp id); unknown is invalid input (exit 5)."""
    found = store.task_id_for(db, ref)
    if found is None:
        raise InvalidInput(f"no task {ref!r}", "see `teamops task list`")
    return found


def _sprint_id(db: Reader, name: str) -> int:
    sprint = sprint_by_name(db, name)
    if sprint is None:
        raise InvalidInput(f"no sprint {name!r}", "create it with `teamops sprint add`")
    return int(sprint["id"])


def _holders_for(db: Reader, roles: dict[str, list[str]]) -> list[RoleHolder]:
    """Role holders from handles; an unknown handle is invalid input before any rule is checked."""
    holders: list[RoleHolder] = []
    for role in ROLES:
        for handle in roles.get(role, []):
            person = person_by_handle(db, handle)
            if person is None:
                raise InvalidInput(
                    f"no person with handle {handle!r} (given as {ROLE_NAMES[role]}): nothing was saved",
                    "see `teamops people list`, or add them with `teamops people add`",
                )
            holders.append(RoleHolder(role, person.id, person.handle, person.active))
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
        try:
            date.fromisoformat(change.due_date)
        except ValueError:
            raise InvalidInput(f"due date {change.due_date!r} is not YYYY-MM-DD") from None


def status_columns(cfg: Config, status: str, before: dict[str, Any] | None, at: str) -> dict[str, Any]:
    """The columns a status implies: when work started, when it was done, since when it is blocked.

    Shared by local changes and ClickUp syncs (which then put ClickUp's own done time in).
    """
    t = cfg.tasks
    cols: dict[str, Any] = {"done_at": at if status in t.done_statuses else None}
    if status in t.active_statuses and not (before and before.get("started_at")):
        cols["started_at"] = at
    if status not in t.blocked_statuses:
        cols["blocked_since"] = None
    elif not (before and before.get("blocked_since")):
        cols["blocked_since"] = at
    return cols


def _roles_text(holders: list[RoleHolder], role: str) -> str:
    return ",".join(sorted(h.label for h in holders if h.role == role))


def _write_role(
    db: Database, task_id: int, change: Change, role: str, old: list[RoleHolder], new: list[RoleHolder]
) -> bool:
    old_text, new_text = _roles_text(old, role), _roles_text(new, role)
    if old_text == new_text:
        return False
    mine = [(h.person_id, h.external_ref) for h in new if h.role == role]
    store.save_roles(db, task_id, change, role, mine, old_text or None, new_text or None)
    return True


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
    by = Change(now, actor)
    fields = {
        "title": title,
        "status": status,
        "points": change.points,
        "estimate_hours": change.estimate_hours,
        "spent_hours": change.spent_hours,
        "sprint": change.sprint,
        "due_date": change.due_date,
        "url": change.url,
    }
    columns = {"sprint_id": sprint_id, "source": "local", **status_columns(cfg, status, None, now)}
    with transaction(db):
        task_id = store.save_new_task(db, by, f"new:{now}:{title[:20]}", fields, columns)
        store.save_key(db, task_id, f"T-{task_id}")
        for role in ROLES:
            _write_role(db, task_id, by, role, [], holders)
    return task_id, _created_message(task_id, title, status, change, holders)


def _created_message(task_id: int, title: str, status: str, change: TaskChange, holders: list[RoleHolder]) -> Message:
    responsible = _roles_text(holders, "R").replace(",", ", ")
    accountable = _roles_text(holders, "A")
    fields = {
        "task": f"#{task_id}",
        "status": status,
        "responsible": responsible,
        "accountable": accountable,
        "points": event_text(change.points),
        "sprint": change.sprint,
        "due": change.due_date,
    }
    return Message(
        kind="task_created",
        key=f"task_created:T-{task_id}",
        title=f"New task #{task_id}: {title}",
        body=rich(
            link(title, change.url), " — Responsible: ", data(responsible), "; Accountable: ", data(accountable), "."
        ),
        fields={k: v for k, v in fields.items() if v},
        url=change.url,
        people=sorted({h.label for h in holders if h.role in ("R", "A")}),
    )


def current(db: Reader, task_id: int) -> dict[str, Any]:
    return store.snapshot(db, task_id)


def update_task(
    db: Database, cfg: Config, task_id: int, change: TaskChange, actor: str | None, reason: str | None = None
) -> list[str]:
    """Apply a change after validating the result; returns the fields that changed."""
    _check_numbers(change)
    _check_status(cfg, change.status)
    before = current(db, task_id)
    holders = holders_of(db, [task_id])[task_id]
    new_holders = [h for h in holders if h.role not in change.roles] + _holders_for(db, change.roles)
    _validate(cfg, change.status or before["status"], new_holders, f"change to #{task_id}")
    given = {name: getattr(change, name) for name in FIELDS if getattr(change, name) is not None}
    if "sprint" in given:
        given["sprint"] = given["sprint"] or None
    fields = [n for n in FIELDS if n in given and event_text(given[n]) != event_text(before[n])]
    roles = [r for r in change.roles if _roles_text(holders, r) != _roles_text(new_holders, r)]
    now = now_iso()
    by = Change(now, actor)
    columns: dict[str, Any] = {}
    if "sprint" in fields:
        columns["sprint_id"] = _sprint_id(db, given["sprint"]) if given["sprint"] else None
    blocked_now = "status" in fields and given["status"] in cfg.tasks.blocked_statuses
    if "status" in fields:
        columns.update(status_columns(cfg, given["status"], before, now))
        if blocked_now:
            columns["blocked_reason"] = reason
        elif before["status"] in cfg.tasks.blocked_statuses:
            columns["blocked_reason"] = None
    if fields or roles:
        columns["updated_at"] = now
    with transaction(db):
        store.save_task_changes(db, task_id, by, before, {n: given[n] for n in fields}, columns)
        if blocked_now:
            store.save_event(db, task_id, by, "blocked_reason", before["blocked_reason"], reason)
        for role in roles:
            _write_role(db, task_id, by, role, holders, new_holders)
    return [*fields, *(f"role:{r}" for r in roles)]


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
        body=rich(link(after["title"], after["url"]), " — ", data(reason.strip())),  # the title says "blocked"
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
    _check_status(cfg, status)
    where = Where("t.removed_at IS NULL").add("t.status = ?", status, when=status is not None)
    if open_only:
        done = cfg.tasks.done_statuses
        where.parts.append(f"t.status NOT IN ({','.join('?' * len(done))})")
        where.params += done
    where.add("s.name = ?", sprint, when=sprint)
    if person:
        where.add("t.id IN (SELECT r.task_id FROM task_roles r WHERE r.person_id = ?)", person_id(db, person))
    rows = store.list_rows(db, where)
    holders = holders_of(db, [r[0] for r in rows])
    keys = ("id", "key", "title", "status", "points", "sprint", "due", "blocked_since", "source")
    return [
        {
            **dict(zip(keys, r, strict=True)),
            "responsible": _roles_text(holders[r[0]], "R"),
            "accountable": _roles_text(holders[r[0]], "A"),
        }
        for r in rows
    ]


def history(db: Reader, task_id: int) -> list[dict[str, Any]]:
    return store.events(db, task_id)


def replay(db: Reader, task_id: int, until: str | None = None) -> dict[str, str | None]:
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
    names = ("created", "title", "status", "points", "blocked_reason", "removed")
    for tid, at, name, new in store.events_before(db, until, names):
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
