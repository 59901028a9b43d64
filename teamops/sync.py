"""Commit sync: source → normalise → store, in batches committed together with their cursor."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from teamops.errors import InvalidInput
from teamops.identities import IdentityResolver
from teamops.integrations.git_local import GitRepo
from teamops.records import CommitRecord
from teamops.store.database import now_iso, transaction
from teamops.store.sync_state import SyncState, load_state, save_state

if TYPE_CHECKING:
    from sqlite_utils import Database

BATCH_SIZE = 2000
Progress = Callable[[int, int | None], None]


def _no_progress(advance: int, total: int | None) -> None:
    return None


@dataclass
class SyncResult:
    """What one repository's sync did, for the summary line and job history."""

    repo: str
    new: int = 0
    branches: list[str] = field(default_factory=list)
    unchanged: bool = True
    seconds: float = 0.0
    requests: int | None = None
    rate_limit_remaining: int | None = None
    details: list[str] = field(default_factory=list)


def ensure_repo(
    db: Database,
    key: str,
    name: str,
    kind: str,
    path: str | None = None,
    github: str | None = None,
    default_branch: str | None = None,
) -> int:
    """The repos row for a source, created on first sight."""
    row = db.execute("SELECT id FROM repos WHERE key = ?", [key]).fetchone()
    if row:
        if path:
            db.execute("UPDATE repos SET path = ? WHERE id = ? AND path IS NOT ?", [path, row[0], path])
        return int(row[0])
    with transaction(db):
        cur = db.execute(
            "INSERT INTO repos (key, name, kind, path, github, default_branch, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            [key, name, kind, path, github, default_branch, now_iso()],
        )
    return int(cur.lastrowid or 0)


def local_repo_row(db: Database, repo: GitRepo, name: str | None = None) -> tuple[int, str]:
    """The repos row of a clone: shared with GitHub sync when `origin` is on github.com."""
    path = str(repo.root)
    row = db.execute("SELECT id, name FROM repos WHERE path = ? ORDER BY id LIMIT 1", [path]).fetchone()
    if row:
        return int(row[0]), str(row[1])
    gh = repo.github_name()
    if gh:
        key, display, kind = f"github:{gh.lower()}", gh, "github"
    else:
        key, display, kind = f"git:{path}", name or repo.root.name, "git"
    return ensure_repo(db, key, display, kind, path=path, github=gh), display


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


_encode = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


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


def _write_batch(db: Database, rows: list[tuple[object, ...]], state: SyncState | None) -> None:
    """One transaction: the rows, their full-text index entries, and the cursor after them."""
    with transaction(db):
        before = db.execute("SELECT COALESCE(MAX(id), 0) FROM commits").fetchone()[0]
        db.conn.executemany(INSERT_COMMIT, rows)
        db.execute(
            "INSERT INTO commits_fts (rowid, message) SELECT id, message FROM commits WHERE id > ?",
            [before],
        )
        if state is not None:
            state.items += len(rows)
            state.cursor = str(rows[-1][1])
            save_state(db, state)


class _BatchWriter:
    """Writes batches on a second thread, so parsing the next batch overlaps SQLite's work."""

    def __init__(self, db: Database, state: SyncState | None) -> None:
        import queue
        import threading

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
                    _write_batch(self.db, rows, self.state)
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


def save_commits(
    db: Database,
    repo_id: int,
    commits: Iterable[CommitRecord],
    state: SyncState | None = None,
    progress: Progress = _no_progress,
    batch_size: int = BATCH_SIZE,
    resolver: IdentityResolver | None = None,
) -> int:
    """Write commits in batches; each batch commits together with the state that produced it."""
    resolver = resolver or IdentityResolver.load(db)
    person_for = resolver.person_for
    total = 0
    batch: list[tuple[object, ...]] = []
    writer = _BatchWriter(db, state)
    try:
        for c in commits:
            person = person_for(c.author_email, c.author_login, c.author_name)
            batch.append(commit_row(repo_id, c, person))
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


def stored_shas(db: Database, repo_id: int, candidates: list[str]) -> set[str]:
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


def sync_git_repo(
    db: Database,
    repo: GitRepo,
    branches: list[str] | None = None,
    *,
    name: str | None = None,
    since: str | None = None,
    until: str | None = None,
    full: bool = False,
    progress: Progress | None = None,
    batch_size: int = BATCH_SIZE,
) -> SyncResult:
    """Pull new commits of a local clone; unchanged branches cost one `git rev-parse`."""
    started = time.monotonic()
    report = progress or _no_progress
    repo_id, display = local_repo_row(db, repo, name)
    result = SyncResult(repo=display)
    wanted = branches or [repo.current_branch()]
    filtered = bool(since or until)
    resolver = IdentityResolver.load(db)
    for branch in wanted:
        head = repo.resolve(branch)
        if head is None:
            if branches and repo.resolve("HEAD") is not None:
                raise InvalidInput(f"branch {branch!r} not found in {repo.root}")
            continue  # an empty repository: nothing to do, and that is fine
        result.branches.append(branch)
        source = f"git:{repo_id}:{branch}"
        state = load_state(db, source)
        if not full and not filtered and state.status == "complete" and state.head == head:
            result.details.append(f"{branch}: head {head[:10]} unchanged since the last sync")
            continue
        result.unchanged = False
        exclude = []
        if not full and state.status == "complete" and state.head and repo.has_commit(state.head):
            exclude = [state.head]
        state.status = "running" if state.status != "complete" else "complete"
        state.target = head
        with transaction(db):
            save_state(db, state)
        stream: Iterator[CommitRecord]
        todo: list[str] = []
        nothing_stored = db.execute("SELECT 1 FROM commits WHERE repo_id = ? LIMIT 1", [repo_id]).fetchone() is None
        if nothing_stored:
            # First sync: one streaming walk, no set difference needed; counting costs a
            # second walk, so only when someone watches a progress bar.
            if progress is not None:
                progress(0, repo.count(head, exclude, since=since, until=until))
            stream = repo.log(head, exclude, since=since, until=until)
        else:
            candidates = repo.rev_list(head, exclude, since=since, until=until)
            have = stored_shas(db, repo_id, candidates)
            todo = [sha for sha in candidates if sha not in have]
            report(0, len(todo))
            stream = repo.log(shas=todo) if todo else iter(())
        added = save_commits(db, repo_id, stream, state, report, batch_size, resolver)
        result.new += added
        how = "first walk" if nothing_stored else f"{len(todo):,} not yet stored"
        since_what = f"since {exclude[0][:10]}" if exclude else "whole history"
        result.details.append(f"{branch}: {added:,} new up to {head[:10]} ({since_what}, {how})")
        with transaction(db):
            if not filtered:
                state.status = "complete"
                state.head = head
                state.last_success_at = now_iso()
            save_state(db, state)
    result.seconds = time.monotonic() - started
    return result


def resolve_repo_arg(value: str) -> tuple[str, str]:
    """`--repo` names a GitHub repository (owner/name) or a local path; paths win when they exist."""
    path = Path(value).expanduser()
    if path.exists() or value.startswith((".", "/", "~")):
        return "path", str(path)
    if value.count("/") == 1 and " " not in value:
        return "github", value
    return "path", str(path)
