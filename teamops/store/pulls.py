"""The pull_requests, pr_reviews, pr_review_requests, pr_commits and review_nudges tables, written only here.

Any source (GitHub's GraphQL, a webhook payload, a clone's merge commits) saves PullRecords; the
first review, first approval, first request and the author's person are then derived here from the
child tables, one way for all of them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from teamops.clock import now_iso
from teamops.records import PullRecord
from teamops.store.database import transaction
from teamops.store.filters import Where
from teamops.store.sync_state import SyncState, save_state

if TYPE_CHECKING:
    from sqlite_utils import Database

    from teamops.store.reader import Reader

PULL_COLUMNS = (
    "title, author, author_kind, state, draft, base_branch, head_branch, head_repo, created_at, updated_at, "
    "ready_at, first_commit_at, merged_at, closed_at, additions, deletions, changed_files, commits, "
    "merge_commit_sha, labels, source, inferred, body_marks"
)
_NAMES = [c.strip() for c in PULL_COLUMNS.split(",")]
# Within the same second, a later state wins: open < closed < merged (a reopen comes with a newer time).
_RANK = "(CASE {0}.state WHEN 'merged' THEN 2 WHEN 'closed' THEN 1 ELSE 0 END)"
# A newer answer replaces what is stored; what it does not know (None) keeps the stored value. An
# inferred row never replaces one GitHub gave, and an older payload never replaces a newer answer.
UPSERT_PULL = f"""
INSERT INTO pull_requests (repo_id, number, {PULL_COLUMNS})
VALUES (?, ?, {", ".join("?" * len(_NAMES))})
ON CONFLICT (repo_id, number) DO UPDATE SET
    {", ".join(f"{c} = COALESCE(excluded.{c}, pull_requests.{c})" for c in _NAMES if c not in ("inferred",))},
    inferred = excluded.inferred
WHERE excluded.inferred = 0
    AND (pull_requests.inferred = 1
        OR COALESCE(excluded.updated_at, '') > COALESCE(pull_requests.updated_at, '')
        OR (COALESCE(excluded.updated_at, '') = COALESCE(pull_requests.updated_at, '')
            AND {_RANK.format("excluded")} >= {_RANK.format("pull_requests")}))
"""
INSERT_INFERRED = f"""
INSERT INTO pull_requests (repo_id, number, {PULL_COLUMNS})
VALUES (?, ?, {", ".join("?" * len(_NAMES))})
ON CONFLICT (repo_id, number) DO NOTHING
"""
# A pull request's author as a person: the account of the repository's kind; for one inferred from a clone (it
# names no account), the author of its earliest commit: a squash commit keeps its pull request's author, and a
# merge's branch begins with the commit of whoever opened it. CROSS JOIN: from the pull request's few commits
# (left to itself, SQLite walks every commit in time order to skip the sort).
PERSON = """COALESCE(
    (SELECT i.person_id FROM identities i WHERE i.kind = (SELECT r.kind FROM repos r WHERE r.id = {p}.repo_id)
        AND i.value = lower({p}.author)),
    CASE WHEN {p}.inferred = 1 THEN (SELECT c.person_id FROM pr_commits pc CROSS JOIN commits c
        ON c.repo_id = pc.repo_id AND c.sha = pc.sha WHERE pc.repo_id = {p}.repo_id AND pc.number = {p}.number
        ORDER BY c.authored_at, c.id LIMIT 1) END)"""
NOT_BY_AUTHOR = "(r.reviewer IS NULL OR p.author IS NULL OR lower(r.reviewer) != lower(p.author))"
DERIVE = f"""
UPDATE pull_requests AS p SET
    first_review_at = (SELECT MIN(r.submitted_at) FROM pr_reviews r WHERE r.repo_id = p.repo_id
        AND r.number = p.number AND r.state != 'PENDING' AND {NOT_BY_AUTHOR}),
    approved_at = (SELECT MIN(r.submitted_at) FROM pr_reviews r WHERE r.repo_id = p.repo_id
        AND r.number = p.number AND r.state = 'APPROVED' AND {NOT_BY_AUTHOR}),
    first_review_requested_at = (SELECT MIN(q.requested_at) FROM pr_review_requests q
        WHERE q.repo_id = p.repo_id AND q.number = p.number),
    first_commit_at = COALESCE((SELECT MIN(c.authored_at) FROM pr_commits pc CROSS JOIN commits c
        ON c.repo_id = pc.repo_id AND c.sha = pc.sha WHERE pc.repo_id = p.repo_id AND pc.number = p.number),
        p.first_commit_at),
    person_id = {PERSON.format(p="p")},
    additions = COALESCE(p.additions, CASE WHEN p.inferred = 1 THEN (SELECT SUM(c.additions) FROM pr_commits pc
        JOIN commits c ON c.repo_id = pc.repo_id AND c.sha = pc.sha WHERE pc.repo_id = p.repo_id
        AND pc.number = p.number) END),
    deletions = COALESCE(p.deletions, CASE WHEN p.inferred = 1 THEN (SELECT SUM(c.deletions) FROM pr_commits pc
        JOIN commits c ON c.repo_id = pc.repo_id AND c.sha = pc.sha WHERE pc.repo_id = p.repo_id
        AND pc.number = p.number) END)
