"""Pull-request flow and review load as reports (`kpi prs`, `kpi reviews`, the site)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from teamops.kpi.prs import STAGES, PrFlow, pr_flow, review_load
from teamops.people.handles import person_id, repos_of
from teamops.reports.model import Chart, Column, Report, Series
from teamops.reports.window import window
from teamops.store.people import people as people_of
from teamops.store.pulls import latest_merge_before
from teamops.wording import count, hours_text, percent

if TYPE_CHECKING:
    from teamops.config import Config
    from teamops.store.reader import Reader


WEEK_COLUMNS = [
    Column("week", "Week"),
    Column("merged", "Merged", numeric=True),
    Column("coding_median_h", "Coding", numeric=True, hours=True),
    Column("coding_p85_h", "p85", numeric=True, hours=True, drop=4),
    Column("pickup_median_h", "Pickup", numeric=True, hours=True),
    Column("pickup_p85_h", "p85", numeric=True, hours=True, drop=5),
    Column("review_median_h", "Review", numeric=True, hours=True),
    Column("review_p85_h", "p85", numeric=True, hours=True, drop=6),
    Column("deploy_median_h", "Deploy", numeric=True, hours=True, drop=2),
    Column("deploy_p85_h", "p85", numeric=True, hours=True, drop=7),
    Column("unreviewed", "No review", numeric=True, drop=3),
    Column("median_lines", "Lines", numeric=True, drop=1),
]


STAGE_WORDS = {"coding": "coding", "pickup": "pickup", "review": "review", "deploy": "deploy"}


def flow_line(flow: PrFlow) -> str:
    """The overall figures in one line (the report's footer and the summary's pull-request line)."""
    stages = ", ".join(
        f"{STAGE_WORDS[s]} {hours_text(flow.medians[s])} (p85 {hours_text(flow.p85[s])})" for s in STAGES
    )
    sizes = ", ".join(f"{k} {v}" for k, v in flow.sizes.items())
    text = f"{count(len(flow.rows), 'pull request')} merged; medians: {stages}"
    if any(flow.sizes.values()):
        text += f"; sizes (lines): {sizes}"
    if flow.unreviewed_share is not None:
        text += f"; {percent(flow.unreviewed_share)} merged without review"
    if flow.inferred:
        text += (
            f"\n{count(flow.inferred, 'pull request')} inferred from merge commits and squash subjects: their "
            "coding, pickup and review times need the GitHub API (sync with --repo owner/name)"
        )
    return text


def prs_report(
    db: Reader,
    cfg: Config,
    since: str | None = None,
    until: str | None = None,
    last: str | None = None,
    repo: list[str] | None = None,
    team: str | None = None,
    person: str | None = None,
    each: bool = False,
) -> Report:
    """Pull-request flow per week, merged per week and the median pickup as its chart; `each` lists every one."""
    members: set[int] | None = None
    if team:
        members = {p.id for p in people_of(db, team=team)}
    if person:
        members = {person_id(db, person)}
    win = window(since, until, last, 12, lambda m: latest_merge_before(db, m))
    flow = pr_flow(db, cfg, win.since, win.until, repos_of(db, repo), members)
    bars: Series = {"merged": [float(w.merged) for w in flow.weeks]}
    lines: Series = {"median pickup (h)": [w.pickup_median_h for w in flow.weeks]}
    return Report(
        name="prs",
        rows=[w.row() for w in flow.weeks],
        columns=WEEK_COLUMNS,
        title=f"Pull requests merged, {win.label}",
        meta={
            **win.meta(),
            "repo": repo,
            "team": team,
            "person": person,
            **flow.meta(),
            **({"pulls": [r.row() for r in flow.rows]} if each else {}),  # each one, for scripts
        },
        footer=flow_line(flow) if flow.rows else "",
        empty=""
        if flow.rows
        else "no pull request merged in this window: sync a GitHub repository "
        "(teamops sync-commits --repo owner/name), or a clone with merge commits",
        chart=Chart(
            "Pull requests merged per week",
            [w.week for w in flow.weeks],
            bars,
            lines,
            y_label="Merged",
            lines_other_unit=True,
        ),
    )


def reviews_report(
    db: Reader,
    since: str | None = None,
    until: str | None = None,
    last: str | None = None,
    repo: list[str] | None = None,
    bots: re.Pattern[str] | None = None,
) -> Report:
    """Review load per person over the window, with who reviews whom in `meta` and the footer; `bots`
    (teamops.people.bots.patterns) are left out, None keeps them."""
    win = window(since, until, last, 12, lambda m: latest_merge_before(db, m))
    load = review_load(db, win.since, win.until, repos_of(db, repo), bots)
    return Report(
        name="reviews",
        rows=[r.row() for r in load.rows],
        columns=[
            Column("person", "Person", wrap=True),
            Column("reviews", "Reviews", numeric=True),
            Column("pulls_reviewed", "PRs reviewed", numeric=True, drop=2),
            Column("approvals", "Approvals", numeric=True, drop=3),
            Column("first_review_median_h", "To first review", numeric=True, hours=True),
            Column("authored", "PRs opened", numeric=True, drop=1),
        ],
        title=f"Reviews, {win.label}",
        meta={**win.meta(), "repo": repo, "pairs": load.pairs},
        footer=pairs_line(load.pairs),
        empty="" if load.rows else "no reviews or pull requests in this window",
    )


def pairs_line(pairs: list[dict[str, Any]]) -> str:
    """Who reviews whom most, in one line (the reviews report's footer)."""
    top = ", ".join(f"{p['reviewer']} → {p['author']} {p['reviews']}" for p in pairs[:5])
    return f"who reviews whom: {top}" if top else ""
