"""The assists table, written only here: which commits and pull requests an assistant co-wrote, and the reads
`kpi ai` makes of it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlite_utils import Database

    from teamops.assists.detect import Found
    from teamops.store.reader import Reader

STATE = "assists"  # the detection's cursor (a commit id) and the markers it used


def forget_commits(db: Database) -> None:
    """Before the history is read again (other markers): the commits' assists go, the pull requests' stay."""
    db.execute("DELETE FROM assists WHERE number = 0")


def commits_after(db: Reader, after: int, batch: int, hints: tuple[str, ...] = ()) -> Iterator[list[tuple[Any, ...]]]:
    """(id, repo, sha, message, author name, email, login) of the commits after an id, in id order, in batches;
    with `hints`, only those whose message or author holds one of them (SQLite's LIKE: ASCII case ignored),
    so a history's many plain commits never leave SQLite."""
    where = ""
    params: list[Any] = []
    if hints:
        fields = ("message", "author_name", "author_email", "COALESCE(author_login, '')")
        where = " AND (" + " OR ".join(f"{f} LIKE ? ESCAPE '\\'" for f in fields for _ in hints) + ")"
        params = [f"%{h}%" for _ in fields for h in hints]
    while True:
        rows = db.execute(
            "SELECT id, repo_id, sha, message, author_name, author_email, author_login FROM commits "
            f"WHERE id > ?{where} ORDER BY id LIMIT ?",
            [after, *params, batch],
        ).fetchall()
        if not rows:
            return
        yield rows
        after = rows[-1][0]


def last_commit_id(db: Reader) -> int:
    return int(db.execute("SELECT COALESCE(MAX(id), 0) FROM commits").fetchone()[0])


def save_commit_assists(db: Database, rows: list[tuple[int, str, Found]]) -> int:
    """Each (repository, commit, what was found) once; how many commits that is (each is read once: new)."""
    db.conn.executemany(
        "INSERT OR IGNORE INTO assists (repo_id, sha, number, assistant, how, evidence) VALUES (?, ?, 0, ?, ?, ?)",
        [(repo_id, sha, f.assistant, f.how, f.evidence) for repo_id, sha, f in rows],
    )
    return len({(repo_id, sha) for repo_id, sha, _ in rows})


def pulls(db: Reader) -> list[tuple[int, int, str | None, str | None, list[str], list[list[str]] | None]]:
    """(repo, number, author login, author kind, labels, the marks of its description) of every pull request."""
    out = []
    for repo_id, number, login, kind, labels, marks in db.execute(
        "SELECT repo_id, number, author, author_kind, labels, body_marks FROM pull_requests"
    ):
        try:
            names = [str(x) for x in json.loads(labels or "[]") if isinstance(x, str)]
            found = json.loads(marks) if marks else None
        except ValueError:
            names, found = [], None
        out.append((int(repo_id), int(number), login, kind, names, found if isinstance(found, list) else None))
    return out


def pulls_signature(db: Reader) -> list[Any]:
    """What changes when any pull request does: a new one, one updated, one read from the service instead of
    inferred, or a change of what pull requests are recognised by (labels, description marks, authors)."""
    row = db.execute(
        "SELECT COUNT(*), MAX(updated_at), SUM(inferred), TOTAL(length(COALESCE(labels, '')) + "
        "length(COALESCE(body_marks, '')) + length(COALESCE(author, '')) + length(author_kind)) FROM pull_requests"
    ).fetchone()
    return [int(row[0]), row[1], int(row[2] or 0), float(row[3] or 0)]


def save_pull_assists(db: Database, rows: list[tuple[int, int, Found]]) -> None:
    """The pull requests' own marks, all of them again (labels come and go)."""
    db.execute("DELETE FROM assists WHERE number != 0")
    db.conn.executemany(
        "INSERT OR IGNORE INTO assists (repo_id, sha, number, assistant, how, evidence) VALUES (?, '', ?, ?, ?, ?)",
        [(repo_id, number, f.assistant, f.how, f.evidence) for repo_id, number, f in rows],
    )


def commit_assistants(db: Reader, since: str | None, until: str | None) -> dict[tuple[int, str], list[str]]:
    """(repo, sha) → the assistants of each assisted commit authored in the window (the window's commits first,
    by their time index, then each one's assists by its key: CROSS JOIN keeps that order)."""
    rows = db.execute(
        "SELECT c.repo_id, c.sha, group_concat(DISTINCT a.assistant) FROM commits c CROSS JOIN assists a "
        "ON a.repo_id = c.repo_id AND a.sha = c.sha AND a.number = 0 "
        "WHERE c.authored_at >= COALESCE(?, '') AND c.authored_at < COALESCE(?, '9999') GROUP BY c.repo_id, c.sha",
        [since, until],
    )
    return {(int(r), str(s)): sorted(str(a).split(",")) for r, s, a in rows}


def window_counts(
    db: Reader, since: str | None, until: str | None, repo_ids: list[int] | None
) -> tuple[int, int, dict[str, int]]:
    """(non-merge commits, those assisted, assisted commits by assistant) of a window, in SQL."""
    from teamops.store.filters import Where

    where = (
        Where("c.is_merge = 0").add("c.authored_at >= ?", since, when=since).add("c.authored_at < ?", until, when=until)
    )
    if repo_ids is not None:
        where.within("c.repo_id", repo_ids)
    total, assisted = db.execute(
        "SELECT COUNT(*), COALESCE(SUM(EXISTS (SELECT 1 FROM assists a WHERE a.repo_id = c.repo_id AND a.sha = c.sha "
        f"AND a.number = 0)), 0) FROM commits c WHERE {where.sql}",
        where.params,
    ).fetchone()
    by = db.execute(
        "SELECT a.assistant, COUNT(DISTINCT c.id) FROM commits c CROSS JOIN assists a "
        f"ON a.repo_id = c.repo_id AND a.sha = c.sha AND a.number = 0 WHERE {where.sql} "
        "GROUP BY a.assistant ORDER BY 2 DESC, 1",
        where.params,
    ).fetchall()
    return int(total), int(assisted), {str(name): int(n) for name, n in by}


def pull_assistants(db: Reader) -> dict[tuple[int, int], list[str]]:
    """(repo, number) → the assistants of each assisted pull request: its own marks, or any of its commits'."""
    rows = db.execute(
        "SELECT repo_id, number, assistant FROM assists WHERE number != 0 "
        "UNION SELECT pc.repo_id, pc.number, a.assistant FROM pr_commits pc "
        "JOIN assists a ON a.repo_id = pc.repo_id AND a.sha = pc.sha AND a.number = 0"
    )
    out: dict[tuple[int, int], list[str]] = {}
    for repo_id, number, assistant in rows:
        out.setdefault((int(repo_id), int(number)), []).append(str(assistant))
    return {k: sorted(set(v)) for k, v in out.items()}


def any_assist(db: Reader) -> bool:
    return db.execute("SELECT 1 FROM assists LIMIT 1").fetchone() is not None
