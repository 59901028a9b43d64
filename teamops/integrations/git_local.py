"""Read commits and line counts from a local clone with one streaming `git log --numstat -z`."""

from __future__ import annotations

import os
import queue
import re
import subprocess
import tempfile
import threading
from collections.abc import Iterable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from teamops.clock import iso_from_epoch
from teamops.errors import InvalidInput, TeamopsError
from teamops.records import CommitRecord, FileStat

# Each commit starts with a token no path can equal (git paths never start with "/") and no message
# can (%B always ends with a newline). Fields are NUL-separated and positional: nothing in a
# commit message or a path can contain NUL.
MARKER = b"/\x1e"
LOG_FORMAT = "/%x1e%x00%H%x00%P%x00%aN%x00%aE%x00%at%x00%ad%x00%ct%x00%B"
HEADER_FIELDS = 9
GIT = "git"  # the program every clone is read with (whatever kind of source the clone belongs to)
CHUNK = 1 << 20
PARALLEL_LOG_MIN = 2000  # below this, a second git process costs more than it saves


class GitError(TeamopsError):
    """git failed in a way the user must fix (missing git, broken repository)."""

    exit_code = 5


NO_GIT = ("git is not installed or not on PATH", "install git (e.g. apt-get install git) and run again")
SHA_RE = re.compile(r"^[0-9a-f]{4,64}$")


def checked_ref(value: str) -> str:
    """A branch, tag or revision from the user: never read by git as an option (`--output=FILE`)."""
    if not value or value.startswith("-") or any(ch in value for ch in "\0\n\r") or len(value) > 1000:
        raise InvalidInput(f"{value[:80]!r} is not a branch, tag or commit name")
    return value


def checked_sha(value: str) -> str:
    if not SHA_RE.match(value):
        raise InvalidInput(f"{value[:80]!r} is not a commit sha")
    return value


def _offset_minutes(raw: str) -> int:
    # `%ad` with --date=format:%z gives "+0130" or "-0800".
    if len(raw) == 5 and raw[0] in "+-" and raw[1:].isdigit():
        sign = -1 if raw[0] == "-" else 1
        return sign * (int(raw[1:3]) * 60 + int(raw[3:5]))
    return 0


def _git_env() -> dict[str, str]:
    env = dict(os.environ)
    env.update({"GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C", "GIT_PAGER": "cat"})
    env.pop("GIT_DIR", None)
    return env