WHERE p.repo_id = ? AND p.number IN (SELECT value FROM json_each(?))
"""


def _row(repo_id: int, p: PullRecord) -> list[Any]:
    labels = json.dumps(p.labels) if p.labels is not None else None
    values = {
        "title": p.title,
        "author": p.author,
        "author_kind": p.author_kind,
        "state": p.state,
        "draft": int(p.draft),
        "base_branch": p.base_branch,
        "head_branch": p.head_branch,
        "head_repo": p.head_repo,
        "created_at": p.created_at,
        "updated_at": p.updated_at,
        "ready_at": p.ready_at,
        "first_commit_at": p.first_commit_at,
        "merged_at": p.merged_at,
        "closed_at": p.closed_at,
        "additions": p.additions,
        "deletions": p.deletions,
        "changed_files": p.changed_files,
        "commits": p.commit_count,
        "merge_commit_sha": p.merge_commit_sha,
        "labels": labels,
        "source": p.source or None,
        "inferred": int(p.inferred),
        "body_marks": json.dumps(p.body_marks) if p.body_marks is not None else None,
    }
    return [repo_id, p.number, *(values[c] for c in _NAMES)]


def save_pulls(db: Database, repo_id: int, pulls: list[PullRecord], state: SyncState | None = None) -> None:
    """One transaction: the pull requests with what each record lists of reviews, requests and commits,
    the derived times, and the cursor after them."""
    with transaction(db):
        save_pulls_in(db, repo_id, pulls)
        if state is not None:
            save_state(db, state)


def save_pulls_in(db: Database, repo_id: int, pulls: list[PullRecord]) -> None:
    """The writes of save_pulls, inside the caller's transaction."""
    ex = db.conn.execute
    db.conn.executemany(UPSERT_PULL, [_row(repo_id, p) for p in pulls if not p.inferred])
    db.conn.executemany(INSERT_INFERRED, [_row(repo_id, p) for p in pulls if p.inferred])
    commit_rows: list[tuple[int, int, str]] = []
    for p in pulls:
        if p.reviews is not None:
            db.conn.executemany(
                "INSERT INTO pr_reviews (repo_id, number, review_id, reviewer, reviewer_kind, state, submitted_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (repo_id, number, review_id) DO UPDATE SET "
                "state = excluded.state, submitted_at = COALESCE(excluded.submitted_at, pr_reviews.submitted_at), "
                "reviewer = COALESCE(excluded.reviewer, pr_reviews.reviewer) "
                # a dismissed review stays dismissed, whatever an older payload says
                "WHERE pr_reviews.state != 'DISMISSED' OR excluded.state = 'DISMISSED'",
                [
                    (repo_id, p.number, r.review_id, r.reviewer, r.reviewer_kind, r.state, r.submitted_at)
                    for r in p.reviews
                ],
            )
            # a reviewer who has reviewed is no longer waited for (GitHub drops the request)
            db.conn.executemany(
                "UPDATE pr_review_requests SET pending = 0 WHERE repo_id = ? AND number = ? "
                "AND lower(reviewer) = lower(?) AND (requested_at IS NULL OR requested_at <= ?)",
                [(repo_id, p.number, r.reviewer, r.submitted_at) for r in p.reviews if r.reviewer and r.submitted_at],
            )
        if p.requests is not None:
            if p.reviews is not None and p.commits is not None:
                # a whole snapshot (GraphQL: every current request): those not in it wait no longer
                ex("UPDATE pr_review_requests SET pending = 0 WHERE repo_id = ? AND number = ?", [repo_id, p.number])
            db.conn.executemany(
                "INSERT INTO pr_review_requests (repo_id, number, reviewer, requested_at, pending) "
                "VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (repo_id, number, reviewer) DO UPDATE SET pending = excluded.pending, "
                "requested_at = COALESCE(excluded.requested_at, pr_review_requests.requested_at)",
                [(repo_id, p.number, q.reviewer, q.requested_at, int(q.pending)) for q in p.requests],
            )
        if p.commits is not None:
            if not p.inferred:  # the head's commits now: a force-push replaces them
                ex("DELETE FROM pr_commits WHERE repo_id = ? AND number = ?", [repo_id, p.number])
            commit_rows += [(repo_id, p.number, sha) for sha in p.commits]
    # one statement for every pull request's commits (each one's old rows are gone by now)
    db.conn.executemany("INSERT OR IGNORE INTO pr_commits (repo_id, number, sha) VALUES (?, ?, ?)", commit_rows)
    ex(DERIVE, [repo_id, json.dumps([p.number for p in pulls])])


