"""Sprint and flow KPIs: velocity, burndown, flow efficiency, estimate accuracy, cycle and lead time."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from teamops.clock import now
from teamops.config import WEEKDAYS, Config
from teamops.store.views import iso_week

if TYPE_CHECKING:
    from teamops.store.reader import Reader


@dataclass
class TaskFilter:
    """Which finished tasks count: a done_at range, a sprint, a person or team holding Responsible."""

    since: str | None = None
    until: str | None = None
    sprint: str | None = None
    person: str | None = None
    team: str | None = None


def _in(values: list[str]) -> str:
    return ",".join("?" * len(values))


def percentile(values: list[float], p: float) -> float | None:
    """Nearest-rank percentile: the smallest value with at least p% of the values at or below it."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def median(values: list[float]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def _r(value: float | None, digits: int = 2) -> float | None:
    return None if value is None else round(value, digits)


# -- velocity -----------------------------------------------------------------------------------------


def sprint_velocity(db: Reader, cfg: Config, team: str | None = None) -> dict[str, Any]:
    """Per sprint: committed at the start, completed by the end (tasks added later included)."""
    done = cfg.tasks.done_statuses
    where, params = "s.status != 'planned'", []
    if team:
        where += " AND s.team = ?"
        params.append(team)
    # Two aggregates over all sprints at once, rather than sub-queries per sprint.
    committed_by = {
        sid: (pts, est, n)
        for sid, pts, est, n in db.execute(
            "SELECT sprint_id, SUM(committed_points), SUM(estimated), COUNT(*) FROM sprint_tasks GROUP BY sprint_id"
        )
    }
    done_by = {
        sid: (pts, n, unpointed)
        for sid, pts, n, unpointed in db.execute(
            f"""
            SELECT t.sprint_id, COALESCE(SUM(t.points), 0), COUNT(*), SUM(t.points IS NULL)
            FROM tasks t JOIN sprints s ON s.id = t.sprint_id
            WHERE t.removed_at IS NULL AND t.status IN ({_in(done)}) AND t.done_at < date(s.end_date, '+1 day')
            GROUP BY t.sprint_id
            """,
            done,
        )
    }
    rows = []
    for sid, name, start, end, status in db.execute(
        f"SELECT s.id, s.name, s.start_date, s.end_date, s.status FROM sprints s WHERE {where} "
        "ORDER BY s.start_date, s.id",
        params,
    ):
        committed, estimated, n_committed = committed_by.get(sid, (None, 0, 0))
        completed, n_done, unpointed = done_by.get(sid, (0.0, 0, 0))
        rows.append(
            (sid, name, start, end, status, committed if n_committed else None, estimated, completed, n_done, unpointed)
        )
    sprints = []
    for _, name, start, end, status, committed, estimated, completed, n_done, unpointed in rows:
        sprints.append(
            {
                "sprint": name,
                "start": start,
                "end": end,
                "status": status,
                "committed": committed or 0.0,
                "completed": completed or 0.0,
                "say_do": _r((completed or 0) / committed) if committed else None,
                "tasks_done": n_done,
                "unpointed_done": unpointed,
                "commitment_estimated": bool(estimated),
            }
        )
    today = now().date().isoformat()
    finished = [s for s in sprints if s["status"] == "closed" or s["end"] < today]
    recent = finished[-cfg.kpi.velocity_sprints :]
    velocity = _r(sum(s["completed"] for s in recent) / len(recent)) if recent else None
    return {"sprints": sprints, "velocity": velocity, "velocity_sprints": len(recent)}


def weekly_completed(db: Reader, cfg: Config, flt: TaskFilter) -> list[dict[str, Any]]:
    """Without sprints: completed points per ISO week (done_at, UTC)."""
    done = cfg.tasks.done_statuses
    where, params = _task_where(cfg, flt)
    rows = db.execute(
        f"""
        SELECT {iso_week("t.done_at")} AS week,
               COALESCE(SUM(t.points), 0), COUNT(*), SUM(t.points IS NULL)
        FROM tasks t WHERE {where} AND t.status IN ({_in(done)}) AND t.done_at IS NOT NULL
        GROUP BY week ORDER BY week
        """,
        [*params, *done],
    ).fetchall()
    return [{"week": w, "completed": pts, "tasks_done": n, "unpointed_done": u} for w, pts, n, u in rows]


