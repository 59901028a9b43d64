"""The repos, commits and commits_fts tables, written only here: batches that land with their cursor."""

from __future__ import annotations

import json
import queue
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from teamops.clock import now_iso
from teamops.records import CommitRecord
from teamops.store.database import transaction
from teamops.store.filters import Where
from teamops.store.sync_state import SyncState, save_state

if TYPE_CHECKING:
    from sqlite_utils import Database

    from teamops.store.reader import Reader

BATCH_SIZE = 2000
Progress = Callable[[int, int | None], None]
PersonFor = Callable[[str | None, str | None, str | None], int | None]


def _no_progress(advance: int, total: int | None) -> None:
    return None


# -- repos --------------------------------------------------------------------------------------------


def save_repo(
    db: Database,
    key: str,
    name: str,
    kind: str,
    locator: str,
    path: str | None = None,
    default_branch: str | None = None,
) -> int:
    """The repos row for a source, created on first sight (a clone's path kept current, a missing mark lifted)."""
    row = db.execute("SELECT id, path, default_branch, missing_since FROM repos WHERE key = ?", [key]).fetchone()
    if row:
        stale = (path and row[1] != path) or (default_branch and not row[2]) or row[3] is not None
        if stale:
            with transaction(db):
                db.execute(
                    "UPDATE repos SET path = COALESCE(?, path), default_branch = COALESCE(default_branch, ?), "
                    "missing_since = NULL, missing_reason = NULL WHERE id = ?",
                    [path, default_branch, row[0]],
                )
        return int(row[0])
    with transaction(db):
        cur = db.execute(
            "INSERT INTO repos (key, name, kind, locator, path, default_branch, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (key) DO NOTHING",
            [key, name, kind, locator, path, default_branch, now_iso()],
        )
        if not cur.rowcount:  # another worker made it a moment ago
            return int(db.execute("SELECT id FROM repos WHERE key = ?", [key]).fetchone()[0])
    return int(cur.lastrowid or 0)


def mark_missing(db: Database, repo_ids: Iterable[int], reason: str) -> int:
    """Repositories their source no longer lists or lets us read: kept with their history, marked since when."""
    ids = list(repo_ids)
    if not ids:
        return 0
    with transaction(db):
        cur = db.execute(
            f"UPDATE repos SET missing_since = COALESCE(missing_since, ?), missing_reason = ? "
            f"WHERE id IN ({','.join('?' * len(ids))})",
            [now_iso(), reason, *ids],
        )
    return int(cur.rowcount)


def repos_of_kind(db: Reader, kind: str) -> list[tuple[int, str, str | None]]:
    """(id, locator, missing since) of every stored repository of a source kind."""
    rows = db.execute("SELECT id, locator, missing_since FROM repos WHERE kind = ? ORDER BY id", [kind])
    return [(int(r[0]), str(r[1] or ""), r[2]) for r in rows]


def repo_commits(db: Reader, kind: str, locator: str) -> int:
    """Commits stored for a repository named by its kind and locator (0 when it is not synced)."""
    row = db.execute(
        "SELECT COUNT(c.id) FROM repos r JOIN commits c ON c.repo_id = r.id WHERE r.kind = ? AND lower(r.locator) = ?",
        [kind, locator.lower()],
    ).fetchone()
    return int(row[0])


def repo_by_path(db: Reader, path: str) -> tuple[int, str] | None:
    row = db.execute("SELECT id, name FROM repos WHERE path = ? ORDER BY id LIMIT 1", [path]).fetchone()
    return (int(row[0]), str(row[1])) if row else None


def repo_source(db: Reader, repo_id: int) -> tuple[str, str, str | None]:
    """(kind, locator, local clone path) of a repository."""
    kind, locator, path = db.execute("SELECT kind, locator, path FROM repos WHERE id = ?", [repo_id]).fetchone()
    return str(kind), str(locator or ""), path


def repos_with_paths(db: Reader, repo_id: int | None = None) -> list[tuple[int, str, str | None]]:
    """(id, name, local path or None) of one repository, or of every one in the order they were added."""
    where = Where().add("id = ?", repo_id, when=repo_id is not None)
    rows = db.execute(f"SELECT id, name, path FROM repos WHERE {where.sql} ORDER BY id", where.params)
    return [(int(r[0]), str(r[1]), r[2]) for r in rows]


