"""Burndown: remaining points at the end of each day of a sprint, the ideal line, and the scope changes."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from teamops.config import WEEKDAYS, Config
from teamops.kpi.flow import rounded
from teamops.records import ReportRow
from teamops.store.task_stats import commitment, committed_tasks, sprint_events
from teamops.work.sprints import scope_changes, sprint_row

if TYPE_CHECKING:
    from teamops.store.reader import Reader


def _in_effect_order(events: list[tuple[str, int, str, str | None]]) -> list[tuple[str, int, int, str, str | None]]:
    """(effective time, seq, task, field, value), sorted: the order in which the changes take effect.

    Before a field's first event its first known value holds, so first events take effect at once
    (''); a later change dated before an earlier one takes effect when the earlier one does.
    """
    latest: dict[tuple[int, str], str] = {}
    stream = []
    for seq, (at, tid, name, new) in enumerate(events):
        key = (tid, name)
        if name in ("created", "removed"):
            effective = at
        elif key not in latest:
            effective, latest[key] = "", at
        else:
            effective = latest[key] = max(latest[key], at)
        stream.append((effective, seq, tid, name, new))
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
        born = {tid for _, tid, name, _ in events if name == "created"} - always
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
            _, _, tid, name, new = stream[pos]
            self.values[tid][name] = True if name == "created" else new
            changed.add(tid)
            pos += 1
        self.pos = pos
        for tid in changed:
            self._count(tid)
        return sum(self.scope.values()), sum(self.remaining.values()), sum(self.unpointed.values())


@dataclass
class BurndownDay(ReportRow):
    """The end of one day of the sprint; days still to come have no remaining, scope or unpointed."""

    date: str
    working_day: bool
    remaining: float | None
    ideal: float | None
    scope: float | None
    unpointed_tasks: int | None


@dataclass
class Burndown:
    """A sprint's burndown: the days, where it stands now against the ideal line, and its scope changes."""

    sprint: str
    start: str
    end: str
    status: str
    committed: float
    working_days: int
    working_days_left: int
    as_of: str | None
    remaining: float | None
    ideal_now: float | None
    trend: str | None
    days: list[BurndownDay] = field(default_factory=list)
    scope_changes: list[dict[str, Any]] = field(default_factory=list)

    def meta(self) -> dict[str, Any]:
        """Everything but the days: JSON's filters and totals."""
        data = dict(vars(self))
        data.pop("days")
        return data


def burndown(db: Reader, cfg: Config, sprint_name: str, now: datetime) -> Burndown:
    """Remaining points at the end of each day of a sprint, the ideal line, and the scope changes."""
    sprint = sprint_row(db, sprint_name)
    start, end = date.fromisoformat(sprint["start_date"]), date.fromisoformat(sprint["end_date"])
    events = sprint_events(db, sprint["id"], sprint_name)
    tasks = _SprintScope(sprint_name, set(cfg.tasks.done_statuses), events, committed_tasks(db, sprint["id"]))
    working = {WEEKDAYS.index(d.lower()) for d in cfg.kpi.working_days}
    days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
    n_working = sum(1 for d in days if d.weekday() in working)
    today = now.date()
    rows = []
    elapsed = 0
    committed = commitment(db, sprint["id"])
    for day in days:
        if day.weekday() in working:
            elapsed += 1
        moment = (datetime(day.year, day.month, day.day) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
        if sprint["closed_at"] and sprint["closed_at"] < moment:
            moment = sprint["closed_at"]  # once closed, what moved (unfinished work carried over) is no burndown
        scope, remaining, unpointed = tasks.at(moment)
        if committed is None and day == start:
            committed = scope
        ideal = (committed or 0.0) * (1 - elapsed / n_working) if n_working else 0.0
        future = day > today
        rows.append(
            BurndownDay(
                day.isoformat(),
                day.weekday() in working,
                None if future else rounded(remaining),
                rounded(max(ideal, 0.0)),
                None if future else rounded(scope),
                None if future else unpointed,
            )
        )
    last = next((r for r in reversed(rows) if r.remaining is not None), None)
    trend = None
    if last is not None:
        left, ideal_left = float(last.remaining or 0), float(last.ideal or 0)
        trend = "on track" if left == ideal_left else ("ahead" if left < ideal_left else "behind")
    return Burndown(
        sprint=sprint_name,
        start=sprint["start_date"],
        end=sprint["end_date"],
        status=sprint["status"],
        committed=committed or 0.0,
        working_days=n_working,
        working_days_left=sum(1 for d in days if d > today and d.weekday() in working),
        as_of=last.date if last else None,
        remaining=last.remaining if last else None,
        ideal_now=last.ideal if last else None,
        trend=trend,
        days=rows,
        scope_changes=scope_changes(db, sprint_name),
    )
