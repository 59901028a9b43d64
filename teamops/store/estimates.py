"""The estimates table, written only here, with each commit's counting estimate kept beside it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

from teamops.store.commits import save_counting_estimates
from teamops.store.database import transaction
from teamops.store.filters import Where

if TYPE_CHECKING:
    from sqlite_utils import Database

    from teamops.store.reader import Reader


class EstimateRow(NamedTuple):
    """One estimate as stored: an answer (ok) or the reason there is none (failed).

    A named tuple, in the columns' order, so a batch of 5,000 goes to executemany as it is.
    """

    commit_id: int
    repo_id: int
    sha: str
    model: str
    prompt_version: str
    status: str
    points: int | None
    hours: float | None
    confidence: float | None
    rationale: str | None
    error: str | None
    tokens_in: int
    tokens_out: int
    cost_usd: float
    created_at: str


@dataclass
class CommitToEstimate:
    """A stored commit that has no estimate for this model and prompt version yet."""

    commit_id: int
    repo_id: int
    repo: str
    sha: str
    message: str
    is_merge: int
    additions: int | None
    deletions: int | None
    files_changed: int | None
    files: str | None


INSERT_ESTIMATE = """
INSERT INTO estimates (commit_id, repo_id, sha, model, prompt_version, status, points, hours, confidence,
                       rationale, error, tokens_in, tokens_out, cost_usd, created_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (repo_id, sha, model, prompt_version) DO UPDATE SET
    status = excluded.status, points = excluded.points, hours = excluded.hours,
    confidence = excluded.confidence, rationale = excluded.rationale, error = excluded.error,
    tokens_in = excluded.tokens_in, tokens_out = excluded.tokens_out, cost_usd = excluded.cost_usd,
    created_at = excluded.created_at
"""


def save_estimates(db: Database, rows: list[EstimateRow]) -> None:
    """Store estimates and keep each commit's counting estimate (a model's over the heuristic's) beside it."""
    with transaction(db):
        db.conn.executemany(INSERT_ESTIMATE, rows)
        save_counting_estimates(db, [r.commit_id for r in rows])


def candidates(
    db: Reader,
    model: str,
    version: str,
    *,
    since: str | None,
    until: str | None,
    repo_ids: list[int] | None,
    cached_when: str,
) -> tuple[list[CommitToEstimate], int]:
    """Commits in range, newest first, and how many already have an estimate (`cached_when` is SQL over `e`)."""
    where = Where().add("c.authored_at >= ?", since, when=since).add("c.authored_at < ?", until, when=until)
    if repo_ids is not None:
        where.within("c.repo_id", repo_ids)
    sql = f"""
        SELECT c.id, c.repo_id, r.name, c.sha, c.message, c.is_merge, c.additions, c.deletions,
               c.files_changed, c.files, {cached_when} AS cached
        FROM commits c
        JOIN repos r ON r.id = c.repo_id
        LEFT JOIN estimates e
            ON e.repo_id = c.repo_id AND e.sha = c.sha AND e.model = ? AND e.prompt_version = ?
        WHERE {where.sql}
        ORDER BY c.authored_at DESC, c.id DESC
    """
    todo: list[CommitToEstimate] = []
    cached = 0
    params: list[Any] = [model, version, *where.params]
    for row in db.execute(sql, params):
        if row[10]:
            cached += 1
            continue
        todo.append(CommitToEstimate(*row[:10]))
    return todo, cached
