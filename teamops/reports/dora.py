"""DORA's five metrics as a report: a row per deployment, the keys in its meta, deployments per period charted."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import TYPE_CHECKING, Any

from teamops.clock import now
from teamops.kpi.dora import Dora, dora, dora_line, empty_hint
from teamops.people.handles import repos_of
from teamops.reports.model import Chart, Column, Report, Series
from teamops.reports.window import window
from teamops.store.deployments import latest_deployment_before
from teamops.store.people import people as people_of
from teamops.wording import hours_text

if TYPE_CHECKING:
    from teamops.config import Config
    from teamops.store.reader import Reader


WEEKS_IN_A_CHART = 26


def dora_report(
    db: Reader,
    cfg: Config,
    since: str | None = None,
    until: str | None = None,
    last: str | None = None,
    env: str | None = None,
    team: str | None = None,
    repo: list[str] | None = None,
    service: str | None = None,
) -> Report:
    """DORA's report: one row per deployment, the five metrics in `meta`, deployments per period as its chart."""
    from teamops.kpi.services import service_named

    members = {p.id for p in people_of(db, team=team)} if team else None
    chosen = service_named(cfg.services, service) if service else None
    repo_ids = repos_of(db, repo)
    if env:
        cfg = replace(cfg, dora=replace(cfg.dora, environment=env))
    win = window(since, until, last, 12, lambda m: latest_deployment_before(db, m))
    data = dora(db, cfg, win.since, win.until, repo_ids, members, chosen)
    stages = lead_time_stages(db, cfg, win.since, win.until, repo_ids, members)
    period, labels, bars, lines = trend(data)
    return Report(
        name="dora",
        rows=[r.row() for r in data.rows],
        title=f"Delivery (DORA), {cfg.dora.environment}, {win.label}"
        + (f", {', '.join(repo)}" if repo else "")
        + (f", team {team}" if team else "")
        + (f", service {chosen.name}" if chosen else ""),
        columns=[
            Column("deployment", "Deployment"),
            Column("deployed_at", "Deployed", date=True),
            Column("source", "From", drop=4),
            Column("status", "Status", drop=3),
            Column("commits", "Commits", numeric=True),
            Column("merges", "Merges", numeric=True, drop=2),
            Column("median_lead_time_h", "Lead time", numeric=True, hours=True),
            Column("failed", "Failed"),
            Column("why", "Why", wrap=True),
        ],
        meta={
            **win.meta(),
            "repo": repo,
            "team": team,
            "service": chosen.name if chosen else None,
            **data.meta(),
            "weeks": [w.row() for w in data.weeks],
            "lead_time_stages_h": stages,
        },
        footer="\n".join(filter(None, [dora_line(data) if data.rows else "", stages_line(stages)])),
        empty="" if data.rows else empty_hint(db, cfg, win, repo_ids, now()),
        chart=Chart(f"Deployments per {period}", labels, bars, lines, y_label="Deployments"),
    )


def trend(data: Dora) -> tuple[str, list[str], Series, Series]:
    """The chart's periods: ISO weeks, or months when there are more than 26 weeks (still readable)."""
    if len(data.weeks) <= WEEKS_IN_A_CHART:
        labels = [w.week for w in data.weeks]
        return (
            "week",
            labels,
            {"deployments": [float(w.deployments) for w in data.weeks]},
            {"failed": [float(w.failed) for w in data.weeks]},
        )
    months: dict[str, list[float]] = {}
    for w in data.weeks:
        year, week = w.week.split("-W")
        month = date.fromisocalendar(int(year), int(week), 4).strftime("%Y-%m")  # a week is its Thursday's
        totals = months.setdefault(month, [0.0, 0.0])
        totals[0] += w.deployments
        totals[1] += w.failed
    labels = list(months)
    return (
        "month",
        labels,
        {"deployments": [v[0] for v in months.values()]},
        {"failed": [v[1] for v in months.values()]},
    )


def lead_time_stages(
    db: Reader, cfg: Config, since: str | None, until: str | None, repo_ids: list[int] | None, people: set[int] | None
) -> dict[str, float | None] | None:
    """Where the lead time goes, from the pull requests merged in the window (None without any from GitHub)."""
    from teamops.kpi.prs import pr_flow
    from teamops.store.pulls import any_pull

    if not any_pull(db):
        return None
    flow = pr_flow(db, cfg, since, until, repo_ids, people)
    return flow.medians if flow.rows and flow.inferred < len(flow.rows) else None


def stages_line(stages: dict[str, float | None] | None) -> str:
    """The lead time's stages as one footer line."""
    if not stages:
        return ""
    parts = ", ".join(f"{name} {hours_text(value)}" for name, value in stages.items())
    return f"lead time by stage (median of merged pull requests): {parts}; see teamops kpi prs"


def dora_groups_report(
    db: Reader,
    cfg: Config,
    by: str,
    since: str | None = None,
    until: str | None = None,
    last: str | None = None,
    env: str | None = None,
    repo: list[str] | None = None,
) -> Report:
    """DORA's keys per service (`[[services]]`: the deployments that shipped changes under its paths) or per
    team (the deployments that shipped its people's commits), one row each, over the same window."""
    from teamops.errors import ConfigError, UsageError
    from teamops.kpi.dora import EDITION

    repo_ids = repos_of(db, repo)
    if env:
        cfg = replace(cfg, dora=replace(cfg.dora, environment=env))
    win = window(since, until, last, 12, lambda m: latest_deployment_before(db, m))
    groups: list[tuple[str, dict[str, Any]]]
    if by == "service":
        if not cfg.services:
            raise ConfigError(
                "no [[services]] are configured", 'e.g. [[services]] name = "api", paths = ["services/api/**"]'
            )
        groups = [(s.name, {"service": s}) for s in cfg.services]
    elif by == "team":
        teams = sorted({p.team for p in people_of(db) if p.team})
        groups = [(t, {"people": {p.id for p in people_of(db, team=t)}}) for t in teams]
    else:
        raise UsageError(f"--by must be service or team, not {by!r}")
    rows = []
    for name, narrowed in groups:
        data = dora(db, cfg, win.since, win.until, repo_ids, **narrowed)
        rows.append(
            {
                by: name,
                "deployments": data.deployments,
                "deploys_per_week": data.deploys_per_week,
                "lead_time_median_h": data.lead_time_median_h,
                "change_failure_rate": data.change_failure_rate,
                "recovery_time_median_h": data.recovery_time_median_h,
                "rework_rate": data.rework_rate,
                "incidents": data.incidents,
                "band": data.band,
            }
        )
    return Report(
        name=f"dora-by-{by}",
        rows=rows,
        title=f"Delivery (DORA) by {by}, {cfg.dora.environment}, {win.label}"
        + (f", {', '.join(repo)}" if repo else ""),
        columns=[
            Column(by, by.title()),
            Column("deployments", "Deployments", numeric=True),
            Column("deploys_per_week", "Per week", numeric=True, decimals=2),
            Column("lead_time_median_h", "Lead time", numeric=True, hours=True),
            Column("change_failure_rate", "Change fail rate", numeric=True, percent=True),
            Column("recovery_time_median_h", "Recovery", numeric=True, hours=True, drop=2),
            Column("rework_rate", "Rework", numeric=True, percent=True, drop=1),
            Column("incidents", "Incidents", numeric=True, drop=2),
            Column("band", "Band", drop=3),
        ],
        meta={**win.meta(), "by": by, "repo": repo, "edition": EDITION},
        empty=f"no {by}s to show: " + ("add [[services]] to the config" if by == "service" else "give people a team"),
    )
