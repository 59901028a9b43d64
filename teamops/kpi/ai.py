"""AI-assisted work: how much of it an assistant co-wrote (commits, changed lines, merged pull requests), and how
assisted work compares with the rest on the same window — flow, size, review, and quality. Comparisons only:
no causal claim, each side with its sample size, and none under `[ai_assist] min_sample`."""

from __future__ import annotations

import json
import re
from bisect import bisect_right
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from teamops.clock import now_iso, parse_iso, to_iso
from teamops.dates import iso_week_of, iso_weeks
from teamops.kpi.flow import median, percentile, rounded
from teamops.records import ReportRow
from teamops.store.assists import commit_assistants, pull_assistants

if TYPE_CHECKING:
    from collections.abc import Callable

    from teamops.config import Config
    from teamops.store.reader import Reader

REVERT = re.compile(r"This reverts commit ([0-9a-f]{40})")
REVERTED_DAYS = 30  # a commit reverted within this long after it was written
REWORK_DAYS = 21  # a file a commit changed, changed again by another commit within this long
BY = ("week", "person", "team", "repo", "assistant")


@dataclass
class ShareRow(ReportRow):
    """One group's work and the share of it an assistant co-wrote."""

    group: str
    commits: int
    assisted_commits: int
    commit_share: float | None
    lines: int
    assisted_lines: int
    line_share: float | None
    merged_prs: int
    assisted_prs: int
    pr_share: float | None
    assistants: str


@dataclass
class CompareRow(ReportRow):
    """One measure of assisted work beside the rest, with both samples."""

    measure: str
    assisted: float | None
    not_assisted: float | None
    n_assisted: int
    n_not_assisted: int
    note: str


@dataclass
class AiWork:
    """Shares per group, the totals, each assistant's commits, and the comparison."""

    by: str
    rows: list[ShareRow] = field(default_factory=list)
    commits: int = 0
    assisted_commits: int = 0
    commit_share: float | None = None
    line_share: float | None = None
    pr_share: float | None = None
    assistants: dict[str, int] = field(default_factory=dict)
    comparison: list[CompareRow] = field(default_factory=list)


def _share(part: float, whole: float) -> float | None:
    """part ÷ whole to three decimals, but never rounded to none or to all when it is neither (1 in 4,881)."""
    if not whole:
        return None
    share = part / whole
    kept = rounded(share, 3)
    return rounded(share, 6) if kept in (0, 1) and 0 < share < 1 else kept


def ai_work(
    db: Reader, cfg: Config, since: str | None, until: str | None, repo_ids: list[int] | None, by: str = "week"
) -> AiWork:
    """The window's non-merge commits and merged pull requests, assisted or not (docs/kpi.md)."""
    from teamops.kpi.prs import PrFlow, pr_flow

    until = until or now_iso()
    result = AiWork(by)
    marked = commit_assistants(db, since, until)
    commits = _commits(db, since, until, repo_ids)
    groups: dict[str, dict[str, Any]] = defaultdict(
        lambda: {"c": 0, "ac": 0, "l": 0, "al": 0, "p": 0, "ap": 0, "a": Counter()}
    )
    for c in commits:
        who = marked.get((c["repo_id"], c["sha"]), [])
        keys = (list(who) or ["(none)"]) if by == "assistant" else [_group(c, by)]
        for key in keys:
            g = groups[key]
            g["c"] += 1
            g["l"] += c["lines"]
            if who:
                g["ac"] += 1
                g["al"] += c["lines"]
                g["a"].update(who)
        if who:
            result.assisted_commits += 1
            for name in who:
                result.assistants[name] = result.assistants.get(name, 0) + 1
    result.commits = len(commits)
    from teamops.store.pulls import any_pull

    flow = pr_flow(db, cfg, since, until, repo_ids, None) if any_pull(db) else PrFlow()
    pulls = pull_assistants(db)
    names = {str(name): int(rid) for rid, name in db.execute("SELECT id, name FROM repos")}
    teams = _pull_teams(db, since, until) if by == "team" else {}
    assisted_pulls: list[Any] = []
    plain_pulls: list[Any] = []
    for row in flow.rows:
        pull = (names.get(row.repo, -1), row.number)
        who = pulls.get(pull, [])
        (assisted_pulls if who else plain_pulls).append(row)
        counts = groups[(who or ["(none)"])[0] if by == "assistant" else _pull_group(row, by, teams.get(pull))]
        counts["p"] += 1
        counts["ap"] += bool(who)
    order = iso_weeks(since or (commits[0]["at"] if commits else until), until) if by == "week" else sorted(groups)
    for key in order:
        found = groups.get(key)
        if found is None and by != "week":
            continue
        g = found or {"c": 0, "ac": 0, "l": 0, "al": 0, "p": 0, "ap": 0, "a": Counter()}
        result.rows.append(
            ShareRow(
                key,
                g["c"],
                g["ac"],
                _share(g["ac"], g["c"]),
                g["l"],
                g["al"],
                _share(g["al"], g["l"]),
                g["p"],
                g["ap"],
                _share(g["ap"], g["p"]),
                ", ".join(f"{a} {n}" for a, n in g["a"].most_common()),
            )
        )
    result.commit_share = _share(result.assisted_commits, result.commits)
    lines = sum(c["lines"] for c in commits)
    result.line_share = _share(sum(c["lines"] for c in commits if (c["repo_id"], c["sha"]) in marked), lines)
    result.pr_share = _share(len(assisted_pulls), len(flow.rows))
    result.comparison = _compare(db, cfg, since, until, repo_ids, commits, marked, assisted_pulls, plain_pulls)
    return result