def known_numbers(db: Reader, repo_id: int) -> set[int]:
    return {int(r[0]) for r in db.execute("SELECT number FROM pull_requests WHERE repo_id = ?", [repo_id])}


def any_pull(db: Reader) -> bool:
    return db.execute("SELECT 1 FROM pull_requests LIMIT 1").fetchone() is not None


@dataclass(slots=True)
class PullFlow:
    """A merged pull request's way to production, its stages in hours (None: an end is unknown)."""

    repo: str
    number: int
    title: str
    author: str | None
    person: str | None
    inferred: bool
    merged_at: str
    week: str
    coding_h: float | None
    pickup_h: float | None
    review_h: float | None
    deploy_h: float | None
    size: int | None
    reviewed: bool


def _hours(start: str, end: str) -> str:
    """SQL: hours from one time to another, 0 when it ran backwards, NULL when either is unknown."""
    return f"ROUND(MAX(0, (julianday({end}) - julianday({start})) * 24), 1)"


READY = "COALESCE(p.ready_at, CASE WHEN p.inferred = 0 THEN p.created_at END)"


def merged_pulls(
    db: Reader,
    since: str | None,
    until: str | None,
    repo_ids: list[int] | None,
    person_ids: Iterable[int] | None,
    environment: str,
) -> list[PullFlow]:
    """Pull requests merged in [since, until) with their stages; deploy ends at the first successful
    deployment of the environment that shipped the merge commit. Time arithmetic runs in SQLite."""
    from teamops.store.views import iso_week

    where = Where("p.merged_at IS NOT NULL").add("p.merged_at >= ?", since, when=since)
    where.add("p.merged_at < ?", until, when=until)
    if repo_ids is not None:
        where.within("p.repo_id", repo_ids)
    if person_ids is not None:
        where.within("p.person_id", list(person_ids))
    deployed = (
        "(SELECT MIN(d.deployed_at) FROM deployment_commits dc JOIN deployments d ON d.id = dc.deployment_id "
        "WHERE dc.repo_id = p.repo_id AND dc.sha = p.merge_commit_sha AND d.environment = ? AND d.status = 'success')"
    )
    rows = db.execute(
        f"""
        SELECT r.name, p.number, p.title, p.author, pe.handle, p.inferred, p.merged_at, {iso_week("p.merged_at")},
               {_hours("p.first_commit_at", READY)}, {_hours(READY, "p.first_review_at")},
               {_hours("p.first_review_at", "p.merged_at")}, {_hours("p.merged_at", deployed)},
               p.additions + p.deletions, p.first_review_at IS NOT NULL
        FROM pull_requests p JOIN repos r ON r.id = p.repo_id LEFT JOIN people pe ON pe.id = p.person_id
        WHERE {where.sql} ORDER BY p.merged_at
        """,
        [environment, *where.params],
    ).fetchall()
    return [
        PullFlow(r[0], r[1], r[2], r[3], r[4], bool(r[5]), r[6], r[7], r[8], r[9], r[10], r[11], r[12], bool(r[13]))
        for r in rows
    ]


