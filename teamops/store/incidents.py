"""The incidents table, written only here: opened, resolved, and what caused each as far as it says."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from teamops.clock import now_iso
from teamops.store.database import transaction
from teamops.store.filters import Where

if TYPE_CHECKING:
    from sqlite_utils import Database

    from teamops.store.reader import Reader


@dataclass
class Incident:
    """One incident as stored."""

    id: int
    title: str
    repo_id: int | None
    repo: str | None
    severity: str | None
    opened_at: str
    resolved_at: str | None
    cause: str | None  # a commit sha, or "#N" for a pull request
    source: str


COLUMNS = "i.id, i.title, i.repo_id, r.name, i.severity, i.opened_at, i.resolved_at, i.cause, i.source"


def save_incident(
    db: Database, title: str, opened_at: str, repo_id: int | None, cause: str | None, severity: str | None
) -> int:
    """A new incident opened by hand; its id."""
    with transaction(db):
        cur = db.execute(
            "INSERT INTO incidents (repo_id, title, severity, opened_at, cause, source, created_at) "
            "VALUES (?, ?, ?, ?, ?, 'cli', ?)",
            [repo_id, title, severity, opened_at, cause, now_iso()],
        )
    return int(cur.lastrowid or 0)


def save_synced_incident(
    db: Database,
    source: str,
    external_id: str,
    repo_id: int | None,
    fields: tuple[str, str | None, str, str | None, str | None],
) -> str:
    """A tracker's incident (title, severity, opened, resolved, cause), created or kept current: 'added',
    'changed' or 'same'."""
    title, severity, opened, resolved, cause = fields
    row = db.execute(
        "SELECT title, severity, opened_at, resolved_at, cause FROM incidents WHERE source = ? AND external_id = ?",
        [source, external_id],
    ).fetchone()
    if row is not None and tuple(row) == fields:
        return "same"
    db.execute(
        "INSERT INTO incidents (repo_id, title, severity, opened_at, resolved_at, cause, source, external_id, "
        "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (source, external_id) DO UPDATE SET "
        "title = excluded.title, severity = excluded.severity, opened_at = excluded.opened_at, "
        "resolved_at = excluded.resolved_at, cause = excluded.cause",
        [repo_id, title, severity, opened, resolved, cause, source, external_id, now_iso()],
    )
    return "changed" if row is not None else "added"


def remove_synced_incident(db: Database, source: str, external_id: str) -> int:
    """A tracker's issue that is no incident after all (closed as not planned, a duplicate, unlabelled)."""
    return int(db.execute("DELETE FROM incidents WHERE source = ? AND external_id = ?", [source, external_id]).rowcount)


def save_resolved(db: Database, incident_id: int, at: str) -> bool:
    """Mark an incident resolved at `at` (its final close: resolving again moves it); whether it exists."""
    with transaction(db):
        cur = db.execute("UPDATE incidents SET resolved_at = ? WHERE id = ?", [at, incident_id])
    return bool(cur.rowcount)


def incident(db: Reader, incident_id: int) -> Incident | None:
    row = db.execute(
        f"SELECT {COLUMNS} FROM incidents i LEFT JOIN repos r ON r.id = i.repo_id WHERE i.id = ?", [incident_id]
    ).fetchone()
    return Incident(*row) if row else None


def incidents(
    db: Reader, since: str | None = None, until: str | None = None, open_only: bool = False
) -> list[Incident]:
    """Incidents opened in [since, until) (every one without bounds), oldest first."""
    where = Where().add("i.opened_at >= ?", since, when=since).add("i.opened_at < ?", until, when=until)
    where.add("i.resolved_at IS NULL", when=open_only)
    rows = db.execute(
        f"SELECT {COLUMNS} FROM incidents i LEFT JOIN repos r ON r.id = i.repo_id "
        f"WHERE {where.sql} ORDER BY i.opened_at, i.id",
        where.params,
    )
    return [Incident(*r) for r in rows]


def shipping_deployment(db: Reader, repo_id: int | None, cause: str) -> int | None:
    """The deployment that first shipped a cause: a commit (a full sha or a prefix of 7 or more), or a pull
    request (`#N`: its merge commit, else its commits)."""
    if cause.startswith("#"):
        number = int(cause[1:])
        rows = db.execute(
            "SELECT dc.deployment_id, d.deployed_at FROM pull_requests p JOIN deployment_commits dc "
            "ON dc.repo_id = p.repo_id AND dc.sha = p.merge_commit_sha JOIN deployments d ON d.id = dc.deployment_id "
            "WHERE p.number = ? AND (? IS NULL OR p.repo_id = ?) "
            "UNION ALL SELECT dc.deployment_id, d.deployed_at FROM pr_commits pc JOIN deployment_commits dc "
            "ON dc.repo_id = pc.repo_id AND dc.sha = pc.sha JOIN deployments d ON d.id = dc.deployment_id "
            "WHERE pc.number = ? AND (? IS NULL OR pc.repo_id = ?) ORDER BY 2 LIMIT 1",
            [number, repo_id, repo_id, number, repo_id, repo_id],
        ).fetchone()
        return int(rows[0]) if rows else None
    row = db.execute(
        "SELECT dc.deployment_id FROM deployment_commits dc JOIN deployments d ON d.id = dc.deployment_id "
        "WHERE dc.sha >= ? AND dc.sha < ? || 'g' AND (? IS NULL OR dc.repo_id = ?) ORDER BY d.deployed_at LIMIT 1",
        [cause.lower(), cause.lower(), repo_id, repo_id],
    ).fetchone()
    return int(row[0]) if row else None


def any_incident(db: Reader) -> bool:
    return db.execute("SELECT 1 FROM incidents LIMIT 1").fetchone() is not None


def latest_incident_before(db: Reader, moment: str) -> str | None:
    """When the latest incident opened before `moment` (a window then ends there)."""
    row = db.execute("SELECT MAX(opened_at) FROM incidents WHERE opened_at < ?", [moment]).fetchone()
    return str(row[0]) if row and row[0] else None
