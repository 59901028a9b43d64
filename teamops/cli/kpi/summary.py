"""`teamops kpi summary` (and plain `teamops kpi`): one screen of the team's numbers."""

from __future__ import annotations

import typer

from teamops.cli.kpi.activity import activity_report
from teamops.cli.kpi.window import LastOpt
from teamops.cli.options import (
    FormatOpt,
    IncludeBotsOpt,
    PersonOpt,
    ReposOpt,
    SinceOpt,
    SprintOpt,
    TeamOpt,
    UntilOpt,
    fmt_value,
)
from teamops.cli.output import Output
from teamops.cli.state import AppState, state
from teamops.clock import now
from teamops.kpi.summary import summarize
from teamops.people.bots import find as find_bots
from teamops.people.handles import check_filters, repos_of
from teamops.reports.model import Column, Report

EMPTY = "nothing to report yet: run `teamops sync-commits`, and `teamops sync-tasks` or `teamops task add`"


def summary_cmd(
    ctx: typer.Context,
    sprint: SprintOpt = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    last: LastOpt = None,
    person: PersonOpt = None,
    team: TeamOpt = None,
    repo: ReposOpt = None,
    fmt: FormatOpt = None,
    include_bots: IncludeBotsOpt = False,
) -> None:
    """One screen: commits, people and AI points, and the sprint, velocity, flow and cycle time when there are tasks.

    The last 4 weeks, or the 4 weeks up to the latest activity when nothing happened since.

    Example: teamops kpi summary --last 2w --team web
    """
    st = state(ctx)
    render_summary(st, st.output(fmt_value(fmt)), sprint, since, until, last, person, team, repo, include_bots)


def render_summary(
    st: AppState,
    out: Output,
    sprint: str | None,
    since: str | None,
    until: str | None,
    last: str | None,
    person: str | None,
    team: str | None,
    repo: list[str] | None = None,
    include_bots: bool = False,
) -> None:
    check_filters(st.reader, person, team)
    bots = None if include_bots else find_bots(st.reader, st.config)
    summary = summarize(
        st.reader,
        st.config,
        now(),
        since=since,
        until=until,
        last=last,
        sprint=sprint,
        person=person,
        team=team,
        repos=repos_of(st.reader, repo),
        bots=bots.emails if bots else None,
    )
    if summary.empty:
        out.data({"report": "summary", "empty": True, "rows": []}, EMPTY)
        return
    if out.fmt == "json":
        out.data(summary.to_json(), "")
        return
    facts = Report(
        name="summary",
        rows=[{"metric": k, "value": v} for k, v in summary.facts()],
        title=f"Team summary, {summary.window.label}",
        columns=[Column("metric", "Metric"), Column("value", "Value", wrap=True)],
        footer=summary.note,
    )
    out.report(facts)
    if out.fmt == "csv":
        return
    act = activity_report(st.reader, summary.commit_window or summary.window, person, team, repo, bots=bots)
    if summary.activity:
        act.rows = [r.row() for r in summary.activity]
        out.report(act)