def ai_points_by_week(db: Reader, since: str | None, until: str | None) -> list[dict[str, Any]]:
    """AI points of commits per person per ISO week, from the estimates that count."""
    where, params = ["c.is_merge = 0"], []
    if since:
        where.append("c.authored_at >= ?")
        params.append(since)
    if until:
        where.append("c.authored_at < ?")
        params.append(until)
    rows = db.execute(
        f"""
        SELECT {iso_week("c.authored_at")} AS week,
               COALESCE(p.handle, '(unmapped)'), SUM(c.ai_points), COUNT(c.ai_points)
        FROM commits c LEFT JOIN people p ON p.id = c.person_id
        WHERE {" AND ".join(where)} AND c.ai_points IS NOT NULL GROUP BY week, 2 ORDER BY week, 2
        """,
        params,
    ).fetchall()
    return [{"week": w, "person": who, "ai_points": pts, "commits": n} for w, who, pts, n in rows]


# -- burndown -----------------------------------------------------------------------------------------


# Every event that moves a task in or out of a sprint's burndown.
SPRINT_EVENTS = """
SELECT at, task_id, field, new FROM task_events
WHERE field IN ('created', 'status', 'points', 'sprint', 'removed') AND task_id IN (
    SELECT id FROM tasks WHERE sprint_id = :id UNION SELECT task_id FROM sprint_tasks WHERE sprint_id = :id
    UNION SELECT task_id FROM task_events WHERE field = 'sprint' AND (old = :name OR new = :name))
ORDER BY id
"""


def _in_effect_order(events: list[tuple[str, int, str, str | None]]) -> list[tuple[str, int, int, str, str | None]]:
    """(effective time, seq, task, field, value), sorted: the order in which the changes take effect.

    Before a field's first event its first known value holds, so first events take effect at once
    (''); a later change dated before an earlier one takes effect when the earlier one does.
    """
    latest: dict[tuple[int, str], str] = {}
    stream = []
    for seq, (at, tid, field, new) in enumerate(events):
        key = (tid, field)
        if field == "created":
            effective = at
        elif key not in latest:
            effective, latest[key] = "", at
        else:
            effective = latest[key] = max(latest[key], at)
        stream.append((effective, seq, tid, field, new))
    stream.sort()
    return stream


class _SprintScope:
    """A sprint's tasks replayed forward in time: scope, remaining and unpointed at each moment asked.

    One time-ordered stream of changes, so a burndown costs its events plus its days, not tasks
    times days.
    """

    def __init__(self, sprint: str, done: set[str], events: list[tuple[str, int, str, str | None]], always: set[int]):
        stream = _in_effect_order(events)
        self.sprint, self.done, self.stream, self.pos = sprint, done, stream, 0
        # A task that did not exist yet is not in scope, unless the commitment snapshot says it
        # was (a ClickUp task first seen by a sync after the sprint's start).
        born = {tid for _, tid, field, _ in events if field == "created"} - always
        self.values: dict[int, dict[str, Any]] = {
            tid: {"created": tid not in born, "sprint": None, "removed": None, "points": None, "status": None}
            for _, tid, _, _ in events
        }
        self.scope: dict[int, float] = {}
        self.remaining: dict[int, float] = {}
        self.unpointed: dict[int, int] = {}

    def _count(self, tid: int) -> None:
        v = self.values[tid]
        scope = remaining = 0.0
        unpointed = 0
        if v["created"] and v["sprint"] == self.sprint and not v["removed"]:
            if v["points"] in (None, ""):
                unpointed = 1
            else:
                scope = float(v["points"])
                remaining = 0.0 if v["status"] in self.done else scope
        self.scope[tid], self.remaining[tid], self.unpointed[tid] = scope, remaining, unpointed

    def at(self, moment: str) -> tuple[float, float, int]:
        """(scope, remaining, unpointed tasks) at the moment; moments must not decrease between calls."""
        changed = set()
        stream, pos = self.stream, self.pos
        while pos < len(stream) and stream[pos][0] <= moment:
            _, _, tid, field, new = stream[pos]
            self.values[tid][field] = True if field == "created" else new
            changed.add(tid)
            pos += 1
        self.pos = pos
        for tid in changed:
            self._count(tid)
        return sum(self.scope.values()), sum(self.remaining.values()), sum(self.unpointed.values())