def _commits(db: Reader, since: str | None, until: str, repo_ids: list[int] | None) -> list[dict[str, Any]]:
    from teamops.store.filters import Where

    where = Where("c.is_merge = 0").add("c.authored_at >= ?", since, when=since).add("c.authored_at < ?", until)
    if repo_ids is not None:
        where.within("c.repo_id", repo_ids)
    rows = db.execute(
        "SELECT c.repo_id, r.name, c.sha, c.authored_at, COALESCE(c.additions, 0) + COALESCE(c.deletions, 0), "
        "p.handle, p.team, c.author_name, c.author_email, c.files IS NOT NULL FROM commits c "
        "JOIN repos r ON r.id = c.repo_id "
        f"LEFT JOIN people p ON p.id = c.person_id WHERE {where.sql} ORDER BY c.authored_at, c.id",
        where.params,
    )
    keys = ("repo_id", "repo", "sha", "at", "lines", "person", "team", "name", "email", "files")
    return [dict(zip(keys, r, strict=True)) for r in rows]


def _group(c: dict[str, Any], by: str) -> str:
    if by == "week":
        return iso_week_of(c["at"])
    if by == "person":
        return str(c["person"] or f"{c['name']} <{c['email']}>")
    if by == "team":
        return str(c["team"] or "(no team)")
    return str(c["repo"])


def _pull_group(row: Any, by: str, team: str | None) -> str:
    """A merged pull request's group, as `_group` is a commit's (its team: its author's)."""
    if by == "week":
        return iso_week_of(row.merged_at)
    if by == "person":
        return str(row.author)
    if by == "team":
        return team or "(no team)"
    return str(row.repo)


def _pull_teams(db: Reader, since: str | None, until: str) -> dict[tuple[int, int], str | None]:
    """Each pull request merged in the window with its author's team (a person's, else none)."""
    rows = db.execute(
        "SELECT p.repo_id, p.number, pe.team FROM pull_requests p LEFT JOIN people pe ON pe.id = p.person_id "
        "WHERE p.merged_at >= COALESCE(?, '') AND p.merged_at < ?",
        [since, until],
    )
    return {(int(r), int(n)): team for r, n, team in rows}


# -- the comparison --------------------------------------------------------------------------------------


