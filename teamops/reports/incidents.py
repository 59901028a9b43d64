"""`kpi incidents`: every incident of the window, how long it took to recover, and the deployment it failed."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from teamops.clock import now_iso
from teamops.dates import parse_iso
from teamops.kpi.dora import incident_target, incidents_in
from teamops.kpi.flow import median, rounded
from teamops.people.handles import repos_of
from teamops.reports.model import Column, Report
from teamops.reports.window import window
from teamops.store.deployments import deployments
from teamops.store.incidents import latest_incident_before
from teamops.wording import count, hours_text

if TYPE_CHECKING:
    from teamops.config import Config
    from teamops.store.reader import Reader


def incidents_report(
    db: Reader,
    cfg: Config,
    since: str | None = None,
    until: str | None = None,
    last: str | None = None,
    repo: list[str] | None = None,
    team: str | None = None,
    service: str | None = None,
) -> Report:
    """One row per incident opened in the window (recorded ones and incident tasks), oldest first; of a team or
    a service, the incidents whose failed deployment is theirs (docs/kpi.md)."""
    from teamops.kpi.services import of_service, of_team, service_named
    from teamops.store.people import people as people_of

    repo_ids = repos_of(db, repo)
    chosen = service_named(cfg.services, service) if service else None
    win = window(since, until, last, 12, lambda m: latest_incident_before(db, m))
    start, end = win.since or "0000", win.until or now_iso()
    deps = deployments(db, cfg.dora.environment, None, end, repo_ids)
    names = {d.id: d.name for d in deps}
    theirs: set[int] | None = None
    if team:
        theirs = of_team(db, deps, {p.id for p in people_of(db, team=team)})
    if chosen is not None:
        its = of_service(db, deps, chosen, cfg.services)
        theirs = its if theirs is None else theirs & its
    rows: list[dict[str, Any]] = []
    recovered: list[float] = []
    for i in incidents_in(db, cfg, start, end):
        if repo_ids is not None and i.repo_id not in repo_ids:
            continue
        target = incident_target(i, deps)
        if theirs is not None and (target is None or target.id not in theirs):
            continue
        hours = (parse_iso(i.resolved) - parse_iso(i.opened)).total_seconds() / 3600 if i.resolved else None
        if hours is not None:
            recovered.append(hours)
        rows.append(
            {
                "incident": i.ref,
                "title": i.title,
                "opened_at": i.opened,
                "resolved_at": i.resolved,
                "recover_h": rounded(hours) if hours is not None else None,
                "deployment": names.get(target.id) if target else None,
                "cause": i.cause,
            }
        )
    still_open = sum(1 for r in rows if r["resolved_at"] is None)
    footer = (
        f"{count(len(rows), 'incident')}, {still_open} open; time to recover median "
        f"{hours_text(rounded(median(recovered)))}"
        if rows
        else ""
    )
    return Report(
        name="incidents",
        rows=rows,
        title=f"Incidents, {win.label}"
        + (f", {', '.join(repo)}" if repo else "")
        + (f", team {team}" if team else "")
        + (f", service {chosen.name}" if chosen else ""),
        columns=[
            Column("incident", "Incident"),
            Column("title", "Title", wrap=True),
            Column("opened_at", "Opened", date=True),
            Column("resolved_at", "Resolved", date=True, drop=2),
            Column("recover_h", "Recovered in", numeric=True, hours=True),
            Column("deployment", "Failed deployment"),
            Column("cause", "Cause", drop=1),
        ],
        meta={
            **win.meta(),
            "repo": repo,
            "team": team,
            "service": chosen.name if chosen else None,
            "incidents": len(rows),
            "open": still_open,
            "recover_median_h": rounded(median(recovered)),
        },
        footer=footer,
        empty="no incidents in this window: `teamops incident open TITLE` records one; incident tasks count too",
    )