def commit_graph(db: Reader, repo_id: int) -> dict[str, tuple[list[str], bool, str]]:
    """sha → (parents, is a merge, committer time) of a repository's stored commits."""
    rows = db.execute("SELECT sha, parents, is_merge, committed_at FROM commits WHERE repo_id = ?", [repo_id])
    return {str(sha): ((parents or "").split(), bool(merge), str(at)) for sha, parents, merge, at in rows}


def ancestors(parents_of: Mapping[str, Sequence[str]], start: str) -> set[str]:
    """`start` and every commit it reaches through `parents_of` (commits missing from it end the walk)."""
    seen, todo = {start}, [start]
    while todo:
        for parent in parents_of.get(todo.pop(), ()):
            if parent not in seen:
                seen.add(parent)
                todo.append(parent)
    return seen


def first_commit_time(db: Reader, repo_id: int) -> str | None:
    return db.execute("SELECT MIN(authored_at) FROM commits WHERE repo_id = ?", [repo_id]).fetchone()[0]


def local_paths(db: Reader) -> list[str]:
    return [r[0] for r in db.execute("SELECT path FROM repos WHERE path IS NOT NULL ORDER BY id")]


def default_branch(db: Reader, repo_id: int) -> str | None:
    return db.execute("SELECT default_branch FROM repos WHERE id = ?", [repo_id]).fetchone()[0]


def save_default_branch(db: Database, repo_id: int, branch: str, only_if_unknown: bool = False) -> None:
    if only_if_unknown and default_branch(db, repo_id):
        return
    with transaction(db):
        db.execute("UPDATE repos SET default_branch = ? WHERE id = ?", [branch, repo_id])


# -- commits ------------------------------------------------------------------------------------------

INSERT_COMMIT = """
INSERT INTO commits (
    repo_id, sha, author_name, author_email, author_login, person_id, authored_at,
    author_tz_offset, committed_at, message, additions, deletions, files_changed, is_merge,
    parents, co_authors, files, stats_missing, author_day
) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18,
    date(?7, ?8 || ' minutes'))
ON CONFLICT (repo_id, sha) DO UPDATE SET
    parents = excluded.parents,
    is_merge = excluded.is_merge,
    additions = excluded.additions,
    deletions = excluded.deletions,
    files_changed = excluded.files_changed,
    files = excluded.files,
    author_login = COALESCE(commits.author_login, excluded.author_login),
    stats_missing = 0
WHERE commits.stats_missing = 1 AND excluded.stats_missing = 0
"""


def commit_row(repo_id: int, c: CommitRecord, person: int | None) -> tuple[object, ...]:
    """A CommitRecord as the commits table stores it; merges carry no line counts."""
    co = c.co_authors
    if c.is_merge:
        adds = dels = nfiles = None
        files = None
    elif c.stats_missing:
        adds, dels, nfiles, files = None, None, c.files_total, None
    else:
        adds = c.additions_total
        dels = c.deletions_total
        if adds is None:
            adds = sum(f.additions for f in c.files)
            dels = sum(f.deletions for f in c.files)
        nfiles = c.files_total
        if nfiles is None and c.files_known:
            nfiles = len(c.files)
        files = (
            json.dumps(
                [
                    [f.path, f.additions, f.deletions, 1] if f.binary else [f.path, f.additions, f.deletions]
                    for f in c.files
                ],
                separators=(",", ":"),
                ensure_ascii=False,
            )
            if c.files
            else None
        )
    return (
        repo_id,
        c.sha,
        c.author_name,
        c.author_email,
        c.author_login,
        person,
        c.authored_at,
        c.author_tz_offset,
        c.committed_at,
        c.message,
        adds,
        dels,
        nfiles,
        int(c.is_merge),
        " ".join(c.parents),
        json.dumps(co, ensure_ascii=False) if co else None,
        files,
        int(c.stats_missing),
    )