@dataclass
class ReviewGiven:
    """One review of someone else's pull request, with when the reviewer was asked (if they were)."""

    reviewer: str
    reviewer_person: str | None
    author: str | None
    author_person: str | None
    repo: str
    number: int
    state: str
    submitted_at: str
    requested_at: str | None
    ready_at: str | None


def reviews_given(
    db: Reader, since: str | None, until: str | None, repo_ids: list[int] | None, people_only: bool = False
) -> list[ReviewGiven]:
    """Reviews submitted in [since, until) on pull requests of others (the author's own are left out); with
    `people_only`, none by an account its service marks as a bot."""
    where = Where("rv.state != 'PENDING'", "rv.reviewer IS NOT NULL", "rv.submitted_at IS NOT NULL")
    where.add("rv.reviewer_kind != 'bot'", when=people_only)
    where.add("rv.submitted_at >= ?", since, when=since).add("rv.submitted_at < ?", until, when=until)
    where.add("(p.author IS NULL OR lower(rv.reviewer) != lower(p.author))")
    if repo_ids is not None:
        where.within("rv.repo_id", repo_ids)
    rows = db.execute(
        f"""
        SELECT rv.reviewer, rp.handle, p.author, ap.handle, r.name, p.number, rv.state, rv.submitted_at,
               q.requested_at, COALESCE(p.ready_at, p.created_at)
        FROM pr_reviews rv
        JOIN pull_requests p ON p.repo_id = rv.repo_id AND p.number = rv.number
        JOIN repos r ON r.id = rv.repo_id
        LEFT JOIN identities ri ON ri.kind = r.kind AND ri.value = lower(rv.reviewer)
        LEFT JOIN people rp ON rp.id = ri.person_id
        LEFT JOIN people ap ON ap.id = p.person_id
        LEFT JOIN pr_review_requests q ON q.repo_id = rv.repo_id AND q.number = rv.number
            AND lower(q.reviewer) = lower(rv.reviewer)
        WHERE {where.sql} ORDER BY rv.submitted_at
        """,
        where.params,
    ).fetchall()
    return [ReviewGiven(*r) for r in rows]


def authored_counts(
    db: Reader, since: str | None, until: str | None, repo_ids: list[int] | None, people_only: bool = False
) -> dict[str, int]:
    """Pull requests opened in [since, until) per author (person handle, else login); with `people_only`,
    none by an account its service marks as a bot."""
    where = Where("p.inferred = 0").add("p.created_at >= ?", since, when=since)
    where.add("p.author_kind != 'bot'", when=people_only)
    where.add("p.created_at < ?", until, when=until)
    if repo_ids is not None:
        where.within("p.repo_id", repo_ids)
    rows = db.execute(
        f"SELECT COALESCE(pe.handle, p.author, '(ghost)'), COUNT(*) FROM pull_requests p "
        f"LEFT JOIN people pe ON pe.id = p.person_id WHERE {where.sql} GROUP BY 1",
        where.params,
    )
    return {str(k): int(n) for k, n in rows}


