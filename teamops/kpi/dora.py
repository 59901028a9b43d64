"""Delivery metrics, DORA's five as its 2024 report names them: deployment frequency, change lead time,
change fail rate, failed deployment recovery time, and rework rate.

Bands from the 2023 Accelerate State of DevOps Report (DORA, Google Cloud), its software delivery
performance levels: a metric is in the best band whose threshold it meets; the overall band is
the lowest of the four (a team is as fast as its slowest key).
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from teamops.clock import now_iso
from teamops.dates import iso_week_of, iso_weeks, parse_iso
from teamops.kpi.flow import median, percentile, rounded
from teamops.kpi.services import of_service, of_team
from teamops.kpi.windows import Window, suggest_last
from teamops.records import ReportRow
from teamops.store.deployments import (
    Deployment,
    contains,
    deployment_span,
    deployments,
    lead_times,
    reverted_in,
    shipped_counts,
)
from teamops.store.incidents import incidents as recorded_incidents
from teamops.store.incidents import shipping_deployment
from teamops.store.tasks import tasks_created_between
from teamops.wording import count, hours_text, number, percent

if TYPE_CHECKING:
    from teamops.config import Config
    from teamops.config.schema import ServiceConfig
    from teamops.store.reader import Reader

EDITION = "Accelerate State of DevOps Report 2023"
INCIDENT = "incident: "  # how a failure that an incident task explains is worded


@dataclass(frozen=True)
class Incident:
    """An incident task or a recorded incident, as the delivery metrics read it."""

    title: str
    opened: str
    resolved: str | None
    repo_id: int | None = None  # the repository it names, when it does
    caused_by: int | None = None  # the deployment that shipped its named cause
    ref: str = ""  # "incident 3" (recorded) or "task 12"
    cause: str | None = None  # as recorded: a commit or "#N"


BANDS = ("elite", "high", "medium", "low")
# (elite, high, medium) thresholds; what misses medium is low.
THRESHOLDS: dict[str, tuple[float, float, float]] = {
    "deploys_per_week": (5.0, 1.0, 12 / 52),  # on demand (every working day), weekly, monthly: at least
    "lead_time_hours": (24.0, 24.0 * 7, 24.0 * 30),  # a day, a week, a month: less than
    "change_failure_rate": (0.05, 0.10, 0.15),  # at most
    "time_to_restore_hours": (1.0, 24.0, 24.0 * 7),  # an hour, a day, a week: less than
}


MEETS = {
    "deploys_per_week": lambda value, limit: value >= limit,
    "lead_time_hours": lambda value, limit: value < limit,
    "change_failure_rate": lambda value, limit: value <= limit,
    "time_to_restore_hours": lambda value, limit: value < limit,
}


def band(metric: str, value: float | None) -> str | None:
    """The best band whose threshold the value meets; low when it meets none."""
    if value is None:
        return None
    meets = MEETS[metric]
    return next((name for name, limit in zip(BANDS, THRESHOLDS[metric], strict=False) if meets(value, limit)), "low")


@dataclass
class DoraWeek(ReportRow):
    week: str
    deployments: int
    failed: int
    median_lead_time_h: float | None


@dataclass
class DoraDeployment(ReportRow):
    deployment: str
    repo_id: int
    deployed_at: str
    status: str
    commits: int
    merges: int
    median_lead_time_h: float | None
    failed: bool
    why: str
    source: str = ""  # how it was recognised: tag, release, deployment, workflow, cli, …


@dataclass
class Dora:
    """DORA's metrics over a window, with how each deployment counted."""

    environment: str
    deployments: int = 0
    deploys_per_week: float | None = None
    weeks_with_deployment: float | None = None
    lead_time_median_h: float | None = None
    lead_time_p85_h: float | None = None
    commits_deployed: int = 0
    change_failure_rate: float | None = None
    failed: int = 0
    recovery_time_median_h: float | None = None  # failed deployment recovery time
    time_to_restore_median_h: float | None = None  # the same figure under its earlier name, kept for readers of it
    restores: int = 0
    incidents: int = 0  # incidents opened in the window, each against the deployment it fails
    rework: int = 0  # deployments that were unplanned fixes of a failure
    rework_rate: float | None = None
    bands: dict[str, str | None] = field(default_factory=dict)
    repos: list[dict[str, Any]] = field(default_factory=list)  # the same keys per repository
    band: str | None = None
    edition: str = EDITION
    weeks: list[DoraWeek] = field(default_factory=list)
    rows: list[DoraDeployment] = field(default_factory=list)

    def meta(self) -> dict[str, Any]:
        return {**{k: v for k, v in vars(self).items() if k not in ("weeks", "rows")}, "definitions": DEFINITIONS}