def save_commit_rows(db: Database, rows: list[tuple[object, ...]], state: SyncState | None) -> None:
    """One transaction: the rows, their full-text index entries, and the cursor after them."""
    with transaction(db):
        before = db.execute("SELECT COALESCE(MAX(id), 0) FROM commits").fetchone()[0]
        db.conn.executemany(INSERT_COMMIT, rows)
        db.execute("INSERT INTO commits_fts (rowid, message) SELECT id, message FROM commits WHERE id > ?", [before])
        if state is not None:
            if rows:
                state.items += len(rows)
                state.cursor = str(rows[-1][1])
            save_state(db, state)


class _BatchWriter:
    """Writes batches on a second thread, so parsing the next batch overlaps SQLite's work."""

    def __init__(self, db: Database, state: SyncState | None) -> None:
        self.db = db
        self.state = state
        self.queue: queue.Queue[list[tuple[object, ...]] | None] = queue.Queue(maxsize=2)
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="teamops-writer", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while (rows := self.queue.get()) is not None:
            if self.error is None:
                try:
                    save_commit_rows(self.db, rows, self.state)
                except BaseException as exc:  # re-raised in the caller's thread
                    self.error = exc

    def put(self, rows: list[tuple[object, ...]]) -> None:
        if self.error is not None:
            raise self.error
        self.queue.put(rows)

    def close(self) -> None:
        self.queue.put(None)
        self.thread.join()
        if self.error is not None:
            raise self.error


def save_assisted(db: Database, keys: list[tuple[int, str]]) -> None:
    """Mark the commits an AI assistant co-wrote (store/assists.py holds which one and how)."""
    db.conn.executemany("UPDATE commits SET assisted = 1 WHERE repo_id = ? AND sha = ?", keys)


def forget_assisted(db: Database) -> None:
    """Before the history is read again for assists (other marks): no commit is marked."""
    db.execute("UPDATE commits SET assisted = 0 WHERE assisted != 0")


def save_commits(
    db: Database,
    repo_id: int,
    commits: Iterable[CommitRecord],
    person_for: PersonFor,
    state: SyncState | None = None,
    progress: Progress = _no_progress,
    batch_size: int = BATCH_SIZE,
) -> int:
    """Write commits in batches; each batch commits together with the state that produced it."""
    total = 0
    batch: list[tuple[object, ...]] = []
    writer = _BatchWriter(db, state)
    try:
        for c in commits:
            batch.append(commit_row(repo_id, c, person_for(c.author_email, c.author_login, c.author_name)))
            total += 1
            if len(batch) >= batch_size:
                writer.put(batch)
                progress(len(batch), None)
                batch = []
        if batch:
            writer.put(batch)
            progress(len(batch), None)
    finally:
        # Whatever happens in the loop, batches already handed over are committed first, and the
        # source (a git process and its reader) is stopped now rather than at interpreter exit.
        close = getattr(commits, "close", None)
        if close is not None:
            close()
        writer.close()
    return total


def stored_shas(db: Reader, repo_id: int, candidates: list[str]) -> set[str]:
    """Which of these commits are stored with line counts: a set difference instead of a re-walk.

    Commits stored without counts (from a push event) do not count, so the next sync completes them.
    """
    done = "AND stats_missing = 0"
    if len(candidates) > 5000:
        rows = db.execute(f"SELECT sha FROM commits WHERE repo_id = ? {done}", [repo_id])
        return {r[0] for r in rows}
    found: set[str] = set()
    for i in range(0, len(candidates), 500):
        chunk = candidates[i : i + 500]
        marks = ",".join("?" * len(chunk))
        found.update(
            r[0]
            for r in db.execute(
                f"SELECT sha FROM commits WHERE repo_id = ? {done} AND sha IN ({marks})", [repo_id, *chunk]
            )
        )
    return found


def files_total(db: Reader, repo_id: int, sha: str) -> int | None:
    """How many files a commit changed, as its source counted them (None when not known)."""
    row = db.execute("SELECT files_changed FROM commits WHERE repo_id = ? AND sha = ?", [repo_id, sha]).fetchone()
    return int(row[0]) if row and row[0] is not None else None


def has_commits(db: Reader, repo_id: int) -> bool:
    return db.execute("SELECT 1 FROM commits WHERE repo_id = ? LIMIT 1", [repo_id]).fetchone() is not None


