"""Flow KPIs of finished tasks: flow efficiency, estimate accuracy, cycle and lead time."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from teamops.config import Config
from teamops.records import ReportRow
from teamops.store.filters import Where
from teamops.store.task_stats import finished, status_changes, status_minutes, task_filter

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

    def where(self) -> Where:
        return task_filter(self.since, self.until, self.sprint, self.person, self.team)


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


def rounded(value: float | None, digits: int = 2) -> float | None:
    return None if value is None else round(value, digits)


def finished_tasks(db: Reader, cfg: Config, flt: TaskFilter) -> list[dict[str, Any]]:
    """Done tasks in the filter, with their done time and cycle and lead times in days."""
    return finished(db, flt.where(), cfg.tasks.done_statuses)


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
    ids = json.dumps([t["id"] for t in tasks])
    categories: dict[str, str] = {}

    def category(status: str | None) -> str:
        name = status or ""
        if name not in categories:
            categories[name] = _category(cfg, name)
        return categories[name]

    measured: set[int] = set()
    for tid, status, minutes in status_minutes(db, ids):
        measured.add(tid)
        cat = category(status)
        if cat in out[tid]:
            out[tid][cat] += minutes / 60
    done_day = {t["id"]: t["done_day"] for t in tasks}
    events = status_changes(db, ids)
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


@dataclass
class EfficiencyRow(ReportRow):
    """One finished task's time by kind of status, and its estimate against what it took."""

    task: str
    title: str
    active_h: float | None
    waiting_h: float | None
    blocked_h: float | None
    flow_efficiency: float | None
    estimate_h: float | None
    spent_h: float | None


@dataclass
class Efficiency:
    """Flow efficiency (overall and mean of the tasks) and estimate accuracy over finished tasks."""

    tasks: int
    measured_tasks: int
    flow_efficiency: float | None
    mean_task_flow_efficiency: float | None
    estimate_accuracy: float | None
    accuracy_tasks: int
    rows: list[EfficiencyRow] = field(default_factory=list)

    def totals(self) -> dict[str, Any]:
        data = dict(vars(self))
        data.pop("rows")
        return data


def flow_phrase(value: float | None, finished: int, measured: int) -> str:
    """Flow efficiency as every report says it: the share, over how many finished tasks, how many measured."""
    from teamops.wording import count, percent

    if not finished:
        return "no task finished"
    shown = "none" if not measured else ("all" if measured == finished else f"{measured:,}")
    return f"{percent(value)} over {count(finished, 'finished task')} ({shown} with time in a status)"


def efficiency(db: Reader, cfg: Config, flt: TaskFilter, tasks: list[dict[str, Any]] | None = None) -> Efficiency:
    """Flow efficiency = active ÷ (active + waiting + blocked) per finished task; estimate accuracy."""
    tasks = finished_tasks(db, cfg, flt) if tasks is None else tasks
    all_hours = status_hours_many(db, cfg, tasks)
    rows = []
    for t in tasks:
        hours = all_hours[t["id"]]
        total = sum(hours.values())
        rows.append(
            EfficiencyRow(
                task=f"#{t['id']}",
                title=t["title"],
                active_h=rounded(hours["active"], 1),
                waiting_h=rounded(hours["waiting"], 1),
                blocked_h=rounded(hours["blocked"], 1),
                flow_efficiency=rounded(hours["active"] / total) if total else None,
                estimate_h=t["estimate_hours"],
                spent_h=t["spent_hours"],
            )
        )
    measured = [r for r in rows if r.flow_efficiency is not None]
    active = sum(r.active_h or 0 for r in measured)
    total = sum((r.active_h or 0) + (r.waiting_h or 0) + (r.blocked_h or 0) for r in measured)
    both = [t for t in tasks if t["estimate_hours"] and t["spent_hours"] is not None]
    est = sum(t["estimate_hours"] for t in both)
    return Efficiency(
        tasks=len(tasks),
        measured_tasks=len(measured),
        flow_efficiency=rounded(active / total) if total else None,
        mean_task_flow_efficiency=rounded(sum(r.flow_efficiency or 0 for r in measured) / len(measured))
        if measured
        else None,
        estimate_accuracy=rounded(sum(t["spent_hours"] for t in both) / est) if est else None,
        accuracy_tasks=len(both),
        rows=rows,
    )


@dataclass
class CycleRow(ReportRow):
    """Median, 85th percentile and mean of one duration, in days."""

    metric: str
    tasks: int
    median_days: float | None
    p85_days: float | None
    mean_days: float | None


@dataclass
class CycleTime:
    """Cycle time (first active status → done) and lead time (created → done) of finished tasks."""

    tasks: int
    never_started: int
    rows: list[CycleRow] = field(default_factory=list)

    def metric(self, name: str) -> CycleRow:
        return next(r for r in self.rows if r.metric == name)


def cycle_time(db: Reader, cfg: Config, flt: TaskFilter, tasks: list[dict[str, Any]] | None = None) -> CycleTime:
    """Cycle time (first active status → done) and lead time (created → done), in days."""
    tasks = finished_tasks(db, cfg, flt) if tasks is None else tasks
    cycle = [t["cycle_days"] for t in tasks if t["started_at"] and t["started_at"] <= t["done_at"]]
    lead = [t["lead_days"] for t in tasks]
    rows = [
        CycleRow(
            metric=name,
            tasks=len(values),
            median_days=rounded(median(values)),
            p85_days=rounded(percentile(values, 85)),
            mean_days=rounded(sum(values) / len(values)) if values else None,
        )
        for name, values in (("cycle_time", cycle), ("lead_time", lead))
    ]
    return CycleTime(tasks=len(tasks), never_started=len(tasks) - len(cycle), rows=rows)