# What each figure is, as docs/kpi.md says it: the JSON carries it so a reader of the numbers needs no code.
DEFINITIONS = {
    "deploys_per_week": "successful production deployments in the window ÷ the window's length in weeks (days ÷ 7)",
    "weeks_with_deployment": "share of the ISO weeks the window touches with at least one successful deployment",
    "lead_time_median_h": "median over every non-merge commit a deployment in the window shipped first: "
    "deployed − authored, in hours (p85: nearest rank)",
    "change_failure_rate": "failed deployments ÷ deployments in the window; failed: a failed status, a hotfix of "
    "its line within hotfix_hours that contains it (a re-tag of the same version is none), a rollback (the next "
    "deployment shipped a commit in its history), a revert of one of its commits, or the last deployment before "
    "an incident task",
    "recovery_time_median_h": "failed deployment recovery time (DORA 2024): median hours from each failed "
    "deployment to the earliest of its incidents' final close and the deployment that fixed it (hotfix, revert, "
    "rollback); else the next successful deployment (none while an incident of it is open)",
    "time_to_restore_median_h": "recovery_time_median_h under its name before DORA 2024",
    "rework_rate": "deployments in the window that were unplanned fixes of a failed one (its hotfix, its rollback, "
    "the deployment that shipped its revert, or its incident's fix: the first deployment after the incident opened, "
    "by its resolve) ÷ deployments in the window (DORA's fifth metric, 2024)",
}


def _hours(a: str, b: str) -> float:
    return max(0.0, (parse_iso(b) - parse_iso(a)).total_seconds() / 3600)