def missing_parents(db: Reader, repo_id: int) -> list[str]:
    """Parents of stored commits that are not stored: where an incremental walk stopped too early."""
    have: set[str] = set()
    wanted: set[str] = set()
    for sha, parents in db.execute("SELECT sha, parents FROM commits WHERE repo_id = ?", [repo_id]):
        have.add(sha)
        if parents:
            wanted.update(parents.split())
    return sorted(wanted - have)


def save_counting_estimates(db: Database, commit_ids: list[int]) -> None:
    """Keep each commit's counting estimate (a model's over the heuristic's, then the newest) beside it.

    Called inside the transaction that wrote the estimates.
    """
    db.conn.executemany(
        """
        UPDATE commits SET (ai_points, ai_hours) = (
            SELECT e.points, e.hours FROM estimates e WHERE e.commit_id = commits.id AND e.status = 'ok'
            ORDER BY (e.model = 'heuristic'), e.id DESC LIMIT 1
        ) WHERE id = ?
        """,
        [(cid,) for cid in commit_ids],
    )


def _text(raw: bytes | str | None) -> str | None:
    return raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw


def save_attribution(
    db: Database, account: Callable[[str | None], tuple[str, str] | None], name_key: Callable[[Any], Any]
) -> int:
    """Recompute every commit's person from the identities; returns how many commits moved.

    A commit's login is an account of its repository's kind; `account` reads one from a private address."""
    conn = db.conn

    def part(raw: bytes | str | None, i: int) -> str | None:
        found = account(_text(raw))
        return found[i] if found else None

    # Values reach the functions as bytes (CAST AS BLOB): a value that is not UTF-8 in a damaged file
    # becomes replacement characters instead of an exception inside SQLite.
    conn.create_function("teamops_account_kind", 1, lambda raw: part(raw, 0), deterministic=True)
    conn.create_function("teamops_account", 1, lambda raw: part(raw, 1), deterministic=True)
    conn.create_function("teamops_name", 1, lambda raw: name_key(_text(raw)), deterministic=True)
    cur = db.execute(
        """
        UPDATE commits SET person_id = m.pid
        FROM (
            SELECT c.id,
                COALESCE(
                    (SELECT person_id FROM identities WHERE kind = 'email' AND value = c.author_email),
                    (SELECT person_id FROM identities
                        WHERE kind = (SELECT r.kind FROM repos r WHERE r.id = c.repo_id)
                        AND value = lower(c.author_login)),
                    (SELECT person_id FROM identities
                        WHERE kind = teamops_account_kind(CAST(c.author_email AS BLOB))
                        AND value = teamops_account(CAST(c.author_email AS BLOB))),
                    (SELECT person_id FROM identities
                        WHERE kind = 'name' AND value = teamops_name(CAST(c.author_name AS BLOB)))
                ) AS pid
            FROM commits c
        ) AS m
        WHERE m.id = commits.id AND commits.person_id IS NOT m.pid
        """
    )
    return cur.rowcount


def commits_of(db: Reader, person_id: int) -> int:
    """A person's commits, merges left out (one definition everywhere: docs/kpi.md)."""
    row = db.execute("SELECT COUNT(*) FROM commits WHERE person_id = ? AND is_merge = 0", [person_id]).fetchone()
    return int(row[0])


def commit_counts(db: Reader) -> dict[int, tuple[int, int, str | None, int]]:
    """Per person: (commits, merges, last commit time, commits an AI assistant co-wrote), merges apart as
    everywhere."""
    rows = db.execute(
        "SELECT person_id, SUM(is_merge = 0), SUM(is_merge), MAX(CASE WHEN is_merge = 0 THEN authored_at END), "
        "SUM(assisted * (is_merge = 0)) FROM commits WHERE person_id IS NOT NULL GROUP BY 1"
    ).fetchall()
    return {int(pid): (int(n), int(m), last, int(a or 0)) for pid, n, m, last, a in rows}