def burndown(db: Reader, cfg: Config, sprint_name: str) -> dict[str, Any]:
    """Remaining points at the end of each day of a sprint, the ideal line, and the scope changes."""
    from teamops.sprints import scope_changes, sprint_row

    sprint = sprint_row(db, sprint_name)
    start, end = date.fromisoformat(sprint["start_date"]), date.fromisoformat(sprint["end_date"])
    events = db.execute(SPRINT_EVENTS, {"id": sprint["id"], "name": sprint_name}).fetchall()
    snapshot = {r[0] for r in db.execute("SELECT task_id FROM sprint_tasks WHERE sprint_id = ?", [sprint["id"]])}
    tasks = _SprintScope(sprint_name, set(cfg.tasks.done_statuses), events, snapshot)
    committed_row = db.execute(
        "SELECT SUM(committed_points), COUNT(*) FROM sprint_tasks WHERE sprint_id = ?", [sprint["id"]]
    ).fetchone()
    working = {WEEKDAYS.index(d.lower()) for d in cfg.kpi.working_days}
    days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
    n_working = sum(1 for d in days if d.weekday() in working)
    today = now().date()
    rows = []
    elapsed = 0
    committed = committed_row[0] if committed_row[1] else None
    for day in days:
        if day.weekday() in working:
            elapsed += 1
        moment = (datetime(day.year, day.month, day.day) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
        scope, remaining, unpointed = tasks.at(moment)
        if committed is None and day == start:
            committed = scope
        base = committed or 0.0
        ideal = base * (1 - elapsed / n_working) if n_working else 0.0
        rows.append(
            {
                "date": day.isoformat(),
                "working_day": day.weekday() in working,
                "remaining": None if day > today else _r(remaining),
                "ideal": _r(max(ideal, 0.0)),
                "scope": None if day > today else _r(scope),
                "unpointed_tasks": None if day > today else unpointed,
            }
        )
    last = next((r for r in reversed(rows) if r["remaining"] is not None), None)
    status = None
    if last is not None:
        left, ideal_left = float(str(last["remaining"])), float(str(last["ideal"]))
        status = "on track" if left == ideal_left else ("ahead" if left < ideal_left else "behind")
    return {
        "sprint": sprint_name,
        "start": sprint["start_date"],
        "end": sprint["end_date"],
        "status": sprint["status"],
        "committed": committed or 0.0,
        "working_days": n_working,
        "working_days_left": sum(1 for d in days if d > today and d.weekday() in working),
        "as_of": last["date"] if last else None,
        "remaining": last["remaining"] if last else None,
        "ideal_now": last["ideal"] if last else None,
        "trend": status,
        "days": rows,
        "scope_changes": scope_changes(db, sprint_name),
    }


# -- flow -----------------------------------------------------------------------------------------------


def _task_where(cfg: Config, flt: TaskFilter) -> tuple[str, list[Any]]:
    where, params = ["t.removed_at IS NULL"], []
    if flt.since:
        where.append("t.done_at >= ?")
        params.append(flt.since)
    if flt.until:
        where.append("t.done_at < ?")
        params.append(flt.until)
    if flt.sprint:
        where.append("t.sprint_id = (SELECT id FROM sprints WHERE name = ?)")
        params.append(flt.sprint)
    if flt.person:
        where.append(
            "t.id IN (SELECT r.task_id FROM task_roles r JOIN people p ON p.id = r.person_id "
            "WHERE r.role = 'R' AND p.handle = ?)"
        )
        params.append(flt.person)
    if flt.team:
        where.append(
            "t.id IN (SELECT r.task_id FROM task_roles r JOIN people p ON p.id = r.person_id "
            "WHERE r.role = 'R' AND p.team = ?)"
        )
        params.append(flt.team)
    return " AND ".join(where), params


def finished_tasks(db: Reader, cfg: Config, flt: TaskFilter) -> list[dict[str, Any]]:
    """Done tasks in the filter, with their done time and cycle and lead times in days (SQL's julianday)."""
    done = cfg.tasks.done_statuses
    where, params = _task_where(cfg, flt)
    rows = db.execute(
        f"SELECT t.id, t.title, t.created_at, t.started_at, t.done_at, t.estimate_hours, t.spent_hours, t.points, "
        f"julianday(t.done_at), julianday(t.done_at) - julianday(t.started_at), "
        f"julianday(t.done_at) - julianday(t.created_at) "
        f"FROM tasks t WHERE {where} AND t.status IN ({_in(done)}) AND t.done_at IS NOT NULL ORDER BY t.done_at",
        [*params, *done],
    ).fetchall()
    keys = (
        "id",
        "title",
        "created_at",
        "started_at",
        "done_at",
        "estimate_hours",
        "spent_hours",
        "points",
        "done_day",
        "cycle_days",
        "lead_days",
    )
    return [dict(zip(keys, r, strict=True)) for r in rows]


def _category(cfg: Config, status: str) -> str:
    if status in cfg.tasks.active_statuses:
        return "active"
    if status in cfg.tasks.blocked_statuses:
        return "blocked"
    if status in cfg.tasks.done_statuses:
        return "done"
    return "waiting"


def status_hours_many(db: Reader, cfg: Config, tasks: list[dict[str, Any]]) -> dict[int, dict[str, float]]:
    """Hours each finished task spent active, waiting and blocked: ClickUp's time in status, else its events.

    Two set-based queries for any number of tasks, so years of history stay fast: a status lasts
    until the task's next status event, or until the task was done.
    """
    out = {t["id"]: {"active": 0.0, "waiting": 0.0, "blocked": 0.0} for t in tasks}
    if not tasks:
        return out
    # The ids travel as one JSON array: no temp table, so a query-only connection can run this.
    ids = json.dumps([t["id"] for t in tasks])
    categories: dict[str, str] = {}

    def category(status: str | None) -> str:
        name = status or ""
        if name not in categories:
            categories[name] = _category(cfg, name)
        return categories[name]

    measured: set[int] = set()
    for tid, status, minutes in db.execute(
        "SELECT task_id, status, minutes FROM task_status_times WHERE task_id IN (SELECT value FROM json_each(?))",
        [ids],
    ):
        measured.add(tid)
        cat = category(status)
        if cat in out[tid]:
            out[tid][cat] += minutes / 60
    done_day = {t["id"]: t["done_day"] for t in tasks}
    events = db.execute(
        "SELECT task_id, new, julianday(at) FROM task_events WHERE field = 'status' "
        "AND task_id IN (SELECT value FROM json_each(?)) ORDER BY task_id, id",
        [ids],
    ).fetchall()
    # Each status lasts until the task's next status event, and never past the task's done time.
    for (tid, status, begin), (next_tid, _, next_begin) in zip(events, [*events[1:], (None, None, None)], strict=True):
        if tid in measured:
            continue
        stop = done_day[tid]
        if next_tid == tid and next_begin < stop:
            stop = next_begin
        cat = category(status)
        if stop > begin and cat in out[tid]:
            out[tid][cat] += (stop - begin) * 24
    return out


def efficiency(db: Reader, cfg: Config, flt: TaskFilter, tasks: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """Flow efficiency = active ÷ (active + waiting + blocked) per finished task; estimate accuracy."""
    tasks = finished_tasks(db, cfg, flt) if tasks is None else tasks
    all_hours = status_hours_many(db, cfg, tasks)
    rows = []
    for t in tasks:
        hours = all_hours[t["id"]]
        total = sum(hours.values())
        rows.append(
            {
                "task": f"#{t['id']}",
                "title": t["title"],
                "active_h": _r(hours["active"], 1),
                "waiting_h": _r(hours["waiting"], 1),
                "blocked_h": _r(hours["blocked"], 1),
                "flow_efficiency": _r(hours["active"] / total) if total else None,
                "estimate_h": t["estimate_hours"],
                "spent_h": t["spent_hours"],
            }
        )
    measured = [r for r in rows if r["flow_efficiency"] is not None]
    active = sum(r["active_h"] or 0 for r in measured)
    total = sum((r["active_h"] or 0) + (r["waiting_h"] or 0) + (r["blocked_h"] or 0) for r in measured)
    both = [t for t in tasks if t["estimate_hours"] and t["spent_hours"] is not None]
    est = sum(t["estimate_hours"] for t in both)
    return {
        "tasks": len(tasks),
        "measured_tasks": len(measured),
        "flow_efficiency": _r(active / total) if total else None,
        "mean_task_flow_efficiency": _r(sum(r["flow_efficiency"] for r in measured) / len(measured))
        if measured
        else None,
        "estimate_accuracy": _r(sum(t["spent_hours"] for t in both) / est) if est else None,
        "accuracy_tasks": len(both),
        "rows": rows,
    }


def cycle_time(db: Reader, cfg: Config, flt: TaskFilter, tasks: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """Cycle time (first active status → done) and lead time (created → done), in days."""
    tasks = finished_tasks(db, cfg, flt) if tasks is None else tasks
    cycle = [t["cycle_days"] for t in tasks if t["started_at"] and t["started_at"] <= t["done_at"]]
    lead = [t["lead_days"] for t in tasks]
    rows = []
    for name, values in (("cycle_time", cycle), ("lead_time", lead)):
        rows.append(
            {
                "metric": name,
                "tasks": len(values),
                "median_days": _r(median(values)),
                "p85_days": _r(percentile(values, 85)),
                "mean_days": _r(sum(values) / len(values)) if values else None,
            }
        )
    return {"tasks": len(tasks), "never_started": len(tasks) - len(cycle), "rows": rows}
