"""The database kept between CI runs: a snapshot on a git branch (durable) and in a cache folder (fast).

Each save has a generation, one more than the state it started from. Restore takes the newest of the
branch and the cache; save pushes only if the branch still holds the state this run restored
(`--force-with-lease`), so a run never replaces a newer state with an older one.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import re
import sqlite3
import subprocess
import tempfile
import zlib
from dataclasses import asdict, dataclass
from pathlib import Path

from teamops.clock import now_iso
from teamops.errors import ConfigError, InvalidInput, ServiceError
from teamops.integrations.git_local import GIT
from teamops.store.trusted import check_schema, check_sound

SNAPSHOT = "teamops.db.gz"
META = "state.json"
GITHUB_FILE_LIMIT = 100 * 1024 * 1024  # GitHub refuses a pushed file over 100 MB
CHUNK = 1 << 20
META_MAX_BYTES = 65536  # a state.json is a few lines: more is not one teamops wrote
BRANCH_FIX = "look at it (git show {remote}/{branch}:state.json); to start over, delete the branch"


@dataclass
class StateMeta:
    """What a saved state says about itself."""

    generation: int
    saved_at: str
    sha256: str
    bytes: int
    run: str = ""


@dataclass
class Lease:
    """What a restore found: the branch commit to push over, and the generation the run started from."""

    branch_commit: str  # "" when the branch did not exist
    generation: int
    source: str  # "branch", "cache" or "new"
    note: str = ""  # what was passed over (an unreadable cache), said to the user


NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,200}$")


def check_args(repo: Path, remote: str, branch: str, cache: Path | None) -> None:
    """Names as git takes them, and paths without the bytes no file name may hold."""
    for what, value in (("--branch", branch), ("--remote", remote)):
        if not NAME_RE.match(value) or ".." in value or value.endswith((".lock", "/", ".")):
            raise InvalidInput(f"{what} {value[:80]!r} is not a git branch or remote name")
    for what, path in (("--repo", repo), ("--cache-dir", cache)):
        if path is not None and "\0" in str(path):
            raise InvalidInput(f"{what} {str(path)[:80]!r} is not a path")
    if not (repo / ".git").exists() and _git(repo, "rev-parse", "--git-dir", check=False).returncode != 0:
        raise InvalidInput(
            f"{repo} is not a git checkout", "run in the checkout whose remote keeps the state, or pass --repo"
        )


def lease_path(db: Path) -> Path:
    return db.with_name(db.name + ".state.json")


def _git(
    repo: Path, *args: str, input_bytes: bytes | None = None, check: bool = True, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[bytes]:
    full_env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", **(env or {})}
    proc = subprocess.run([GIT, "-C", str(repo), *args], input=input_bytes, capture_output=True, env=full_env)
    if check and proc.returncode != 0:
        raise ServiceError(f"git {args[0]} failed: {proc.stderr.decode(errors='replace').strip()[:300]}")
    return proc


def _branch_state(repo: Path, remote: str, branch: str) -> tuple[str, StateMeta | None]:
    """The branch's commit and state, fetched from the remote ('' and None when there is no branch yet).

    A branch that exists but whose state cannot be read is an error, never "no state": the next save
    would otherwise start again at generation 1 over everything the branch holds.
    """
    fetched = _git(
        repo,
        "fetch",
        "--quiet",
        "--no-tags",
        "--depth=1",
        remote,
        f"+refs/heads/{branch}:refs/teamops/{branch}",
        check=False,
    )
    if fetched.returncode != 0:
        err = fetched.stderr.decode(errors="replace")
        if "couldn't find remote ref" in err or "could not find remote ref" in err.lower():
            return "", None
        raise ServiceError(f"could not fetch the state branch {branch!r} from {remote}: {err.strip()[:300]}")
    commit = _git(repo, "rev-parse", f"refs/teamops/{branch}").stdout.decode().strip()
    size = _git(repo, "cat-file", "-s", f"refs/teamops/{branch}:{META}", check=False)
    meta = None
    if size.returncode == 0 and int(size.stdout.strip() or 0) <= META_MAX_BYTES:
        shown = _git(repo, "show", f"refs/teamops/{branch}:{META}", check=False)
        meta = _meta(shown.stdout) if shown.returncode == 0 else None
    if meta is None:
        raise InvalidInput(
            f"the state branch {branch!r} has no readable {META}: refused (a new database would replace it)",
            BRANCH_FIX.format(remote=remote, branch=branch),
        )
    return commit, meta


def _meta(raw: bytes) -> StateMeta | None:
    try:
        data = json.loads(raw[:META_MAX_BYTES])
        meta = StateMeta(
            int(data["generation"]),
            str(data["saved_at"]),
            str(data["sha256"]),
            int(data["bytes"]),
            str(data.get("run", "")),
        )
    except (ValueError, KeyError, TypeError, RecursionError):
        return None
    return meta if meta.generation >= 1 and re.fullmatch(r"[0-9a-f]{64}", meta.sha256) else None


def _cache_state(cache: Path | None) -> tuple[StateMeta | None, str]:
    """The cache's state, or None and why it was passed over (the branch is the durable copy)."""
    if cache is None or not (cache / META).is_file() or not (cache / SNAPSHOT).is_file():
        return None, ""
    with (cache / META).open("rb") as f:
        meta = _meta(f.read(META_MAX_BYTES))
    return meta, "" if meta else f"the cache's {META} is unreadable"