def unmapped_authors(db: Reader) -> list[dict[str, Any]]:
    """Commit authors that match nobody, most commits first, so the worst gaps show at the top.

    Counted as `kpi activity` counts them: one row per email, merges left out (`merges` says how
    many there are besides), the latest name the author used.
    """
    rows = db.execute(
        """
        SELECT c.author_email, SUM(c.is_merge = 0), SUM(c.is_merge),
            MAX(CASE WHEN c.author_login IS NOT NULL THEN r.kind || ':' || c.author_login END),
            MAX(CASE WHEN c.is_merge = 0 THEN c.authored_at END)
        FROM commits c JOIN repos r ON r.id = c.repo_id WHERE c.person_id IS NULL
        GROUP BY c.author_email
        ORDER BY SUM(c.is_merge = 0) DESC, c.author_email
        """
    ).fetchall()
    return [
        {
            "source": "commits",
            "name": latest_identity(db, email)[0],
            "email": email,
            "login": login.partition(":")[2] if login else None,  # an account of the repository's kind
            "login_kind": login.partition(":")[0] if login else None,
            "commits": n,
            "merges": merges,
            "last_seen": last,
        }
        for email, n, merges, login, last in rows
    ]


def latest_identity(db: Reader, email: str) -> tuple[str | None, str | None]:
    """(name, login) of an unmapped author's latest commit (a non-merge one when there is one): an index
    seek or two, however many commits the author has."""
    for merge in (0, 1):
        row = db.execute(
            "SELECT author_name, author_login FROM commits INDEXED BY idx_commits_activity "
            "WHERE person_id IS NULL AND author_email = ? AND is_merge = ? ORDER BY authored_at DESC LIMIT 1",
            [email, merge],
        ).fetchone()
        if row:
            return row[0], row[1]
    return None, None


def first_and_last(db: Reader) -> tuple[str | None, str | None]:
    """The first and last commit time: two single-aggregate queries, each one seek on the date index."""
    first = db.execute("SELECT MIN(authored_at) FROM commits").fetchone()[0]
    last = db.execute("SELECT MAX(authored_at) FROM commits").fetchone()[0]
    return first, last


def latest_commit_before(db: Reader, moment: str) -> str | None:
    """The newest non-merge commit time before a moment: one seek on the date index."""
    row = db.execute(
        "SELECT authored_at FROM commits INDEXED BY idx_commits_authored WHERE authored_at < ? AND is_merge = 0 "
        "ORDER BY authored_at DESC LIMIT 1",
        [moment],
    ).fetchone()
    return row[0] if row else None


def any_commit(db: Reader) -> bool:
    return db.execute("SELECT 1 FROM commits LIMIT 1").fetchone() is not None


def day_totals(db: Reader, person_id: int, start: str, end: str) -> tuple[int, float | None, int | None, int | None]:
    """A person's non-merge commits in a UTC range: count, AI points, lines added and deleted."""
    n, pts, adds, dels = db.execute(
        "SELECT COUNT(*), SUM(ai_points), SUM(additions), SUM(deletions) FROM commits "
        "WHERE person_id = ? AND is_merge = 0 AND authored_at >= ? AND authored_at < ?",
        [person_id, start, end],
    ).fetchone()
    return int(n), pts, adds, dels


def repo_names(db: Reader) -> list[str]:
    """Every repository's name, those with commits first, then by name."""
    rows = db.execute(
        "SELECT r.name FROM repos r ORDER BY NOT EXISTS (SELECT 1 FROM commits c WHERE c.repo_id = r.id), r.name"
    )
    return [name for (name,) in rows]


def matching_repos(db: Reader, pattern: str) -> list[int]:
    """Ids of the repositories whose name, locator or path matches a glob (case-insensitive)."""
    rows = db.execute(
        "SELECT id FROM repos WHERE lower(name) GLOB lower(?1) OR lower(locator) GLOB lower(?1) "
        "OR lower(COALESCE(path, '')) GLOB lower(?1) ORDER BY id",
        [pattern],
    )
    return [int(r[0]) for r in rows]


def find_repo(db: Reader, value: str) -> tuple[int, str] | None:
    """A repository by its name, key, locator (owner/name) or path: (id, name)."""
    row = db.execute(
        "SELECT id, name FROM repos WHERE name = ? OR key = ? OR substr(key, instr(key, ':') + 1) = lower(?) "
        "OR locator = ? OR path = ? ORDER BY id LIMIT 1",  # a key is `kind:locator`
        [value, value, value, value, value],
    ).fetchone()
    return (int(row[0]), str(row[1])) if row else None
