"""`kpi ai` as a report: the share of work an assistant co-wrote per group, or assisted work beside the rest."""

from __future__ import annotations

from typing import TYPE_CHECKING

from teamops.kpi.ai import BY, ai_work
from teamops.people.handles import repos_of
from teamops.reports.model import Chart, Column, Report
from teamops.reports.window import window
from teamops.wording import count, percent

if TYPE_CHECKING:
    from teamops.config import Config
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
) -> Report:
    """Shares per `by` (week, person, team, repo, assistant), or with `compare` the comparison table."""
    from teamops.errors import UsageError
    from teamops.store.commits import latest_commit_before

    if by not in BY:
        raise UsageError(f"--by must be one of {', '.join(BY)}, not {by!r}")
    repo_ids = repos_of(db, repo)
    win = window(since, until, last, 12, lambda m: latest_commit_before(db, m))
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
    title = f"AI-assisted work, {win.label}" + (f", {', '.join(repo)}" if repo else "")
    empty = "" if data.commits else "no commits in this window"
    if compare:
        return Report(
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
    return Report(
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
        footer=f"{shares}\nassisted beside the rest: teamops kpi ai --compare",
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