def dora(
    db: Reader,
    cfg: Config,
    since: str | None,
    until: str | None,
    repo_ids: list[int] | None = None,
    people: set[int] | None = None,
    service: ServiceConfig | None = None,
) -> Dora:
    """DORA's keys for production deployments in [since, until) (see docs/kpi.md for each definition).

    An open start is the first deployment; an open end is now. With `people` (a team), only the
    deployments that shipped their work, and the lead times of their commits; with a service, only its
    deployments (kpi/services.py). Incidents are attributed among every deployment first, then counted
    where their deployment belongs.
    """
    env = cfg.dora.environment
    result = Dora(env)
    every = deps = deployments(db, env, since, until, repo_ids)
    if people is not None:
        theirs = of_team(db, deps, people)
        deps = [d for d in deps if d.id in theirs]
    if service is not None:
        its = of_service(db, deps, service, cfg.services)
        deps = [d for d in deps if d.id in its]
    until = until or now_iso()
    since = since or (deps[0].deployed_at if deps else until)
    later = deployments(db, env, since, None, repo_ids)  # to find what came after, past the window too
    ok = [d for d in deps if d.status == "success"]
    result.deployments = len(ok)
    weeks = iso_weeks(since, until)
    days = (parse_iso(until) - parse_iso(since)).total_seconds() / 86400
    result.deploys_per_week = rounded(len(ok) / max(1.0, days / 7))  # per week of the window, not per week touched
    result.weeks_with_deployment = rounded(len({iso_week_of(d.deployed_at) for d in ok}) / max(1, len(weeks)))
    leads = lead_times(db, [d.id for d in ok], people)
    hours = [h for _, h in leads]
    result.lead_time_median_h = rounded(median(hours))
    result.lead_time_p85_h = rounded(percentile(hours, 85))
    result.commits_deployed = len(hours)
    # each incident against the deployment it fails (that shipped its cause, else the last one before it)
    kept = {d.id for d in deps}
    incidents = [
        (i, target)
        for i in incidents_in(db, cfg, since, until)
        if (target := incident_target(i, every)) is None or target.id in kept
    ]
    result.incidents = sum(1 for _, target in incidents if target is not None)
    why, fixes = _failures(db, cfg, deps, later, incidents)
    result.failed = len(why)
    result.change_failure_rate = rounded(len(why) / len(deps), 3) if deps else None
    in_window = {d.id for d in deps if d.status == "success"}
    reworked = {fix.id for fix in fixes.values()} | _incident_fixes(later, incidents)
    result.rework = len(reworked & in_window)
    result.rework_rate = rounded(result.rework / len(deps), 3) if deps else None
    restores = _restores(deps, later, why, fixes, incidents)
    result.restores = len(restores)
    result.recovery_time_median_h = result.time_to_restore_median_h = rounded(median(restores))
    result.bands = {
        "deploys_per_week": band("deploys_per_week", result.deploys_per_week if deps else None),
        "lead_time_hours": band("lead_time_hours", result.lead_time_median_h),
        "change_failure_rate": band("change_failure_rate", result.change_failure_rate),
        "time_to_restore_hours": band("time_to_restore_hours", result.time_to_restore_median_h),
    }
    known = [b for b in result.bands.values() if b]
    result.band = max(known, key=BANDS.index) if known else None
    by_dep: dict[int, list[float]] = {}
    for dep_id, h in leads:
        by_dep.setdefault(dep_id, []).append(h)
    counts = shipped_counts(db, [d.id for d in deps])
    result.rows = [
        DoraDeployment(
            d.name,
            d.repo_id,
            d.deployed_at,
            d.status,
            *counts.get(d.id, (0, 0)),
            rounded(median(by_dep.get(d.id, []))),
            d.id in why,
            why.get(d.id, ""),
            recognised(d),
        )
        for d in deps
    ]
    for rid in sorted({d.repo_id for d in deps}):
        mine = [d for d in deps if d.repo_id == rid]
        mine_hours = [h for d in mine for h in by_dep.get(d.id, [])]
        result.repos.append(
            {
                "repo_id": rid,
                "deployments": sum(1 for d in mine if d.status == "success"),
                "failed": sum(1 for d in mine if d.id in why),
                "lead_time_median_h": rounded(median(mine_hours)),
                "change_failure_rate": rounded(sum(1 for d in mine if d.id in why) / len(mine), 3),
            }
        )
    by_week: dict[str, list[Deployment]] = {}
    for d in deps:
        by_week.setdefault(iso_week_of(d.deployed_at), []).append(d)
    for week in weeks:
        in_week = by_week.get(week, [])
        week_hours = [h for d in in_week for h in by_dep.get(d.id, [])]
        result.weeks.append(
            DoraWeek(
                week,
                sum(1 for d in in_week if d.status == "success"),
                sum(1 for d in in_week if d.id in why),
                rounded(median(week_hours)),
            )
        )
    return result


def recognised(d: Deployment) -> str:
    """How a deployment was recognised, as its row says: its source, and a run's workflow."""
    return f"{d.source}: {d.workflow_name}" if d.workflow_name else d.source


def _next_success(d: Deployment, later: list[Deployment]) -> Deployment | None:
    return next(
        (n for n in later if n.repo_id == d.repo_id and n.status == "success" and n.deployed_at > d.deployed_at), None
    )


VERSION = re.compile(r"(\d+(?:\.\d+)*)")


def release_line(name: str, pattern: str = "") -> str | None:
    """The release line a deployment's name belongs to: the pattern's first group, or by default all
    but the last number of its version (padded to three numbers: 2.3 and 2.3.1 are both line 2.3)."""
    if pattern:
        match = re.search(pattern, name)
        return match.group(1) if match and match.group(1) is not None else None
    match = VERSION.search(name)
    if not match:
        return None
    numbers = [str(int(n)) for n in match.group(1).split(".")]
    numbers += ["0"] * (3 - len(numbers))
    return ".".join(numbers[:-1])


