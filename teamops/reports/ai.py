"""`kpi ai` as a report: the share of work an assistant co-wrote per group, or assisted work beside the rest."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from teamops.clock import now_iso
from teamops.kpi.ai import BY, AiWork, ai_work
from teamops.kpi.assistant_usage import USAGE_BY, Usage
from teamops.people.handles import repos_of
from teamops.reports.model import Chart, Column, Report
from teamops.reports.window import window
from teamops.wording import count, percent

if TYPE_CHECKING:
    from teamops.config import Config
    from teamops.kpi.windows import Window
    from teamops.store.reader import Reader


def ai_report(
    db: Reader,
    cfg: Config,
    since: str | None = None,
    until: str | None = None,
    last: str | None = None,
    repo: list[str] | None = None,
    by: str = "week",
    compare: bool = False,
    usage: bool = False,
) -> Report:
    """Shares per `by` (week, person, team, repo, assistant), with `compare` the comparison table, with `usage`
    the assistants' own usage reports."""
    from teamops.errors import UsageError
    from teamops.store.commits import latest_commit_before

    if by not in BY:
        raise UsageError(f"--by must be one of {', '.join(BY)}, not {by!r}")
    if usage and (compare or repo):
        raise UsageError("--usage shows the assistants' own reports, which name no repository: no --compare or --repo")
    if usage and by not in USAGE_BY:
        raise UsageError(f"the assistants' own reports go by {', '.join(USAGE_BY)}, not {by!r}")
    win = window(since, until, last, 12, lambda m: latest_commit_before(db, m))
    if usage:
        return usage_report(db, win.since or "0000-01-01T00:00:00Z", win.until or now_iso(), win.label, by, win.meta())
    shares, compared = _reports(db, cfg, win, repo, by)
    return compared if compare else shares


def ai_reports(db: Reader, cfg: Config, since: str | None, until: str | None, repo: list[str] | None) -> list[Report]:
    """The weekly shares and the comparison from one reading of the window (the dashboard shows both)."""
    from teamops.store.commits import latest_commit_before

    win = window(since, until, None, 12, lambda m: latest_commit_before(db, m))
    return list(_reports(db, cfg, win, repo, "week"))


def _reports(db: Reader, cfg: Config, win: Window, repo: list[str] | None, by: str) -> tuple[Report, Report]:
    """Shares per `by` and the comparison, as reports."""
    repo_ids = repos_of(db, repo)
    data = ai_work(db, cfg, win.since, win.until, repo_ids, by)
    shares = (
        f"AI-assisted: {percent(data.commit_share)} of {count(data.commits, 'commit')}, "
        f"{percent(data.line_share)} of changed lines, {percent(data.pr_share)} of merged pull requests"
        + (
            ": " + ", ".join(f"{a} {n}" for a, n in sorted(data.assistants.items(), key=lambda x: -x[1]))
            if data.assistants
            else ""
        )
    )
    meta = {
        **win.meta(),
        "repo": repo,
        "by": by,
        "commits": data.commits,
        "assisted_commits": data.assisted_commits,
        "commit_share": data.commit_share,
        "line_share": data.line_share,
        "pr_share": data.pr_share,
        "assistants": data.assistants,
        "comparison": [r.row() for r in data.comparison],
        "min_sample": cfg.ai_assist.min_sample,
    }
    reported = _reported(db, win.since, win.until or now_iso()) if not repo else None
    if reported:
        meta["usage"] = reported[1]
        shares += "\n" + reported[0]
    title = f"AI-assisted work, {win.label}" + (f", {', '.join(repo)}" if repo else "")
    empty = "" if data.commits else "no commits in this window"
    compared = Report(
        name="ai-compare",
        rows=[r.row() for r in data.comparison],
        title=f"{title}: assisted beside the rest (no causal claim)",
        columns=[
            Column("measure", "Measure", wrap=True),
            Column("assisted", "Assisted", numeric=True, decimals=3),
            Column("not_assisted", "Not assisted", numeric=True, decimals=3),
            Column("n_assisted", "n", numeric=True),
            Column("n_not_assisted", "n (not)", numeric=True),
            Column("note", "Note", drop=1),
        ],
        meta=meta,
        footer=f"{shares}\nfewer than {cfg.ai_assist.min_sample} on a side: too few to compare ([ai_assist])",
        empty=empty,
    )
    shares_report = Report(
        name="ai",
        rows=[r.row() for r in data.rows],
        title=f"{title}, by {by}",
        columns=[
            Column("group", by.title()),
            Column("commits", "Commits", numeric=True),
            Column("assisted_commits", "Assisted", numeric=True),
            Column("commit_share", "Share", numeric=True, percent=True),
            Column("line_share", "Of lines", numeric=True, percent=True, drop=2),
            Column("merged_prs", "Merged PRs", numeric=True, drop=3),
            Column("pr_share", "PR share", numeric=True, percent=True, drop=3),
            Column("assistants", "Assistants", wrap=True, drop=1),
        ],
        meta=meta,
        footer=f"{shares}\n{_next_step(data)}",
        empty=empty,
        chart=Chart(
            f"Commits per {by}",
            [r.group for r in data.rows],
            {"assisted": [float(r.assisted_commits) for r in data.rows]},
            {"all": [float(r.commits) for r in data.rows]},
            y_label="Commits",
        )
        if by == "week"
        else None,
    )
    return shares_report, compared


