"""Estimates against actuals: for each finished task, the points suggested and given, and the hours its linked
commits were estimated at against the hours it was in progress; per person and per team, with the error.

A commit is linked to a task when its message, or its pull request's branch or title, names the task
by one of `[tasks] link_patterns` (ClickUp's `CU-abc123`, a Jira key such as `SHOP-12`, `#12` for a
local task; pull-request references such as `(#12)` and "Merge pull request #12" are not tasks).
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from teamops.kpi.flow import median, rounded
from teamops.records import ReportRow
from teamops.store.task_links import commit_texts, finished_tasks, hours_per_point_samples, task_refs

if TYPE_CHECKING:
    from teamops.config import Config
    from teamops.store.reader import Reader

PULL_REFERENCE = re.compile(r"(?:\(#\d+\)|pull request #\d+)", re.I)
MIN_CALIBRATION = 10  # finished tasks with points and a time in progress before hours per point is offered


def team_hours_per_point(db: Reader, cfg: Config) -> tuple[float, int] | None:
    """The team's own hours per point (median time in progress ÷ points of finished tasks), once there
    are MIN_CALIBRATION of them; None before."""
    samples = hours_per_point_samples(db, cfg.tasks.done_statuses)
    if len(samples) < MIN_CALIBRATION:
        return None
    return round(float(median(samples) or 0.0), 1), len(samples)


def linked_commits(db: Reader, cfg: Config) -> dict[int, list[float | None]]:
    """task id → the AI hours of every commit that names it."""
    patterns = [re.compile(p) for p in cfg.tasks.link_patterns]
    refs = task_refs(db)
    out: dict[int, list[float | None]] = defaultdict(list)
    for _, _, text, hours in commit_texts(db):
        text = PULL_REFERENCE.sub(" ", text)
        named: set[int] = set()
        for pattern in patterns:
            for match in pattern.finditer(text):
                value = (match.group(1) if match.groups() else match.group(0)).lower()
                for candidate in (value, f"cu:{value}", f"t-{value}"):
                    if candidate in refs:
                        named.add(refs[candidate])
                        break
        for tid in named:
            out[tid].append(hours)
    return out


@dataclass
class TaskEstimate(ReportRow):
    """One finished task: points given and suggested, commit-estimated hours against its time in progress."""

    key: str
    title: str
    person: str | None
    team: str | None
    points: float | None
    suggested: float | None
    commits: int
    commit_hours: float | None
    in_progress_h: float | None


@dataclass
class GroupEstimate(ReportRow):
    """A person's or a team's tasks: how far suggestions and commit estimates were from what happened."""

    group: str  # "person" or "team"
    name: str
    tasks: int
    points_mae: float | None  # mean |suggested - given| where both are known
    commit_hours: float
    in_progress_h: float
    hours_ratio: float | None  # commit-estimated hours / hours in progress (1 = exact)


@dataclass
class Estimates:
    """Every figure `kpi estimates` shows."""

    tasks: list[TaskEstimate] = field(default_factory=list)
    groups: list[GroupEstimate] = field(default_factory=list)
    hours_per_point: float | None = None  # the team's own: median of time in progress / points
    heuristic_hours_per_point: float | None = None  # what the linked commits' estimates imply
    calibrated_on: int = 0

    def meta(self) -> dict[str, Any]:
        return {
            "hours_per_point": self.hours_per_point,
            "heuristic_hours_per_point": self.heuristic_hours_per_point,
            "calibrated_on": self.calibrated_on,
            "tasks": [t.row() for t in self.tasks],
        }


def _group(kind: str, name: str, mine: list[TaskEstimate]) -> GroupEstimate:
    both = [abs(t.suggested - t.points) for t in mine if t.suggested is not None and t.points is not None]
    timed = [t for t in mine if t.commit_hours is not None and t.in_progress_h]
    est = sum(t.commit_hours or 0 for t in timed)
    actual = sum(t.in_progress_h or 0 for t in timed)
    return GroupEstimate(
        kind,
        name,
        len(mine),
        rounded(sum(both) / len(both), 2) if both else None,
        round(est, 1),
        round(actual, 1),
        rounded(est / actual, 2) if actual else None,
    )


def estimates(
    db: Reader, cfg: Config, since: str | None, until: str | None, person_id: int | None, team: str | None
) -> Estimates:
    """Tasks finished in [since, until) beside what their commits were estimated at."""
    links = linked_commits(db, cfg)
    result = Estimates()
    for row in finished_tasks(db, cfg.tasks.done_statuses, since, until, person_id, team):
        hours = links.get(row["id"], [])
        known = [h for h in hours if h is not None]
        result.tasks.append(
            TaskEstimate(
                row["key"],
                row["title"],
                row["person"],
                row["team"],
                row["points"],
                row["suggested"],
                len(hours),
                round(sum(known), 1) if known else None,
                row["in_progress_h"],
            )
        )
    by: dict[tuple[str, str], list[TaskEstimate]] = defaultdict(list)
    for t in result.tasks:
        by[("person", t.person or "(nobody)")].append(t)
        if t.team:
            by[("team", t.team)].append(t)
    result.groups = [_group(kind, name, mine) for (kind, name), mine in sorted(by.items())]
    calibrated = team_hours_per_point(db, cfg)
    if calibrated is not None:
        result.hours_per_point, result.calibrated_on = calibrated
    implied = [t.commit_hours / t.points for t in result.tasks if t.points and t.commit_hours is not None]
    result.heuristic_hours_per_point = rounded(median(implied), 1) if implied else None
    return result
