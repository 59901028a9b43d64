"""Velocity: committed and completed points per sprint and their mean; per ISO week without sprints."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from teamops.config import Config
from teamops.kpi.flow import TaskFilter, rounded
from teamops.records import ReportRow
from teamops.store.task_stats import committed_by_sprint, done_by_sprint, started_sprints, weekly_done

if TYPE_CHECKING:
    from teamops.store.reader import Reader


@dataclass
class SprintVelocity(ReportRow):
    """One sprint's commitment and what was completed by its end (tasks added later included)."""

    sprint: str
    start: str
    end: str
    status: str
    committed: float
    completed: float
    say_do: float | None
    tasks_done: int
    unpointed_done: int
    commitment_estimated: bool


@dataclass
class Velocity:
    """Every started sprint, and the mean completed points of the last finished ones."""

    sprints: list[SprintVelocity] = field(default_factory=list)
    velocity: float | None = None
    velocity_sprints: int = 0

    def sprint(self, name: str) -> SprintVelocity | None:
        return next((s for s in self.sprints if s.sprint == name), None)


@dataclass
class WeekDone(ReportRow):
    """Completed points of one ISO week (by done_at, UTC), for teams without sprints."""

    week: str
    completed: float
    tasks_done: int
    unpointed_done: int


def sprint_velocity(db: Reader, cfg: Config, now: datetime, team: str | None = None) -> Velocity:
    """Per sprint: committed at the start, completed by the end; velocity over the last finished ones."""
    committed = committed_by_sprint(db)
    done = done_by_sprint(db, cfg.tasks.done_statuses)
    result = Velocity()
    for sid, name, start, end, status in started_sprints(db, team):
        points, estimated, n_committed = committed.get(sid, (None, 0, 0))
        points = points if n_committed else None
        completed, n_done, unpointed = done.get(sid, (0.0, 0, 0))
        result.sprints.append(
            SprintVelocity(
                sprint=name,
                start=start,
                end=end,
                status=status,
                committed=points or 0.0,
                completed=completed or 0.0,
                say_do=rounded((completed or 0) / points) if points else None,
                tasks_done=n_done,
                unpointed_done=unpointed,
                commitment_estimated=bool(estimated),
            )
        )
    today = now.date().isoformat()
    finished = [s for s in result.sprints if s.status == "closed" or s.end < today]
    recent = finished[-cfg.kpi.velocity_sprints :]
    result.velocity = rounded(sum(s.completed for s in recent) / len(recent)) if recent else None
    result.velocity_sprints = len(recent)
    return result


def weekly_completed(db: Reader, cfg: Config, flt: TaskFilter) -> list[WeekDone]:
    """Without sprints: completed points per ISO week (done_at, UTC)."""
    return [WeekDone(w, pts, n, u) for w, pts, n, u in weekly_done(db, flt.where(), cfg.tasks.done_statuses)]