def _compare(
    db: Reader,
    cfg: Config,
    since: str | None,
    until: str,
    repo_ids: list[int] | None,
    commits: list[dict[str, Any]],
    marked: dict[tuple[int, str], list[str]],
    assisted_pulls: list[Any],
    plain_pulls: list[Any],
) -> list[CompareRow]:
    """Assisted against not, measure by measure, each with both samples."""
    least = cfg.ai_assist.min_sample
    rows: list[CompareRow] = []

    def add(measure: str, a: float | None, b: float | None, na: int, nb: int) -> None:
        note = "too few to compare" if na < least or nb < least else ""
        rows.append(CompareRow(measure, None if note else a, None if note else b, na, nb, note))

    def share(measure: str, a: list[Any], b: list[Any], hit: Callable[[Any], bool]) -> None:
        """The share of each side that `hit` holds for."""
        add(measure, _share(sum(map(hit, a)), len(a)), _share(sum(map(hit, b)), len(b)), len(a), len(b))

    for label, attr in (("coding time", "coding_h"), ("pickup time", "pickup_h"), ("review time", "review_h")):
        a = [float(getattr(r, attr)) for r in assisted_pulls if getattr(r, attr) is not None]
        b = [float(getattr(r, attr)) for r in plain_pulls if getattr(r, attr) is not None]
        add(f"{label}, median (h)", rounded(median(a)), rounded(median(b)), len(a), len(b))
        add(f"{label}, p85 (h)", rounded(percentile(a, 85)), rounded(percentile(b, 85)), len(a), len(b))
    a_lines = [float(r.lines) for r in assisted_pulls if r.lines is not None]
    b_lines = [float(r.lines) for r in plain_pulls if r.lines is not None]
    add("size, median (lines)", median(a_lines), median(b_lines), len(a_lines), len(b_lines))
    rounds = _review_rounds(db)
    a_rounds = [float(rounds.get((r.repo, r.number), 0)) for r in assisted_pulls]
    b_rounds = [float(rounds.get((r.repo, r.number), 0)) for r in plain_pulls]
    add("reviews per pull request, mean", _mean(a_rounds), _mean(b_rounds), len(a_rounds), len(b_rounds))
    share("merged without review (share)", assisted_pulls, plain_pulls, lambda r: not r.reviewed)
    reverted = _reverted(db, since, until, repo_ids)
    reworked = _reworked(db, since, until, repo_ids, commits)
    a_c = [c for c in commits if (c["repo_id"], c["sha"]) in marked]
    b_c = [c for c in commits if (c["repo_id"], c["sha"]) not in marked]
    share(
        f"reverted within {REVERTED_DAYS} days (share of commits)",
        a_c,
        b_c,
        lambda c: (c["repo_id"], c["sha"]) in reverted,
    )
    share(
        f"reworked within {REWORK_DAYS} days (share of commits)",
        [c for c in a_c if c["files"]],
        [c for c in b_c if c["files"]],
        lambda c: (c["repo_id"], c["sha"]) in reworked,
    )
    a_dep, b_dep = _deployments(db, cfg, since, until, repo_ids)
    share("change fail rate of deployments", a_dep, b_dep, bool)
    return rows


def _mean(values: list[float]) -> float | None:
    return rounded(sum(values) / len(values)) if values else None


def _review_rounds(db: Reader) -> dict[tuple[str, int], int]:
    """(repository name, number) → reviews submitted (comments, approvals, change requests)."""
    rows = db.execute(
        "SELECT r.name, v.number, COUNT(*) FROM pr_reviews v JOIN repos r ON r.id = v.repo_id GROUP BY 1, 2"
    )
    return {(str(name), int(number)): int(n) for name, number, n in rows}


def _later(until: str, days: int) -> str:
    return to_iso(parse_iso(until) + timedelta(days=days))


def _reverted(db: Reader, since: str | None, until: str, repo_ids: list[int] | None) -> set[tuple[int, str]]:
    """The commits of the window a `git revert` took back within REVERTED_DAYS (`This reverts commit <sha>`)."""
    rows = db.execute(
        "SELECT r.repo_id, r.authored_at, r.message, o.authored_at FROM commits r JOIN commits o "
        "ON o.repo_id = r.repo_id AND o.sha = substr(r.message, instr(r.message, 'This reverts commit ') + 20, 40) "
        "WHERE r.message LIKE '%This reverts commit %' AND r.authored_at >= COALESCE(?, '') AND r.authored_at < ?",
        [since, _later(until, REVERTED_DAYS)],
    )
    found: set[tuple[int, str]] = set()
    for repo_id, at, message, original_at in rows:
        if repo_ids is not None and repo_id not in repo_ids:
            continue
        match = REVERT.search(message or "")
        if match and parse_iso(at) - parse_iso(original_at) <= timedelta(days=REVERTED_DAYS):
            found.add((int(repo_id), match.group(1)))
    return found


