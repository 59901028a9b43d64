"""The deployments and deployment_commits tables, written only here, and the reads the delivery metrics make."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from teamops.clock import now_iso
from teamops.store.commits import ancestors
from teamops.store.filters import Where

if TYPE_CHECKING:
    from sqlite_utils import Database

    from teamops.store.reader import Reader


@dataclass
class Deployment:
    """A deployment as stored; `linked` when the commits it shipped first are recorded."""

    id: int
    repo_id: int
    name: str
    sha: str
    environment: str
    deployed_at: str
    status: str
    source: str
    linked: bool
    workflow: str | None = None  # the file of the workflow that ran it (deploy-api.yml), for runs
    workflow_name: str | None = None  # and that workflow's name (Deploy api)


REVERT = re.compile(r"This reverts commit ([0-9a-f]{40})")
COLUMNS = "id, repo_id, name, sha, environment, deployed_at, status, source, linked_sha = sha, workflow, workflow_name"


def _deployment(row: tuple[object, ...]) -> Deployment:
    return Deployment(
        int(row[0]),  # type: ignore[call-overload]
        int(row[1]),  # type: ignore[call-overload]
        str(row[2]),
        str(row[3]),
        str(row[4]),
        str(row[5]),
        str(row[6]),
        str(row[7]),
        bool(row[8]),
        row[9] if isinstance(row[9], str) else None,
        row[10] if isinstance(row[10], str) else None,
    )


def save_deployment(
    db: Database,
    repo_id: int,
    name: str,
    sha: str,
    environment: str,
    deployed_at: str,
    status: str,
    source: str,
    workflow: tuple[str, str] | None = None,
) -> str:
    """Insert, or update a changed one ('added', 'changed' or 'same').

    A moved tag or a deployment dated before others already linked unlinks everything from its time
    on, so the commits each deployment shipped first stay right.
    """
    file, title = workflow or (None, None)
    row = db.execute(
        "SELECT id, sha, environment, deployed_at, status, workflow, workflow_name FROM deployments "
        "WHERE repo_id = ? AND source = ? AND name = ?",
        [repo_id, source, name],
    ).fetchone()
    if row and tuple(row[1:]) == (sha, environment, deployed_at, status, file, title):
        return "same"
    if row:
        db.execute(
            "UPDATE deployments SET sha = ?, environment = ?, deployed_at = ?, status = ?, workflow = ?, "
            "workflow_name = ? WHERE id = ?",
            [sha, environment, deployed_at, status, file, title, row[0]],
        )
        if tuple(row[1:5]) != (sha, environment, deployed_at, status):  # not its workflow's name alone
            _unlink_from(db, repo_id, min(row[3], deployed_at))
        return "changed"
    db.execute(
        "INSERT INTO deployments (repo_id, name, sha, environment, deployed_at, status, source, created_at, "
        "workflow, workflow_name) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [repo_id, name, sha, environment, deployed_at, status, source, now_iso(), file, title],
    )
    later = db.execute(
        "SELECT 1 FROM deployments WHERE repo_id = ? AND linked_sha IS NOT NULL AND deployed_at > ? LIMIT 1",
        [repo_id, deployed_at],
    ).fetchone()
    if later:
        _unlink_from(db, repo_id, deployed_at)
    return "added"


def remove_deployments(db: Database, repo_id: int, source: str, keep: set[str]) -> int:
    """Deployments of a source that are gone (a deleted tag); what came after them is linked again."""
    gone = [
        (int(r[0]), str(r[1]), str(r[2]))
        for r in db.execute(
            "SELECT id, name, deployed_at FROM deployments WHERE repo_id = ? AND source = ?", [repo_id, source]
        )
        if r[1] not in keep
    ]
    for dep_id, _, at in gone:
        _unlink_from(db, repo_id, at)
        db.execute("DELETE FROM deployments WHERE id = ?", [dep_id])
    return len(gone)


def remove_deployment(db: Database, repo_id: int, source: str, name: str) -> int:
    """One deployment that is none after all (a run re-run that did not ship); what came after is linked again."""
    row = db.execute(
        "SELECT id, deployed_at FROM deployments WHERE repo_id = ? AND source = ? AND name = ?", [repo_id, source, name]
    ).fetchone()
    if row is None:
        return 0
    _unlink_from(db, repo_id, str(row[1]))
    db.execute("DELETE FROM deployments WHERE id = ?", [row[0]])
    return 1


TWIN_SECONDS = 3600  # a workflow run and the GitHub Deployment its job made, of the same commit, this close


def without_twins(db: Database, repo_id: int, source: str) -> int:
    """Drop a source's deployments that another source recorded too (the same commit within the hour: a
    workflow run whose job made a GitHub Deployment), so one deployment counts once; how many went."""
    twins = db.execute(
        """
        SELECT d.id, d.deployed_at FROM deployments d WHERE d.repo_id = ? AND d.source = ?
          AND EXISTS (SELECT 1 FROM deployments o WHERE o.repo_id = d.repo_id AND o.source != d.source
              AND o.sha = d.sha AND o.environment = d.environment
              AND abs(julianday(o.deployed_at) - julianday(d.deployed_at)) * 86400 <= ?)
        """,
        [repo_id, source, TWIN_SECONDS],
    ).fetchall()
    for dep_id, at in twins:
        _unlink_from(db, repo_id, str(at))
        db.execute("DELETE FROM deployments WHERE id = ?", [dep_id])
    return len(twins)


def _unlink_from(db: Database, repo_id: int, moment: str) -> None:
    ids = [
        r[0] for r in db.execute("SELECT id FROM deployments WHERE repo_id = ? AND deployed_at >= ?", [repo_id, moment])
    ]
    for dep_id in ids:
        db.execute("DELETE FROM deployment_commits WHERE deployment_id = ?", [dep_id])
    db.execute("UPDATE deployments SET linked_sha = NULL WHERE repo_id = ? AND deployed_at >= ?", [repo_id, moment])


def to_link(db: Reader, repo_id: int) -> list[Deployment]:
    """Successful deployments whose first-shipped commits are not recorded yet, oldest first."""
    rows = db.execute(
        f"SELECT {COLUMNS} FROM deployments WHERE repo_id = ? AND status = 'success' "
        "AND (linked_sha IS NULL OR linked_sha != sha) ORDER BY deployed_at, id",
        [repo_id],
    )
    return [_deployment(r) for r in rows]


def linked_tips(db: Reader, repo_id: int) -> list[str]:
    """The commits of the deployments already linked: what they reach was shipped before."""
    rows = db.execute("SELECT DISTINCT sha FROM deployments WHERE repo_id = ? AND linked_sha = sha", [repo_id])
    return [r[0] for r in rows]


def shipped(db: Reader, repo_id: int) -> set[str]:
    return {r[0] for r in db.execute("SELECT sha FROM deployment_commits WHERE repo_id = ?", [repo_id])}


def save_links(db: Database, links: list[tuple[Deployment, list[str]]]) -> None:
    """The commits deployments shipped first, each deployment marked with the sha they were computed for.

    One batch in key order: the table is keyed by (repo, sha), so sorted inserts stay cheap.
    """
    rows = sorted((d.repo_id, sha, d.id) for d, shas in links for sha in shas)
    db.conn.executemany("INSERT OR IGNORE INTO deployment_commits (repo_id, sha, deployment_id) VALUES (?, ?, ?)", rows)
    db.conn.executemany("UPDATE deployments SET linked_sha = ? WHERE id = ?", [(d.sha, d.id) for d, _ in links])


def deployments(
    db: Reader, environment: str, since: str | None, until: str | None, repo_ids: list[int] | None
) -> list[Deployment]:
    where = (
        Where("environment = ?").add("deployed_at >= ?", since, when=since).add("deployed_at < ?", until, when=until)
    )
    if repo_ids is not None:
        where.within("repo_id", repo_ids)
    rows = db.execute(
        f"SELECT {COLUMNS} FROM deployments WHERE {where.sql} ORDER BY deployed_at, id", [environment, *where.params]
    )
    return [_deployment(r) for r in rows]


def lead_times(db: Reader, deployment_ids: list[int], people: set[int] | None = None) -> list[tuple[int, float]]:
    """(deployment id, hours from authored to deployed) for each non-merge commit those deployments shipped
    first (only those by `people`, when given)."""
    if not deployment_ids:
        return []
    where = Where().within("dc.deployment_id", deployment_ids)
    if people:
        where.within("c.person_id", sorted(people))
    rows = db.execute(
        "SELECT d.id, (julianday(d.deployed_at) - julianday(c.authored_at)) * 24 FROM deployment_commits dc "
        "JOIN deployments d ON d.id = dc.deployment_id "
        "JOIN commits c ON c.repo_id = dc.repo_id AND c.sha = dc.sha AND c.is_merge = 0 "
        f"WHERE {where.sql}",
        where.params,
    )
    return [(int(r[0]), max(0.0, float(r[1]))) for r in rows]


def contains(db: Reader, later: Deployment, earlier: Deployment) -> bool:
    """Whether `later`'s commit has `earlier`'s in its history, from the stored graph and links.

    Only the commits that deployments from the one that first shipped `earlier` up to `later` shipped
    first are walked: anything shipped before that cannot reach a commit shipped first after it.
    """
    if later.sha == earlier.sha:
        return True
    first = db.execute(
        "SELECT d.deployed_at FROM deployment_commits dc JOIN deployments d ON d.id = dc.deployment_id "
        "WHERE dc.repo_id = ? AND dc.sha = ?",
        [earlier.repo_id, earlier.sha],
    ).fetchone()
    if first is None:
        return False
    graph = {
        str(sha): (parents or "").split()
        for sha, parents in db.execute(
            "SELECT c.sha, c.parents FROM deployment_commits dc JOIN deployments d ON d.id = dc.deployment_id "
            "JOIN commits c ON c.repo_id = dc.repo_id AND c.sha = dc.sha "
            "WHERE dc.repo_id = ? AND d.deployed_at >= ? AND d.deployed_at <= ?",
            [later.repo_id, first[0], later.deployed_at],
        )
    }
    return earlier.sha in ancestors(graph, later.sha)


def shipped_counts(db: Reader, deployment_ids: list[int]) -> dict[int, tuple[int, int]]:
    """Per deployment: (commits, merges) it shipped first, merges apart as everywhere."""
    where = Where().within("dc.deployment_id", deployment_ids)
    rows = db.execute(
        "SELECT dc.deployment_id, SUM(c.is_merge = 0), SUM(c.is_merge) FROM deployment_commits dc "
        "JOIN commits c ON c.repo_id = dc.repo_id AND c.sha = dc.sha "
        f"WHERE {where.sql} GROUP BY dc.deployment_id",
        where.params,
    )
    return {int(r[0]): (int(r[1] or 0), int(r[2] or 0)) for r in rows}


def reverted_in(db: Reader, deployment_ids: list[int]) -> dict[int, int | None]:
    """Deployments one of whose commits a later commit reverts ("This reverts commit <sha>", as git
    writes it) → the deployment that first shipped the revert (None while none has)."""
    if not deployment_ids:
        return {}
    reverts: list[tuple[int, str, str]] = []
    for repo_id, sha, message in db.execute(
        "SELECT repo_id, sha, message FROM commits WHERE message LIKE '%This reverts commit %'"
    ):
        reverts += [(int(repo_id), reverted, str(sha)) for reverted in REVERT.findall(message or "")]
    wanted = set(deployment_ids)
    found: dict[int, int | None] = {}
    for repo_id, reverted, revert in sorted(reverts):
        row = db.execute(
            "SELECT deployment_id FROM deployment_commits WHERE repo_id = ? AND sha = ?", [repo_id, reverted]
        ).fetchone()
        if row and int(row[0]) in wanted:
            fixed = db.execute(
                "SELECT deployment_id FROM deployment_commits WHERE repo_id = ? AND sha = ?", [repo_id, revert]
            ).fetchone()
            if found.get(int(row[0])) is None:
                found[int(row[0])] = int(fixed[0]) if fixed else None
    return found


def deployment_span(db: Reader, environment: str, repo_ids: list[int] | None) -> tuple[int, str | None, str | None]:
    """How many deployments of an environment are stored (of some repositories), and their first and last time."""
    where = Where("environment = ?")
    if repo_ids is not None:
        where.within("repo_id", repo_ids)
    n, first, last = db.execute(
        f"SELECT COUNT(*), MIN(deployed_at), MAX(deployed_at) FROM deployments WHERE {where.sql}",
        [environment, *where.params],
    ).fetchone()
    return int(n), first, last


def any_deployment(db: Reader) -> bool:
    return db.execute("SELECT 1 FROM deployments LIMIT 1").fetchone() is not None


def latest_deployment_before(db: Reader, moment: str) -> str | None:
    row = db.execute(
        "SELECT deployed_at FROM deployments WHERE deployed_at < ? ORDER BY deployed_at DESC LIMIT 1", [moment]
    ).fetchone()
    return row[0] if row else None


def all_deployments(db: Reader, repo_id: int) -> list[Deployment]:
    return [_deployment(r) for r in db.execute(f"SELECT {COLUMNS} FROM deployments WHERE repo_id = ?", [repo_id])]


def shipping_paths_of(db: Reader, deployment_ids: list[int], globs: list[str]) -> set[int]:
    """The deployments that shipped a change to a file under one of these globs (`**` any depth; commits
    read without their files, from an API, cannot say)."""
    if not deployment_ids or not globs:
        return set()
    patterns = [g.replace("**/", "*").replace("**", "*") for g in globs]
    where = Where().within("dc.deployment_id", deployment_ids)
    matches = " OR ".join("json_extract(f.value, '$[0]') GLOB ?" for _ in patterns)
    rows = db.execute(
        "SELECT DISTINCT dc.deployment_id FROM deployment_commits dc "
        "JOIN commits c ON c.repo_id = dc.repo_id AND c.sha = dc.sha, json_each(c.files) f "
        f"WHERE {where.sql} AND c.files IS NOT NULL AND ({matches})",
        [*where.params, *patterns],
    )
    return {int(r[0]) for r in rows}


def shipping_work_of(db: Reader, deployment_ids: list[int], people: set[int]) -> set[int]:
    """The deployments that shipped at least one commit by these people."""
    where = Where().within("dc.deployment_id", deployment_ids).within("c.person_id", sorted(people))
    rows = db.execute(
        "SELECT DISTINCT dc.deployment_id FROM deployment_commits dc "
        f"JOIN commits c ON c.repo_id = dc.repo_id AND c.sha = dc.sha WHERE {where.sql}",
        where.params,
    )
    return {int(r[0]) for r in rows}