def _unpack(packed: bytes, meta: StateMeta, db: Path, limit: int) -> None:
    """Write a snapshot to the database path after checking it is the one its metadata names, that it
    expands to at most `limit` bytes, is a sound SQLite file, and holds only teamops's own schema."""
    what = f"the saved state (generation {meta.generation})"
    if hashlib.sha256(packed).hexdigest() != meta.sha256:
        raise InvalidInput(f"{what} does not match its checksum")
    tmp = db.with_name(db.name + ".restoring")
    done = False
    try:
        size = 0
        with gzip.GzipFile(fileobj=io.BytesIO(packed)) as src, tmp.open("wb") as dst:
            while chunk := src.read(CHUNK):
                size += len(chunk)
                if size > limit:
                    raise InvalidInput(
                        f"{what} expands past {limit / 2**20:,.0f} MiB: refused",
                        "raise [store] state_max_mb if the database really is that large",
                    )
                dst.write(chunk)
        if size == 0:
            raise InvalidInput(f"{what} is empty: refused")
        conn = sqlite3.connect(tmp, isolation_level=None)
        try:
            conn.execute("PRAGMA trusted_schema = OFF")
            check_sound(conn, what)
            check_schema(conn, what)
        finally:
            conn.close()
        done = True
    except (OSError, EOFError, zlib.error) as exc:
        raise InvalidInput(f"{what} is not a readable gzip file ({type(exc).__name__}: truncated or corrupt)") from None
    except sqlite3.DatabaseError as exc:
        raise InvalidInput(f"{what} is not a sound SQLite file ({exc})") from None
    finally:
        if not done:
            tmp.unlink(missing_ok=True)
    for stale in (db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")):
        stale.unlink(missing_ok=True)  # another database's log must never be replayed into this one
    os.replace(tmp, db)


def restore(
    db: Path,
    repo: Path,
    *,
    remote: str,
    branch: str,
    cache: Path | None,
    force: bool = False,
    limit: int = 4096 * 2**20,
) -> Lease:
    """Put the newest saved state at `db`: the branch's or the cache's, whichever has the higher generation."""
    check_args(repo, remote, branch, cache)
    if db.exists() and not force:
        raise ConfigError(f"{db} exists: restoring would replace it", "use --force to replace it with the saved state")
    commit, on_branch = _branch_state(repo, remote, branch)
    cached, note = _cache_state(cache)
    if cached is None and note and on_branch is None:
        raise InvalidInput(f"{note} and there is no state branch: refused", "look at the cache folder, or empty it")
    lease: Lease | None = None
    # A tie goes to the cache: the same state, already on disk.
    if cached is not None and (on_branch is None or cached.generation >= on_branch.generation):
        assert cache is not None
        try:
            if (cache / SNAPSHOT).stat().st_size > limit:
                raise InvalidInput(f"the cache's {SNAPSHOT} is larger than {limit / 2**20:,.0f} MiB: refused")
            _unpack((cache / SNAPSHOT).read_bytes(), cached, db, limit)
            lease = Lease(commit, cached.generation, "cache")
        except InvalidInput as exc:
            if on_branch is None:
                raise
            note = f"the cache was passed over: {exc}"
    if lease is None and on_branch is not None:
        size = _git(repo, "cat-file", "-s", f"refs/teamops/{branch}:{SNAPSHOT}", check=False)
        if size.returncode == 0 and int(size.stdout.strip() or 0) > limit:
            raise InvalidInput(f"the state branch's {SNAPSHOT} is larger than {limit / 2**20:,.0f} MiB: refused")
        packed = _git(repo, "show", f"refs/teamops/{branch}:{SNAPSHOT}", check=False)
        if packed.returncode != 0:
            raise InvalidInput(
                f"the state branch {branch!r} has no {SNAPSHOT}: refused",
                BRANCH_FIX.format(remote=remote, branch=branch),
            )
        _unpack(packed.stdout, on_branch, db, limit)
        lease = Lease(commit, on_branch.generation, "branch")
    if lease is None:
        lease = Lease(commit, 0, "new")
    lease.note = note
    lease_path(db).write_text(json.dumps(asdict(lease)), encoding="utf-8")
    return lease


def snapshot(db: Path) -> bytes:
    """A consistent, compact copy of the database (a killed run's WAL is recovered first), gzipped."""
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "snapshot.db"
        conn = sqlite3.connect(db)
        try:
            conn.execute("PRAGMA trusted_schema = OFF")
            conn.execute("VACUUM INTO ?", [str(copy)])
        finally:
            conn.close()
        return gzip.compress(copy.read_bytes(), compresslevel=6, mtime=0)


def save(db: Path, repo: Path, *, remote: str, branch: str, cache: Path | None, push: bool = True) -> StateMeta:
    """Save the database as the next generation: into the cache folder, then onto the branch if it is unchanged."""
    check_args(repo, remote, branch, cache)
    if not db.exists():
        raise ConfigError(f"{db} does not exist: nothing to save")
    try:
        lease = Lease(**json.loads(lease_path(db).read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError) as exc:
        raise ConfigError(
            f"no restore recorded for {db} ({type(exc).__name__})", "run `teamops state restore` first"
        ) from None
    if push:
        _, on_branch = _branch_state(repo, remote, branch)
        if on_branch is not None and on_branch.generation > lease.generation:
            raise ServiceError(
                f"the state branch {branch!r} holds generation {on_branch.generation}, newer than the "
                f"{lease.generation} this run restored: nothing was saved",
                "runs that share the state must be in one concurrency group (see docs/deploy.md)",
            )
    packed = snapshot(db)
    meta = StateMeta(
        lease.generation + 1,
        now_iso(),
        hashlib.sha256(packed).hexdigest(),
        len(packed),
        os.environ.get("GITHUB_RUN_ID", ""),
    )
    meta_bytes = (json.dumps(asdict(meta), indent=2) + "\n").encode()
    if cache is not None:
        cache.mkdir(parents=True, exist_ok=True)
        (cache / SNAPSHOT).write_bytes(packed)
        (cache / META).write_bytes(meta_bytes)
    if not push:
        return meta
    if len(packed) > GITHUB_FILE_LIMIT:
        raise ServiceError(
            f"the state is {len(packed) / 1e6:,.0f} MB compressed, over GitHub's 100 MB per file: not pushed",
            "see docs/deploy.md (state size) for a release asset or a self-hosted runner instead",
        )
    blob = _git(repo, "hash-object", "-w", "--stdin", input_bytes=packed).stdout.decode().strip()
    meta_blob = _git(repo, "hash-object", "-w", "--stdin", input_bytes=meta_bytes).stdout.decode().strip()
    tree_text = f"100644 blob {blob}\t{SNAPSHOT}\n100644 blob {meta_blob}\t{META}\n".encode()
    tree = _git(repo, "mktree", input_bytes=tree_text).stdout.decode().strip()
    env = {
        "GIT_AUTHOR_NAME": "teamops",
        "GIT_AUTHOR_EMAIL": "teamops@localhost",
        "GIT_COMMITTER_NAME": "teamops",
        "GIT_COMMITTER_EMAIL": "teamops@localhost",
    }
    message = f"teamops state, generation {meta.generation}".encode()
    new = _git(repo, "commit-tree", tree, input_bytes=message, env=env).stdout.decode().strip()
    lease_ref = f"--force-with-lease=refs/heads/{branch}:{lease.branch_commit}"
    pushed = _git(repo, "push", "--quiet", lease_ref, remote, f"{new}:refs/heads/{branch}", check=False)
    if pushed.returncode != 0:
        err = pushed.stderr.decode(errors="replace")
        if "stale info" in err or "rejected" in err or "fetch first" in err:
            raise ServiceError(
                f"the state branch {branch!r} moved since this run restored it: a newer state was saved; "
                f"this run's (generation {meta.generation}) was not pushed",
                "runs that share the state must be in one concurrency group (see docs/deploy.md)",
            )
        raise ServiceError(f"could not push the state branch {branch!r}: {err.strip()[:300]}")
    lease_path(db).write_text(json.dumps(asdict(Lease(new, meta.generation, lease.source))), encoding="utf-8")
    return meta


def describe(meta: StateMeta) -> str:
    size = f"{meta.bytes / 1e6:,.1f} MB" if meta.bytes >= 1e6 else f"{max(1, round(meta.bytes / 1e3))} kB"
    return f"generation {meta.generation}, {size} compressed, saved {meta.saved_at}"