def same_version(a: str, b: str) -> bool:
    """`v2.0` and `v2.0.0` name one version: the second tag is a re-tag, not a new release."""

    def padded(name: str) -> tuple[int, ...] | None:
        match = VERSION.search(name)
        if not match:
            return None
        numbers = [int(n) for n in match.group(1).split(".")]
        return tuple(numbers + [0] * (3 - len(numbers)))

    return padded(a) is not None and padded(a) == padded(b)


def hotfix_of(db: Reader, cfg: Config, d: Deployment, later: list[Deployment]) -> Deployment | None:
    """The first later deployment that is d's hotfix: a patch release of the same line, within the
    window, whose commit has d's in its history. A next feature release, another line or a re-tag of
    the same version never is."""
    line = release_line(d.name, cfg.dora.release_line)
    if line is None:
        return None
    limit = parse_iso(d.deployed_at) + timedelta(hours=cfg.dora.hotfix_hours)
    start = bisect_right(later, d.deployed_at, key=lambda n: n.deployed_at)  # `later` is in time order
    for n in (later[k] for k in range(start, len(later))):
        if n.repo_id != d.repo_id or n.status != "success":
            continue
        if parse_iso(n.deployed_at) > limit:
            break
        if same_version(n.name, d.name):
            continue
        if release_line(n.name, cfg.dora.release_line) == line and contains(db, n, d):
            return n
    return None


def _failures(
    db: Reader, cfg: Config, deps: list[Deployment], later: list[Deployment], incidents: list[Targeted]
) -> tuple[dict[int, str], dict[int, Deployment]]:
    """Deployment id → why it counts as failed (its status, a hotfix of its line soon after, a revert,
    or an incident), and the hotfixes that restored them."""
    why: dict[int, str] = {d.id: "deployment failed" for d in deps if d.status == "failure"}
    fixes: dict[int, Deployment] = {}
    for d in deps:
        fix = hotfix_of(db, cfg, d, later) if d.status == "success" else None
        if fix is not None:
            fixes[d.id] = fix
            hours = _hours(d.deployed_at, fix.deployed_at)
            why.setdefault(d.id, f"hotfix {fix.name} after {hours_text(rounded(hours))} (same line, contains it)")
    for d, back in _rollbacks(db, deps, later):
        fixes.setdefault(d.id, back)
        why.setdefault(
            d.id, f"rolled back by {back.name} after {hours_text(rounded(_hours(d.deployed_at, back.deployed_at)))}"
        )
    by_id = {n.id: n for n in later}
    for dep_id, fixed_by in reverted_in(db, [d.id for d in deps if d.status == "success"]).items():
        if dep_id not in why:
            why[dep_id] = "a commit it shipped was reverted"
            if fixed_by is not None and fixed_by in by_id:
                fixes[dep_id] = by_id[fixed_by]
    for incident, target in incidents:  # each counts once, against the deployment it fails
        if target is not None:
            named = " (caused by a change it shipped)" if incident.caused_by is not None else ""
            why.setdefault(target.id, f"{INCIDENT}{incident.title[:60]}{named}")
    return why, fixes


def _incident_fixes(later: list[Deployment], incidents: list[Targeted]) -> set[int]:
    """Deployments that shipped an incident's fix: the first successful one of the failed deployment's
    repository after the incident opened, by the time it was resolved."""
    fixed: set[int] = set()
    for incident, target in incidents:
        if target is None or incident.resolved is None:
            continue
        start = bisect_right(later, incident.opened, key=lambda n: n.deployed_at)  # `later` is in time order
        fix = None
        for n in (later[k] for k in range(start, len(later))):
            if n.deployed_at > incident.resolved:
                break
            if n.repo_id == target.repo_id and n.status == "success":
                fix = n
                break
        if fix is not None:
            fixed.add(fix.id)
    return fixed


Targeted = tuple[Incident, Deployment | None]  # an incident and the deployment it fails


def incident_target(incident: Incident, deps: list[Deployment]) -> Deployment | None:
    """The deployment an incident fails: the one that shipped its named cause, else the last successful one
    before it opened (of its repository, when it names one)."""
    if incident.caused_by is not None:
        return next((d for d in deps if d.id == incident.caused_by), None)
    end = bisect_right(deps, incident.opened, key=lambda d: d.deployed_at)  # `deps` is in time order
    return next(
        (d for d in reversed(deps[:end]) if incident.repo_id in (None, d.repo_id) and d.status == "success"), None
    )