def _reworked(
    db: Reader, since: str | None, until: str, repo_ids: list[int] | None, commits: list[dict[str, Any]]
) -> set[tuple[int, str]]:
    """The commits of the window whose files another commit changed again within REWORK_DAYS: overlap of the
    files each changed (numstat, `commits.files`), not of lines."""
    later = db.execute(
        "SELECT repo_id, sha, authored_at, files FROM commits WHERE is_merge = 0 AND files IS NOT NULL "
        "AND authored_at >= COALESCE(?, '') AND authored_at < ?",
        [since, _later(until, REWORK_DAYS)],
    ).fetchall()
    changes: dict[tuple[int, str], list[tuple[str, str]]] = defaultdict(list)
    paths_of: dict[tuple[int, str], list[str]] = {}
    for repo_id, sha, at, files in later:
        paths_of[(int(repo_id), str(sha))] = paths = _paths(files)
        for path in paths:
            changes[(int(repo_id), path)].append((at, sha))
    for times in changes.values():
        times.sort()
    found: set[tuple[int, str]] = set()
    for c in commits:
        if not c["files"]:
            continue
        limit = to_iso(parse_iso(c["at"]) + timedelta(days=REWORK_DAYS))
        for path in paths_of.get((c["repo_id"], c["sha"]), []):
            times = changes.get((c["repo_id"], path), [])
            k = bisect_right(times, (c["at"], "\uffff"))
            if k < len(times) and times[k][0] <= limit and times[k][1] != c["sha"]:
                found.add((c["repo_id"], c["sha"]))
                break
    return found


def _paths(files: str | None) -> list[str]:
    try:
        return [str(f[0]) for f in json.loads(files or "[]") if isinstance(f, list) and f]
    except ValueError:
        return []


def _deployments(
    db: Reader,
    cfg: Config,
    since: str | None,
    until: str,
    repo_ids: list[int] | None,
) -> tuple[list[int], list[int]]:
    """Failed (1) or not (0) for each deployment of the window that shipped assisted work (written whenever: a
    deployment ships older commits too), and each that did not."""
    from teamops.kpi.dora import dora
    from teamops.store.deployments import any_deployment, deployments

    if not any_deployment(db):
        return [], []
    data = dora(db, cfg, since, until, repo_ids)
    marked = commit_assistants(db, None, until)
    deps = deployments(db, cfg.dora.environment, since, until, repo_ids)  # dora's rows, in its order
    failed = {(r.repo_id, r.deployment): r.failed for r in data.rows}
    shipped = defaultdict(set)
    ids = [d.id for d in deps]
    if ids:
        rows = db.execute(
            "SELECT deployment_id, repo_id, sha FROM deployment_commits WHERE deployment_id IN "
            "(SELECT value FROM json_each(?))",
            [json.dumps(ids)],
        )
        for dep_id, repo_id, sha in rows:
            shipped[int(dep_id)].add((int(repo_id), str(sha)))
    a: list[int] = []
    b: list[int] = []
    for d in deps:
        bad = int(bool(failed.get((d.repo_id, d.name))))
        (a if any(key in marked for key in shipped[d.id]) else b).append(bad)
    return a, b


def assisted_share(
    db: Reader, since: str | None, until: str | None, repo_ids: list[int] | None
) -> dict[str, Any] | None:
    """The summary's line: non-merge commits of the window, how many an assistant co-wrote, by assistant (None
    when no assisted work is known at all)."""
    from teamops.store.assists import any_assist, window_counts

    if not any_assist(db):
        return None
    total, assisted, by = window_counts(db, since, until, repo_ids)
    return {"commits": total, "assisted_commits": assisted, "share": _share(assisted, total), "assistants": by}
