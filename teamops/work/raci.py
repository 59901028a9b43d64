"""RACI rules in one place: who may hold which role, checked on every change and on demand."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from teamops.clock import parse_iso
from teamops.config import Config, RaciConfig
from teamops.messages.message import Message, data, link, rich
from teamops.store.database import transaction
from teamops.store.outbox import save_message
from teamops.store.people import leads, people, teams_of
from teamops.store.tasks import ROLES, blocked, escalated, open_in, open_tasks, role_holders, save_escalation

if TYPE_CHECKING:
    from sqlite_utils import Database

    from teamops.store.reader import Reader

ROLE_NAMES = {"R": "Responsible", "A": "Accountable", "C": "Consulted", "I": "Informed"}
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class RoleHolder:
    """Someone named in a role: a known person (with handle and active flag) or an unknown reference."""

    role: str
    person_id: int | None
    handle: str | None
    active: bool = True
    external_ref: str | None = None

    @property
    def label(self) -> str:
        return self.handle or self.external_ref or "?"


@dataclass
class RaciViolation:
    """One broken rule on one task."""

    task_id: int
    task: str
    title: str
    status: str
    rule: str
    message: str


def violations(status: str, holders: list[RoleHolder], rules: RaciConfig) -> list[tuple[str, str]]:
    """(rule, message) for every rule the roles break; empty when the task is well owned."""
    found: list[tuple[str, str]] = []
    by_role: dict[str, list[RoleHolder]] = {r: [h for h in holders if h.role == r] for r in ROLES}
    accountable = by_role["A"]
    if not accountable:
        found.append(("one-accountable", "no Accountable person: exactly one is required"))
    elif len(accountable) > 1:
        names = ", ".join(h.label for h in accountable)
        found.append(("one-accountable", f"{len(accountable)} Accountable people ({names}): exactly one is required"))
    if not by_role["R"]:
        found.append(("responsible", "no Responsible person: at least one is required"))
    for h in holders:
        if h.person_id is None:
            found.append(("known-person", f"{ROLE_NAMES[h.role]} {h.label!r} is not a known person"))
        elif not h.active:
            found.append(("active-person", f"{ROLE_NAMES[h.role]} {h.label} is not active"))
    for role, hs in by_role.items():
        counts = Counter(h.person_id for h in hs if h.person_id is not None)
        for pid, n in counts.items():
            if n > 1:
                label = next(h.label for h in hs if h.person_id == pid)
                found.append(("no-duplicates", f"{label} holds {ROLE_NAMES[role]} {n} times"))
    if not rules.responsible_may_be_accountable:
        r_ids = {h.person_id for h in by_role["R"] if h.person_id is not None}
        for h in accountable:
            if h.person_id in r_ids:
                found.append(
                    (
                        "r-not-a",
                        f"{h.label} is both Responsible and Accountable "
                        "([raci] responsible_may_be_accountable = false)",
                    )
                )
    for role in rules.required_roles.get(status, []):
        if not by_role.get(role):
            found.append(("required-role", f"status {status!r} requires a {ROLE_NAMES[role]} person"))
    return found


def holders_of(db: Reader, task_ids: list[int]) -> dict[int, list[RoleHolder]]:
    """The role holders of tasks, with each person's handle and active flag."""
    out: dict[int, list[RoleHolder]] = {t: [] for t in task_ids}
    for task_id, role, pid, handle, active, ext in role_holders(db, task_ids):
        out[task_id].append(RoleHolder(role, pid, handle, bool(active) if active is not None else True, ext))
    return out


def check_tasks(db: Reader, cfg: Config, task_id: int | None = None) -> list[RaciViolation]:
    """Violations of every open task (or of one task, open or not)."""
    rows = open_tasks(db, cfg.tasks.done_statuses, task_id)
    holders = holders_of(db, [r[0] for r in rows])
    found: list[RaciViolation] = []
    for tid, key, title, status in rows:
        for rule, message in violations(status, holders[tid], cfg.raci):
            found.append(RaciViolation(tid, key, title, status, rule, message))
    return found


