"""Pull-request flow: where a change's time goes from its first commit to production, week by week.

Stages of a merged pull request (hours; see docs/kpi.md):
- coding: first commit authored → ready for review (opened ready, or marked ready last);
- pickup: ready → the first review by someone other than the author;
- review: first review → merged;
- deploy: merged → the first production deployment whose commits include the merge commit.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from teamops.clock import parse_iso
from teamops.dates import iso_weeks
from teamops.kpi.flow import median, percentile, rounded
from teamops.people.bots import is_bot
from teamops.records import ReportRow
from teamops.store.pulls import PullFlow, ReviewGiven, authored_counts, merged_pulls, reviews_given

if TYPE_CHECKING:
    from teamops.config import Config
    from teamops.store.reader import Reader

STAGES = ("coding", "pickup", "review", "deploy")
# Lines changed (added + deleted): the buckets most PR-size reports use.
SIZES = (("XS", 10), ("S", 100), ("M", 400), ("L", 1000), ("XL", None))


def hours(start: str | None, end: str | None) -> float | None:
    """Hours from one ISO time to another; a stage that ran backwards (a commit authored after the PR was
    ready) counts as 0; None when either end is unknown."""
    if not start or not end:
        return None
    return max(0.0, (parse_iso(end) - parse_iso(start)).total_seconds() / 3600)


def size_class(lines: int | None) -> str | None:
    if lines is None:
        return None
    return next(name for name, top in SIZES if top is None or lines < top)


@dataclass
class PrRow(ReportRow):
    """One merged pull request and its stages."""

    repo: str
    number: int
    title: str
    author: str
    merged_at: str
    coding_h: float | None
    pickup_h: float | None
    review_h: float | None
    deploy_h: float | None
    lines: int | None
    size: str | None
    reviewed: bool
    inferred: bool


@dataclass
class PrWeek(ReportRow):
    """A week's merged pull requests: how many, and each stage's median and 85th percentile."""

    week: str
    merged: int
    coding_median_h: float | None
    coding_p85_h: float | None
    pickup_median_h: float | None
    pickup_p85_h: float | None
    review_median_h: float | None
    review_p85_h: float | None
    deploy_median_h: float | None
    deploy_p85_h: float | None
    unreviewed: int
    median_lines: float | None


@dataclass
class PrFlow:
    """Every figure `kpi prs` shows."""

    rows: list[PrRow] = field(default_factory=list)
    weeks: list[PrWeek] = field(default_factory=list)
    medians: dict[str, float | None] = field(default_factory=dict)
    p85: dict[str, float | None] = field(default_factory=dict)
    sizes: dict[str, int] = field(default_factory=dict)
    unreviewed_share: float | None = None
    inferred: int = 0

    @property
    def cycle_median_h(self) -> float | None:
        """Median first commit → merged of the pull requests where both are known."""
        return median([sum(v for v in _stage_values(r)[:3] if v is not None) for r in self.rows if not r.inferred])

    def meta(self) -> dict[str, Any]:
        return {
            "merged": len(self.rows),
            "medians_h": self.medians,
            "p85_h": self.p85,
            "sizes": self.sizes,
            "unreviewed_share": self.unreviewed_share,
            "inferred": self.inferred,
        }


def summary_line(flow: PrFlow) -> str:
    """The summary's pull-request line: how many merged, how long from first commit to merge, how reviewed."""
    from teamops.wording import hours_text, percent

    text = f"{len(flow.rows):,} merged"
    if flow.rows and flow.inferred < len(flow.rows):
        m = flow.medians
        text += (
            f", median first commit to merge {hours_text(flow.cycle_median_h)} (coding {hours_text(m['coding'])}, "
            f"pickup {hours_text(m['pickup'])}, review {hours_text(m['review'])})"
        )
        if flow.unreviewed_share is not None:
            text += f", {percent(flow.unreviewed_share)} without review"
    if flow.inferred:
        text += f"; {flow.inferred:,} inferred from merge commits (stages need the GitHub API)"
    return text


def _stage_values(r: PrRow) -> list[float | None]:
    return [r.coding_h, r.pickup_h, r.review_h, r.deploy_h]


def _row(p: PullFlow) -> PrRow:
    return PrRow(
        repo=p.repo,
        number=p.number,
        title=p.title,
        author=p.person or p.author or ("(inferred)" if p.inferred else "(ghost)"),
        merged_at=p.merged_at,
        coding_h=p.coding_h,
        pickup_h=p.pickup_h,
        review_h=p.review_h,
        deploy_h=p.deploy_h,
        lines=p.size,
        size=size_class(p.size),
        reviewed=p.reviewed,
        inferred=p.inferred,
    )


def _spread(rows: list[PrRow], stage: str) -> tuple[float | None, float | None]:
    values = [v for v in (getattr(r, f"{stage}_h") for r in rows) if v is not None]
    return rounded(median(values), 1), rounded(percentile(values, 85), 1)