@dataclass
class Waiting:
    """A review request still open on an open, ready pull request."""

    repo_id: int
    repo: str
    number: int
    title: str
    author: str | None
    reviewer: str
    requested_at: str
    handle: str | None = None  # the person whose account (of the repository's kind) the reviewer is


def save_author_people(db: Database) -> int:
    """Recompute each pull request's author as a person after identities change (inside the caller's
    transaction): an account of the repository's kind, or an inferred one's first commit; how many moved."""
    cur = db.execute(
        f"""
        UPDATE pull_requests AS p SET person_id = m.pid
        FROM (
            SELECT q.repo_id, q.number, {PERSON.format(p="q")} AS pid
            FROM pull_requests q WHERE q.author IS NOT NULL OR q.inferred = 1
        ) AS m
        WHERE m.repo_id = p.repo_id AND m.number = p.number AND p.person_id IS NOT m.pid
        """
    )
    return int(cur.rowcount)


def stored_updates(db: Reader, repo_id: int, numbers: list[int]) -> dict[int, str | None]:
    """When each of these pull requests was last updated, as stored (a listing skips the unchanged)."""
    rows = db.execute(
        "SELECT number, updated_at FROM pull_requests WHERE repo_id = ? AND number IN (SELECT value FROM json_each(?))",
        [repo_id, json.dumps(numbers)],
    )
    return {int(n): u for n, u in rows}


def waiting_reviews(db: Reader) -> list[Waiting]:
    """Every pending request for a person's review on an open pull request that is not a draft."""
    rows = db.execute(
        """
        SELECT p.repo_id, r.name, p.number, p.title, p.author, q.reviewer,
               COALESCE(q.requested_at, p.ready_at, p.created_at), pe.handle
        FROM pr_review_requests q
        JOIN pull_requests p ON p.repo_id = q.repo_id AND p.number = q.number
        JOIN repos r ON r.id = p.repo_id
        LEFT JOIN identities i ON i.kind = r.kind AND i.value = lower(q.reviewer)
        LEFT JOIN people pe ON pe.id = i.person_id
        WHERE q.pending = 1 AND p.state = 'open' AND p.draft = 0 AND q.reviewer NOT LIKE 'team:%'
        ORDER BY q.reviewer, 7
        """
    ).fetchall()
    return [Waiting(*r) for r in rows if r[6]]


def nudged(db: Reader, day: str, reviewer: str) -> set[tuple[int, int]]:
    """(repo id, number) of the pull requests a reviewer was already nudged about on their local day."""
    rows = db.execute("SELECT repo_id, number FROM review_nudges WHERE day = ? AND reviewer = ?", [day, reviewer])
    return {(int(a), int(b)) for a, b in rows}


def save_nudges(db: Database, day: str, reviewer: str, pulls: list[tuple[int, int]]) -> int:
    """Record nudges inside the caller's transaction; how many were new."""
    cur = db.conn.executemany(
        "INSERT OR IGNORE INTO review_nudges (repo_id, number, reviewer, day, created_at) VALUES (?, ?, ?, ?, ?)",
        [(repo_id, number, reviewer, day, now_iso()) for repo_id, number in pulls],
    )
    return int(cur.rowcount)


def latest_merge_before(db: Reader, moment: str) -> str | None:
    """The newest merge time before a moment: where a default window ends when nothing merged since."""
    row = db.execute(
        "SELECT merged_at FROM pull_requests INDEXED BY pull_requests_by_merge WHERE merged_at < ? "
        "ORDER BY merged_at DESC LIMIT 1",
        [moment],
    ).fetchone()
    return row[0] if row else None