def blocked_hours(since: datetime, now: datetime, working_days: list[str] | None) -> float:
    """Hours between two moments; with working days given, only hours on those days (UTC) count."""
    if now <= since:
        return 0.0
    if not working_days:
        return (now - since).total_seconds() / 3600
    allowed = {WEEKDAYS.index(d.lower()) for d in working_days}
    total = 0.0
    cursor = since
    while cursor < now:
        day_end = (cursor + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
        end = min(day_end, now)
        if cursor.weekday() in allowed:
            total += (end - cursor).total_seconds()
        cursor = end
    return total / 3600


@dataclass
class Escalation:
    """One level of one blocking episode that is due, with the message that announces it."""

    task_id: int
    episode: str
    level: int
    hours: float
    message: Message


def due_escalations(db: Reader, cfg: Config, now: datetime) -> list[Escalation]:
    """Escalations due for tasks blocked too long and not queued yet: each level once per blocking episode."""
    rules = cfg.raci
    rows = blocked(db, cfg.tasks.blocked_statuses)
    holders = holders_of(db, [r[0] for r in rows])
    team_leads = leads(db)
    done = escalated(db)
    due: list[Escalation] = []
    for tid, key, title, since, reason, url, team in rows:
        hours = blocked_hours(parse_iso(since), now, cfg.kpi.working_days if rules.working_hours_only else None)
        accountable = [h.label for h in holders[tid] if h.role == "A"]
        responsible = [h.label for h in holders[tid] if h.role == "R"]
        for level, limit in ((1, rules.escalate_after_hours), (2, rules.second_level_after_hours)):
            if hours < limit or (tid, since, level) in done:
                continue
            if level == 1:
                people = accountable
                who = f"to {', '.join(accountable) or 'nobody (no Accountable person!)'}"
            else:
                a_teams = teams_of(db, accountable) | ({team} if team else set())
                lead_handles = [h for h, t in team_leads if t in a_teams] or [h for h, _ in team_leads]
                people = sorted(set(lead_handles) | set(accountable))
                leads_text = ", ".join(lead_handles) or "(none marked with --lead)"
                who = f"to the {'lead' if len(lead_handles) == 1 else 'leads'} {leads_text}"
            message = Message(
                kind="escalation",
                key=f"escalation:{key}:{since}:{level}",
                title=f"Escalation level {level}: #{tid} blocked for {hours:.0f} h",
                body=rich(
                    link(title, url),
                    f" has been blocked since {since} ({hours:.0f} h): ",
                    data(reason) if reason else "no reason given",
                    ". Escalated ",
                    data(who),
                    ".",
                ),
                fields={
                    "task": f"#{tid}",
                    "level": str(level),
                    "blocked for": f"{hours:.0f} h",
                    "accountable": ", ".join(accountable) or "-",
                    "responsible": ", ".join(responsible) or "-",
                },
                url=url,
                people=people,
                severity="warning" if level == 1 else "critical",
            )
            due.append(Escalation(tid, since, level, round(hours, 1), message))
    return due


def queue_escalations(db: Database, cfg: Config, due: list[Escalation], now: datetime) -> list[int]:
    """Record each escalation together with its outbox rows, in one transaction; returns the outbox ids.

    Without a channel routed for escalations nothing is recorded, so they are queued once one is.
    Another process that queued the same escalation first wins: the unique keys make this a no-op.
    """
    channels = cfg.notify.routes.get("escalation", [])
    if not channels:
        return []
    ids: list[int] = []
    stamp = now.strftime("%Y-%m-%dT%H:%M:%SZ")
    with transaction(db):
        for esc in due:
            if save_escalation(db, esc.task_id, esc.episode, esc.level, esc.hours, stamp):
                ids += save_message(db, esc.message, channels)
    return ids


def matrix(db: Reader, cfg: Config, sprint: str | None = None, team: str | None = None) -> dict[str, Any]:
    """People × open tasks with R/A/C/I letters, for a sprint or a team."""
    tasks = open_in(db, cfg.tasks.done_statuses, sprint)
    holders = holders_of(db, [t[0] for t in tasks])
    rows = []
    for person in people(db, active=True, team=team):
        row: dict[str, Any] = {"person": person.handle}
        for tid, _ in tasks:
            letters = "".join(r for r in ROLES if any(h.role == r and h.handle == person.handle for h in holders[tid]))
            row[f"#{tid}"] = letters
        if team is None or any(row[f"#{tid}"] for tid, _ in tasks):
            rows.append(row)
    return {"tasks": [{"id": tid, "title": title} for tid, title in tasks], "rows": rows}