def _next_step(data: AiWork) -> str:
    """Where to look next: the comparison, or, when nothing carries a mark, which marks are read."""
    if data.assisted_commits or data.pr_share:  # a share is never rounded to 0 when it is not
        return "assisted beside the rest: teamops kpi ai --compare"
    return (
        "no commit or pull request here carries an assistant's mark: the marks read are in docs/kpi.md "
        '("AI-assisted work"); a team\'s own go in [ai_assist] patterns and labels'
    )


def _reported(db: Reader, since: str | None, until: str) -> tuple[str, dict[str, Any]] | None:
    """The assistants' own reports over the window, in a line and as data; None when none are stored."""
    from teamops.kpi.assistant_usage import assistant_usage
    from teamops.store.assistant_usage import any_usage

    if not any_usage(db):
        return None
    found = assistant_usage(db, since or "0000-01-01T00:00:00Z", until, "person")  # totals: the cheapest grouping
    if not found.days:
        return None
    line = (
        f"{' and '.join(found.assistants)}'s own reports: {count(found.people, 'person', 'people')} active, "
        f"{found.lines_added:,} lines added in the editor, {percent(found.acceptance_rate)} of suggestions "
        f"accepted ({count(found.days, 'day')}; teamops kpi ai --usage)"
    )
    return line, _usage_meta(found)


def _usage_meta(found: Usage) -> dict[str, Any]:
    return {
        "assistants": found.assistants,
        "people": found.people,
        "lines_added": found.lines_added,
        "acceptance_rate": found.acceptance_rate,
        "days": found.days,
    }


def usage_report(db: Reader, since: str, until: str, label: str, by: str, window_meta: dict[str, Any]) -> Report:
    """`kpi ai --usage`: the assistants' own usage reports per week, person or team."""
    from teamops.kpi.assistant_usage import assistant_usage

    found = assistant_usage(db, since, until, by)
    per_week = by == "week"
    return Report(
        name="ai-usage",
        rows=[r.row() for r in found.rows],
        title=f"AI assistants' own usage reports, {label}, by {by}",
        columns=[
            Column("group", by.title()),
            Column("assistant", "Assistant", drop=4),
            Column("people", "People", numeric=True),
            Column("active_days", "Active days", numeric=True, drop=2),
            Column("prompts", "Prompts", numeric=True, drop=3),
            Column("lines_suggested", "Lines suggested", numeric=True, drop=2),
            Column("lines_added", "Lines added", numeric=True),
            Column("acceptance_rate", "Accepted", numeric=True, percent=True),
            Column("agent_lines", "Agent lines", numeric=True, drop=1),
            *(
                [
                    Column("prs_by_assistant", "PRs it opened", numeric=True, drop=3),
                    Column("prs_merged_by_assistant", "Merged", numeric=True, drop=3),
                ]
                if per_week
                else []
            ),
        ],
        meta={**window_meta, "by": by, **_usage_meta(found)},
        footer=(
            f"{count(found.people, 'person', 'people')} active on {count(found.days, 'reported day')}; lines as the "
            "assistant counts them in the editor, not the history's (teamops kpi ai for those)"
        ),
        empty="" if found.rows else "no usage report in this window ([github] copilot_orgs; docs/github.md)",
        chart=Chart(
            "Lines added in the editor per week",
            [r.group for r in found.rows],
            {"lines added": [float(r.lines_added) for r in found.rows]},
            {},
            y_label="Lines",
        )
        if per_week and found.rows
        else None,
    )