class GitRepo:
    """A local clone, addressed by its top-level folder."""

    def __init__(
        self, root: Path, branch: str | None = None, head: str | None = None, shallow: bool | None = None
    ) -> None:
        self.root = root
        # What one `rev-parse` at open time learned, so an unchanged repo costs a single git call.
        self._branch = branch
        self._head = head
        self._shallow = shallow

    @classmethod
    def open(cls, path: Path) -> GitRepo:
        """The repository at `path`, or InvalidInput when there is none."""
        if not path.exists():
            raise InvalidInput(f"{path} does not exist", "give --repo a folder inside a git clone")
        try:
            out = subprocess.run(
                [
                    GIT,
                    "-C",
                    str(path),
                    "rev-parse",
                    "--show-toplevel",
                    "--is-shallow-repository",
                    "HEAD",
                    "--abbrev-ref",
                    "HEAD",
                ],
                capture_output=True,
                text=True,
                env=_git_env(),
                check=False,
            )
        except FileNotFoundError:
            raise GitError(*NO_GIT) from None
        lines = out.stdout.splitlines()
        if not lines:
            raise InvalidInput(
                f"{path} is not a git repository",
                "run teamops inside a clone, or pass --repo PATH or --repo owner/name",
            )
        shallow = lines[1] == "true" if len(lines) > 1 else None
        if out.returncode == 0 and len(lines) == 4:
            return cls(Path(lines[0]), branch=lines[3], head=lines[2], shallow=shallow)
        return cls(Path(lines[0]), shallow=shallow)  # an empty repository: no HEAD commit yet

    def _run(self, *args: str, check: bool = True, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        try:
            out = subprocess.run(
                [GIT, "-C", str(self.root), *args],
                input=stdin,
                capture_output=True,
                text=True,
                encoding="utf-8",
                errors="replace",
                env=_git_env(),
                check=False,
            )
        except FileNotFoundError:
            raise GitError(*NO_GIT) from None
        if check and out.returncode != 0:
            msg = out.stderr.strip().splitlines()[-1] if out.stderr.strip() else "failed"
            raise GitError(f"git {args[0]} in {self.root}: {msg}")
        return out

    def resolve(self, rev: str) -> str | None:
        """The commit a branch or rev points at; None for an empty repository or unknown name."""
        if self._head and rev in ("HEAD", self._branch):
            return self._head
        out = self._run(
            "rev-parse", "--verify", "--quiet", "--end-of-options", f"{checked_ref(rev)}^{{commit}}", check=False
        )
        return out.stdout.strip() or None if out.returncode == 0 else None

    def commit_time(self, rev: str) -> str | None:
        """The committer time of a tag, branch or commit (ISO with offset), or None when unknown."""
        sha = self.resolve(rev)
        if sha is None:
            return None
        out = self._run("log", "-1", "--format=%cI", "--end-of-options", sha, "--", check=False)
        return out.stdout.strip() or None

    def has_commit(self, sha: str) -> bool:
        out = self._run("cat-file", "-e", f"{checked_sha(sha)}^{{commit}}", check=False)
        return out.returncode == 0

    def present(self, shas: list[str]) -> set[str]:
        """Which of these commits the clone has, in one `git cat-file --batch-check`."""
        if not shas:
            return set()
        shas = [checked_sha(sha) for sha in shas]
        out = subprocess.run(
            [GIT, "-C", str(self.root), "cat-file", "--batch-check=%(objectname) %(objecttype)"],
            input="\n".join(shas) + "\n",
            capture_output=True,
            text=True,
            env=_git_env(),
            check=False,
        )
        return {
            parts[0] for line in out.stdout.splitlines() if len(parts := line.split()) == 2 and parts[1] == "commit"
        }

    def release_tags(self) -> list[tuple[str, str, str]]:
        """(tag, commit sha, ISO time) of every tag on a commit: an annotated tag's tagger date, else
        the commit's committer date, each with its own UTC offset."""
        fields = [
            "refname:strip=2",
            "objecttype",
            "objectname",
            "committerdate:iso-strict",
            "*objecttype",
            "*objectname",
            "taggerdate:iso-strict",
            "*committerdate:iso-strict",
        ]
        fmt = "%00".join(f"%({f})" for f in fields)
        tags = []
        for line in self._run("for-each-ref", f"--format={fmt}", "refs/tags").stdout.splitlines():
            name, kind, obj, committed, target_kind, target, tagged, target_committed = (line.split("\0") + [""] * 8)[
                :8
            ]
            if kind == "commit":
                tags.append((name, obj, committed))
            elif kind == "tag" and target_kind == "commit":
                tags.append((name, target, tagged or target_committed))
        return tags

    def tag_refs_stamp(self) -> str | None:
        """When tags were last written (file times of refs/tags and packed-refs): the same means no git call
        is needed to know they have not changed; None for a worktree or submodule (always look)."""
        git_dir = self.root / ".git"
        if not git_dir.is_dir():
            return None
        return ":".join(
            str(path.stat().st_mtime_ns) if path.exists() else "-"
            for path in (git_dir / "packed-refs", git_dir / "refs" / "tags")
        )

    def parents_between(self, include: list[str], exclude: list[str]) -> dict[str, list[str]]:
        """Commit → parents for what `include` reaches and `exclude` does not, in one `git rev-list`."""
        if not include:
            return {}
        lines = [checked_sha(s) for s in include] + [f"^{checked_sha(s)}" for s in exclude]
        out = self._run("rev-list", "--parents", "--stdin", stdin="\n".join(lines) + "\n").stdout
        graph: dict[str, list[str]] = {}
        for line in out.splitlines():
            sha, _, parents = line.partition(" ")
            graph[sha] = parents.split()
        return graph

    def tags_merged_into(self, sha: str) -> set[str]:
        """The tags whose commits `sha` has in its history (itself included)."""
        return set(self._run("tag", "--merged", checked_sha(sha)).stdout.split())

    def non_merges_between(self, include: str, exclude: str | None) -> list[str]:
        """`git rev-list --no-merges include ^exclude`: exactly what `git log --no-merges A..B` lists."""
        revs = [checked_sha(include), *([f"^{checked_sha(exclude)}"] if exclude else [])]
        return self._run("rev-list", "--no-merges", "--end-of-options", *revs, "--").stdout.split()

    def shallow_commits(self) -> int | None:
        """How many commits a shallow clone has (None when the history is whole)."""
        if self._shallow is None:
            self._shallow = self._run("rev-parse", "--is-shallow-repository", check=False).stdout.strip() == "true"
        if not self._shallow:
            return None
        return int(self._run("rev-list", "--count", "HEAD", check=False).stdout.strip() or 0)

    def current_branch(self) -> str:
        """The checked-out branch name, or HEAD when detached (as in CI checkouts)."""
        if self._branch:
            return self._branch
        out = self._run("symbolic-ref", "--quiet", "--short", "HEAD", check=False)
        return out.stdout.strip() or "HEAD"

    def origin_url(self) -> str:
        """Where the `origin` remote points ("" without one), so a clone and its service share a repository."""
        return str(self._run("config", "--get", "remote.origin.url", check=False).stdout.strip())

    def rev_list(self, include: str, exclude: Iterable[str] = (), **filters: str | None) -> list[str]:
        """Commits reachable from `include` and not from `exclude`, newest first."""
        revs = [checked_ref(include), *(f"^{checked_sha(e)}" for e in exclude)]
        args = ["rev-list", *_date_filters(filters), "--end-of-options", *revs, "--"]
        return self._run(*args).stdout.split()

    def rev_list_many(self, include: list[str], exclude: list[str], **filters: str | None) -> list[str]:
        """Commits reachable from any of `include` and from none of `exclude`, newest first (one git call)."""
        if not include:
            return []
        lines = [checked_sha(s) for s in include] + [f"^{checked_sha(s)}" for s in exclude]
        args = ["rev-list", *_date_filters(filters), "--stdin"]
        return self._run(*args, stdin="\n".join(lines) + "\n").stdout.split()

    def count(self, include: str, exclude: Iterable[str] = (), **filters: str | None) -> int:
        """How many commits `include` reaches and `exclude` does not (a shard plan's sizes)."""
        revs = [checked_ref(include), *(f"^{checked_sha(e)}" for e in exclude)]
        args = ["rev-list", "--count", *_date_filters(filters), "--end-of-options", *revs, "--"]
        return int(self._run(*args).stdout.strip() or 0)

    def log(self, shas: list[str]) -> Iterator[CommitRecord]:
        """Stream exactly these commits with per-file line counts (a walk names them first: `rev_list`).

        A long list is split over one git process per core (git's diffs are the cost): the first part
        streams, the others write to temporary files that are read after it. No shas, no commits (git would
        read an empty list as HEAD).
        """
        if not shas:
            return
        with ExitStack() as running:
            procs: list[tuple[subprocess.Popen[bytes], Any]] = []
            for i, part in enumerate(_split(shas, _log_workers(len(shas)))):
                spill = running.enter_context(tempfile.TemporaryFile(prefix="teamops-log-")) if i else None
                proc = self._log_process(part, spill)
                running.callback(self._finish, proc, True)
                procs.append((proc, spill))
            for proc, spill in procs:
                if spill is None:
                    assert proc.stdout is not None
                    yield from parse_log_stream(_chunks(proc.stdout.fileno()))
                    self._finish(proc)
                else:
                    self._finish(proc)
                    spill.seek(0)
                    yield from parse_log_stream(_file_chunks(spill))

    def _log_process(self, shas: list[str], spill: Any) -> subprocess.Popen[bytes]:
        """One `git log --numstat -z` in LOG_FORMAT of these shas, writing to a pipe (or to `spill`, a file)."""
        args = [
            GIT,
            "-C",
            str(self.root),
            "-c",
            "log.showSignature=false",
            "log",
            "--numstat",
            "-z",
            "-M",
            "--no-color",
            "--no-ext-diff",
            "--no-textconv",
            "--use-mailmap",
            "--date=format:%z",
            f"--format={LOG_FORMAT}",
            "--no-walk=unsorted",
            "--stdin",
            "--",
        ]
        try:
            proc = subprocess.Popen(
                args,
                stdin=subprocess.PIPE,
                stdout=spill if spill is not None else subprocess.PIPE,
                stderr=subprocess.PIPE,
                env=_git_env(),
            )
        except FileNotFoundError:
            raise GitError(*NO_GIT) from None
        _feed_stdin(proc, ("\n".join(shas) + "\n").encode())
        return proc

    def _finish(self, proc: subprocess.Popen[bytes], quiet: bool = False) -> None:
        """Wait for a git log (killed when its reader stopped early); its error, unless `quiet`."""
        if proc.returncode is not None:
            return
        if quiet and proc.poll() is None:
            proc.kill()
        code = proc.wait()
        assert proc.stderr is not None
        err = proc.stderr.read().decode("utf-8", "replace").strip()
        proc.stderr.close()
        if proc.stdout is not None:
            proc.stdout.close()
        if not quiet and code not in (0, -9) and err:
            raise GitError(f"git log in {self.root}: {err.splitlines()[-1]}")

    def show_files(self, sha: str) -> list[tuple[str, str]]:
        """(path, patch) pairs of one commit, for estimators that read the diff itself."""
        return self.show_many([sha]).get(sha, [])

    def show_many(self, shas: list[str]) -> dict[str, list[tuple[str, str]]]:
        """(path, patch) pairs of each commit, from one `git show` for all of them."""
        if not shas:
            return {}
        args = ["show", "--format=%x00%x00%H", "--patch", "-M", "--no-color", "--no-ext-diff", "--end-of-options"]
        out = self._run(*args, *(checked_sha(s) for s in shas), "--").stdout
        found: dict[str, list[tuple[str, str]]] = {}
        for part in out.split("\0\0")[1:]:
            sha, _, body = part.partition("\n")
            files: list[tuple[str, str]] = []
            for chunk in re.split(r"(?m)^diff --git ", body):
                if not chunk.strip():
                    continue
                header = chunk.split("\n", 1)[0]
                match = re.match(r'"?a/(.*?)"? "?b/(.*?)"?$', header)
                path = match.group(2) if match else header
                files.append((path, "diff --git " + chunk))
            found[sha.strip()] = files
        return found


def unignored_in_clone(path: Path) -> Path | None:
    """The clone a file would sit in without git ignoring it (a database a `git add .` would commit), else None."""
    try:
        repo = GitRepo.open(path.resolve().parent)
    except TeamopsError:
        return None
    ignored = repo._run("check-ignore", "-q", "--", str(path.resolve()), check=False)
    return None if ignored.returncode == 0 else repo.root


def _log_workers(commits: int) -> int:
    """git processes for a walk of this many commits: one per usable core, up to four, none extra for a short one."""
    if commits < PARALLEL_LOG_MIN:
        return 1
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        cores = os.cpu_count() or 1
    return max(1, min(4, cores))


def _file_chunks(spill: Any) -> Iterator[bytes]:
    while chunk := spill.read(CHUNK):
        yield chunk


def _split(items: list[str], parts: int) -> list[list[str]]:
    """`parts` contiguous runs of nearly equal length (order kept)."""
    size = -(-len(items) // parts)
    return [items[i : i + size] for i in range(0, len(items), size)]


def _feed_stdin(proc: subprocess.Popen[bytes], data: bytes) -> None:
    """Write shas from a thread so a large list cannot deadlock against git's output."""

    def feed() -> None:
        assert proc.stdin is not None
        try:
            proc.stdin.write(data)
        except BrokenPipeError:  # pragma: no cover - git died; its stderr says why
            pass
        finally:
            proc.stdin.close()

    threading.Thread(target=feed, daemon=True).start()


def _date_filters(filters: dict[str, str | None]) -> list[str]:
    out = []
    if filters.get("since"):
        out.append(f"--since={filters['since']}")
    if filters.get("until"):
        out.append(f"--until={filters['until']}")
    return out


def _chunks(fd: int) -> Iterator[bytes]:
    """Raw output, drained by a thread so git never waits while we parse or write.

    The thread reads the file descriptor itself (os.read), never a buffered file object: a daemon
    thread blocked inside a buffered read would hold its lock and abort the interpreter when the
    process exits early (a full disk, an error in the writer).
    """

    chunks: queue.Queue[bytes | None] = queue.Queue(maxsize=8)

    def drain() -> None:
        try:
            while chunk := os.read(fd, CHUNK):
                chunks.put(chunk)
        except OSError:  # the consumer closed the pipe early
            pass
        finally:
            chunks.put(None)

    threading.Thread(target=drain, daemon=True).start()
    while (chunk := chunks.get()) is not None:
        yield chunk


def parse_log_stream(chunks: Iterable[bytes]) -> Iterator[CommitRecord]:
    """Turn LOG_FORMAT plus `--numstat -z` output into CommitRecords, a chunk of commits at a time."""
    pending: list[bytes] = []
    rest = b""
    for chunk in chunks:
        tokens = (rest + chunk).split(b"\0")
        rest = tokens.pop()
        if pending:
            tokens = pending + tokens
        # Commits are complete up to the last marker; the tail waits for the next chunk.
        try:
            last = len(tokens) - 1 - tokens[::-1].index(MARKER)
        except ValueError:
            pending = tokens
            continue
        yield from _parse_tokens(tokens, 0, last)
        pending = tokens[last:]
    if rest:
        pending.append(rest)
    if pending:
        yield from _parse_tokens(pending, 0, len(pending))


def _parse_tokens(tokens: list[bytes], start: int, stop: int) -> Iterator[CommitRecord]:
    """Commits found in tokens[start:stop], which holds whole commits only."""
    i = start
    index = tokens.index
    while i < stop:
        if tokens[i] != MARKER:
            i += 1
            continue
        try:
            nxt = index(MARKER, i + 1, stop)
        except ValueError:
            nxt = stop
        head = tokens[i + 1 : i + HEADER_FIELDS]
        if len(head) < HEADER_FIELDS - 1:
            head += [b""] * (HEADER_FIELDS - 1 - len(head))
        # One decode for all eight fields: NUL cannot occur inside any of them.
        sha, parents, name, email, at, offset, ct, body = b"\0".join(head).decode("utf-8", "replace").split("\0")
        files: list[FileStat] = []
        adds = dels = 0
        j = i + HEADER_FIELDS
        while j < nxt:
            entry = tokens[j].lstrip(b"\n")
            j += 1
            if not entry:
                continue
            added, _, tail = entry.partition(b"\t")
            deleted, _, path = tail.partition(b"\t")
            old_path = None
            if not path:  # a rename or copy: old and new path follow as their own tokens
                old_path = tokens[j].decode("utf-8", "replace") if j < nxt else None
                path = tokens[j + 1] if j + 1 < nxt else b""
                j += 2
            if added == b"-":
                files.append(FileStat(path.decode("utf-8", "replace"), 0, 0, True, old_path))
            else:
                a, d = int(added), int(deleted)
                adds += a
                dels += d
                files.append(FileStat(path.decode("utf-8", "replace"), a, d, False, old_path))
        yield CommitRecord(
            sha=sha,
            parents=parents.split(),
            author_name=name,
            author_email=email.lower(),
            authored_at=iso_from_epoch(int(at or 0)),
            author_tz_offset=_offset_minutes(offset),
            committed_at=iso_from_epoch(int(ct or 0)),
            message=body.rstrip("\n"),
            files=files,
            additions_total=adds,
            deletions_total=dels,
        )
        i = nxt