def _rollbacks(db: Reader, deps: list[Deployment], later: list[Deployment]) -> list[tuple[Deployment, Deployment]]:
    """(deployment, its rollback): the next successful deployment of its repository shipped an older commit,
    one in its history (a workflow dispatched for a commit before it, a re-deployed earlier tag)."""
    mine = {d.id for d in deps}
    found = []
    before: dict[int, Deployment] = {}
    for n in sorted((d for d in later if d.status == "success"), key=lambda d: (d.deployed_at, d.id)):
        prev = before.get(n.repo_id)
        if prev is not None and prev.id in mine and n.sha != prev.sha and contains(db, prev, n):
            found.append((prev, n))
        before[n.repo_id] = n
    return found


def incidents_in(db: Reader, cfg: Config, since: str, until: str) -> list[Incident]:
    """Incident tasks (by `[dora] incident_pattern` or status) and recorded incidents opened in the window."""
    pattern = re.compile(cfg.dora.incident_pattern) if cfg.dora.incident_pattern else None
    statuses = set(cfg.dora.incident_statuses)
    found = [
        Incident(title, created, done, ref=f"task {tid}")
        for tid, title, status, created, done in tasks_created_between(db, since, until)
        if status in statuses or (pattern is not None and pattern.search(title or ""))
    ]
    for i in recorded_incidents(db, since, until):
        caused_by = shipping_deployment(db, i.repo_id, i.cause) if i.cause else None
        found.append(Incident(i.title, i.opened_at, i.resolved_at, i.repo_id, caused_by, f"incident {i.id}", i.cause))
    return sorted(found, key=lambda i: i.opened)


def _restores(
    deps: list[Deployment],
    later: list[Deployment],
    why: dict[int, str],
    fixes: dict[int, Deployment],
    incidents: list[Targeted],
) -> list[float]:
    """Failed deployment recovery time (DORA 2024): from each failed deployment to the earliest of its
    incidents' final close and the deployment that fixed it (its hotfix, revert or rollback); without either,
    to the next successful deployment, unless an incident of it is still open (not recovered yet)."""
    closes: dict[int, list[str]] = {}
    still_open: set[int] = set()
    for incident, target in incidents:
        if target is None:
            continue
        if incident.resolved:
            closes.setdefault(target.id, []).append(incident.resolved)
        else:
            still_open.add(target.id)
    hours = []
    for d in deps:
        if d.id not in why:
            continue
        ends = list(closes.get(d.id, []))
        if d.id in fixes:
            ends.append(fixes[d.id].deployed_at)
        if not ends and d.id not in still_open and (nxt := _next_success(d, later)) is not None:
            ends.append(nxt.deployed_at)
        if ends:
            hours.append(_hours(d.deployed_at, min(ends, key=parse_iso)))
    return hours


def empty_hint(db: Reader, cfg: Config, win: Window, repo_ids: list[int] | None, now: datetime) -> str:
    """Why a window shows no deployments, and a --last that reaches the ones there are."""
    env = cfg.dora.environment
    n, first, last = deployment_span(db, env, repo_ids)
    if not n or not first or not last:
        return f"no {env} deployments yet: release tags (sync-commits) or `teamops deploy record` make them"
    return (
        f"no {env} deployments {win.phrase}; {count(n, 'deployment')} stored, {first[:10]} to {last[:10]}: "
        f"try --last {suggest_last(last, now)}"
    )


def dora_line(d: Dora) -> str:
    """The five metrics on one line, by their 2024 names, with the band (the summary's DORA line)."""
    return (
        f"{count(d.deployments, 'deployment')} ({number(d.deploys_per_week)}/week), change lead time median "
        f"{hours_text(d.lead_time_median_h)}, change fail rate {percent(d.change_failure_rate)}, failed deployment "
        f"recovery time {hours_text(d.recovery_time_median_h)}, rework rate {percent(d.rework_rate)}"
        + (f": {d.band} (bands of the {d.edition})" if d.band else "")
    )