def pr_flow(
    db: Reader, cfg: Config, since: str | None, until: str | None, repo_ids: list[int] | None, people: set[int] | None
) -> PrFlow:
    """Merged pull requests in [since, until) and their stages, overall and per ISO week."""
    pulls = merged_pulls(db, since, until, repo_ids, people, cfg.dora.environment)
    rows = [_row(p) for p in pulls]
    flow = PrFlow(rows=rows)
    for stage in STAGES:
        flow.medians[stage], flow.p85[stage] = _spread(rows, stage)
    known = [r for r in rows if not r.inferred]
    flow.unreviewed_share = rounded(sum(1 for r in known if not r.reviewed) / len(known), 3) if known else None
    counts = Counter(r.size for r in rows if r.size)
    flow.sizes = {name: counts.get(name, 0) for name, _ in SIZES}
    flow.inferred = len(rows) - len(known)
    by_week: dict[str, list[PrRow]] = defaultdict(list)
    for r, p in zip(rows, pulls, strict=True):
        by_week[p.week].append(r)
    # every week of the window, those without a merge as empty ones: a trend reads as time passed
    weeks = iso_weeks(since, until) if since and until else []
    for week in sorted(set(by_week) | set(weeks)):
        mine = by_week.get(week, [])
        if not mine:
            empty = dict.fromkeys((f"{s}_{k}_h" for s in STAGES for k in ("median", "p85")), None)
            flow.weeks.append(PrWeek(week=week, merged=0, **empty, unreviewed=0, median_lines=None))
            continue
        lines = [float(r.lines) for r in mine if r.lines is not None]
        stages = {
            f"{stage}_{k}_h": v
            for stage in STAGES
            for k, v in zip(("median", "p85"), _spread(mine, stage), strict=True)
        }
        unreviewed = sum(1 for one in mine if not one.reviewed and not one.inferred)
        flow.weeks.append(
            PrWeek(week=week, merged=len(mine), **stages, unreviewed=unreviewed, median_lines=rounded(median(lines), 0))
        )
    return flow


@dataclass
class ReviewerRow(ReportRow):
    """One person's reviewing: how much, how soon, and their own pull requests beside it."""

    person: str
    reviews: int
    pulls_reviewed: int
    approvals: int
    first_review_median_h: float | None  # asked (or ready, when not asked) → their first review of it
    authored: int


@dataclass
class ReviewLoad:
    """Every figure `kpi reviews` shows."""

    rows: list[ReviewerRow] = field(default_factory=list)
    pairs: list[dict[str, Any]] = field(default_factory=list)  # reviewer → author: reviews


def review_load(
    db: Reader,
    since: str | None,
    until: str | None,
    repo_ids: list[int] | None,
    bots: re.Pattern[str] | None = None,
) -> ReviewLoad:
    """Per reviewer, reviews submitted in [since, until) on others' pull requests, and who reviews whom.

    With `bots` (teamops.people.bots.patterns), accounts GitHub marks as bots or that match are no reviewers and
    no authors of their own row; a person's review of a bot's pull request still counts for the person.
    """
    given = reviews_given(db, since, until, repo_ids, people_only=bots is not None)
    authored = authored_counts(db, since, until, repo_ids, people_only=bots is not None)
    if bots is not None:
        given = [g for g in given if g.reviewer_person or not is_bot(bots, g.reviewer)]
        authored = {who: n for who, n in authored.items() if not is_bot(bots, who)}
    by_reviewer: dict[str, list[ReviewGiven]] = defaultdict(list)
    for g in given:
        by_reviewer[g.reviewer_person or g.reviewer].append(g)
    load = ReviewLoad()
    for who, mine in by_reviewer.items():
        firsts: dict[tuple[str, int], ReviewGiven] = {}
        for g in mine:
            firsts.setdefault((g.repo, g.number), g)
        asked = (hours(g.requested_at or g.ready_at, g.submitted_at) for g in firsts.values())
        waits = [h for h in asked if h is not None]
        load.rows.append(
            ReviewerRow(
                who,
                len(mine),
                len(firsts),
                sum(1 for g in mine if g.state == "APPROVED"),
                rounded(median(waits), 1),
                authored.pop(who, 0),
            )
        )
    for who, n in authored.items():  # authors who reviewed nothing in the window
        load.rows.append(ReviewerRow(who, 0, 0, 0, None, n))
    load.rows.sort(key=lambda r: (-r.reviews, -r.authored, r.person))
    pairs = Counter((g.reviewer_person or g.reviewer, g.author_person or g.author or "(ghost)") for g in given)
    load.pairs = [
        {"reviewer": reviewer, "author": author, "reviews": n}
        for (reviewer, author), n in sorted(pairs.items(), key=lambda kv: (-kv[1], kv[0]))
    ]
    return load
