"""Build large synthetic git repositories quickly with `git fast-import` (tests and benchmarks)."""

from __future__ import annotations

import subprocess
from pathlib import Path

AUTHORS = [
    ("Alice Liddell", "alice@acme.io"),
    ("Bob Builder", "bob@acme.io"),
    ("Chloé Zhang", "chloe@acme.io"),
    ("Dmitri Ivanov", "12345+dmitri@users.noreply.github.com"),
    ("Eve Example", "eve@contractor.dev"),
]
START = 1_600_000_000  # 2020-09-13


def fast_import_stream(commits: int, merge_every: int = 50, files: int = 200) -> bytes:
    """A history of `commits` commits on main, with a side-branch commit merged every `merge_every`."""
    out: list[bytes] = []
    mark = 0
    ts = START
    contents: dict[str, int] = {}
    last_main: int = 0  # 0: no commit on main yet
    made = 0
    i = 0
    while made < commits:
        i += 1
        is_merge = merge_every and i % merge_every == 0 and last_main and made + 2 <= commits
        name, email = AUTHORS[i % len(AUTHORS)]
        ts += 3600 + (i * 7919) % 7200
        if is_merge:
            # one commit on a side branch, then a merge of it into main
            mark += 1
            side = mark
            path = f"side/f{i % 17}.txt"
            contents[path] = contents.get(path, 0) + 1
            body = "".join(f"side {i} line {n}\n" for n in range(contents[path] % 7 + 1)).encode()
            msg = f"side work {i}\n".encode()
            out.append(b"commit refs/heads/side\nmark :%d\n" % side)
            out.append(f"author {name} <{email}> {ts} +0000\ncommitter {name} <{email}> {ts} +0000\n".encode())
            out.append(b"data %d\n%s" % (len(msg), msg))
            out.append(b"from :%d\n" % last_main)
            out.append(b"M 100644 inline %s\ndata %d\n%s\n" % (path.encode(), len(body), body))
            mark += 1
            msg = f"Merge branch 'side' ({i})\n".encode()
            out.append(b"commit refs/heads/main\nmark :%d\n" % mark)
            out.append(
                f"author {name} <{email}> {ts + 60} +0000\ncommitter {name} <{email}> {ts + 60} +0000\n".encode()
            )
            out.append(b"data %d\n%s" % (len(msg), msg))
            out.append(b"from :%d\nmerge :%d\n" % (last_main, side))
            last_main = mark
            made += 2
            continue
        mark += 1
        msg = f"change {i}: adjust module {i % files}\n".encode()
        if i % 10 == 0:
            msg += f"\nCo-authored-by: {AUTHORS[(i + 1) % len(AUTHORS)][0]} <{AUTHORS[(i + 1) % len(AUTHORS)][1]}>\n".encode()
        out.append(b"commit refs/heads/main\nmark :%d\n" % mark)
        out.append(f"author {name} <{email}> {ts} +0100\ncommitter {name} <{email}> {ts} +0100\n".encode())
        out.append(b"data %d\n%s" % (len(msg), msg))
        if last_main:
            out.append(b"from :%d\n" % last_main)
        for k in range(1 + i % 3):
            path = f"src/mod{(i + k * 31) % files}.py"
            contents[path] = contents.get(path, 0) + 1
            body = "".join(f"line {n} v{contents[path]}\n" for n in range(contents[path] % 20 + 1)).encode()
            out.append(b"M 100644 inline %s\ndata %d\n%s\n" % (path.encode(), len(body), body))
        last_main = mark
        made += 1
    return b"".join(out)


def build_repo(path: Path, commits: int, merge_every: int = 50) -> Path:
    """Create a repository at `path` with `commits` commits on branch main, checked out."""
    path.mkdir(parents=True, exist_ok=True)
    subprocess.run(["git", "init", "-q", "-b", "main", str(path)], check=True)
    subprocess.run(
        ["git", "-C", str(path), "fast-import", "--quiet"],
        input=fast_import_stream(commits, merge_every),
        check=True,
    )
    subprocess.run(["git", "-C", str(path), "checkout", "-q", "-f", "main"], check=True)
    return path


BOT = ("dependabot[bot]", "49699333+dependabot[bot]@users.noreply.github.com")


class GitHubShaped:
    """A history shaped like a GitHub project, and what it holds (the ground truth the tests compare with).

    Main takes pull requests merged with GitHub's merge subject (a two-commit branch), squashed as
    `Title (#N)` (sometimes `Title(#N)`), merged with an edited `Title (#N)` subject, or merged from a
    `pull/N` ref; dependabot's bumps; a release tag every ~50 commits; from the third release on, a
    maintenance line `1.K.x` whose fix and version bump only its own tag `v1.K.1` reaches.
    """

    def __init__(self, commits: int) -> None:
        self.commits = commits
        self.pulls: dict[int, str] = {}  # number -> how it was merged: merge, squash, edited, ref
        self.tags: list[str] = []
        self.releases = 0
        self.bot_commits = 0
        self._out: list[bytes] = []
        self._mark = 0
        self._i = 0
        self._files: dict[str, int] = {}

    def _commit(self, ref: str, msg: str, parents: list[int], who: tuple[str, str] | None = None) -> int:
        self._mark += 1
        self._i += 1
        name, email = who or AUTHORS[self._i % len(AUTHORS)]
        ts = START + self._i * 3600
        data = msg.encode()
        self._out.append(f"commit {ref}\nmark :{self._mark}\n".encode())
        self._out.append(f"author {name} <{email}> {ts} +0000\ncommitter {name} <{email}> {ts} +0000\n".encode())
        self._out.append(b"data %d\n%s\n" % (len(data), data))
        for j, parent in enumerate(parents):
            self._out.append(f"{'from' if j == 0 else 'merge'} :{parent}\n".encode())
        for k in range(1 + self._i % 3):  # 1-3 files, each edit rewriting a file of up to 20 lines
            path = f"src/mod{(self._i + k * 31) % 200}.py"
            self._files[path] = version = self._files.get(path, 0) + 1
            body = "".join(f"line {n} v{version}\n" for n in range(version % 20 + 1)).encode()
            self._out.append(b"M 100644 inline %s\ndata %d\n%s\n" % (path.encode(), len(body), body))
        return self._mark

    def stream(self) -> bytes:
        head: int | None = None
        made, k = 0, 100
        while made < self.commits:
            k += 1
            base = [head] if head else []
            shape = k % 7
            if shape in (0, 3) and head:  # GitHub's merge commit of a two-commit branch
                side = self._commit(f"refs/heads/topic{k}", f"Work on topic {k}", base)
                side = self._commit(f"refs/heads/topic{k}", f"More on topic {k}", [side])
                subject = f"Merge pull request #{k} from someone/topic{k}\n\nTopic {k}"
                head = self._commit("refs/heads/main", subject, [head, side])
                self.pulls[k], made = "merge", made + 3
            elif shape == 5 and head:  # a merge whose subject was edited, or one of a pull/N ref
                side = self._commit(f"refs/heads/topic{k}", f"Change on a branch {k}", base)
                edited = k % 2 == 0
                subject = f"Edited title {k} (#{k})" if edited else f"Merge remote-tracking branch 'origin/pull/{k}'"
                head = self._commit("refs/heads/main", subject, [head, side])
                self.pulls[k], made = ("edited" if edited else "ref"), made + 2
            elif shape == 6:
                head = self._commit("refs/heads/main", f"Bump thing from 1.{k} to 1.{k + 1}", base, BOT)
                self.bot_commits, made = self.bot_commits + 1, made + 1
            else:  # squash-merged
                sep = "" if k % 11 == 0 else " "
                head = self._commit("refs/heads/main", f"Change number {k}{sep}(#{k})", base)
                self.pulls[k], made = "squash", made + 1
            while self.releases < made // 50 and head:
                self.releases += 1
                minor = self.releases
                self._tag(f"v1.{minor}.0", head)
                if minor >= 3 and made + 2 <= self.commits:  # a maintenance line the main branch never merges
                    fix = self._commit(f"refs/heads/1.{minor}.x", f"Fix a regression in 1.{minor}", [head])
                    bump = self._commit(f"refs/heads/1.{minor}.x", f"Release 1.{minor}.1", [fix])
                    self._tag(f"v1.{minor}.1", bump)
                    made += 2
        return b"".join(self._out)

    def _tag(self, name: str, mark: int) -> None:
        self._out.append(f"reset refs/tags/{name}\nfrom :{mark}\n\n".encode())
        self.tags.append(name)

    def build(self, path: Path) -> Path:
        path.mkdir(parents=True, exist_ok=True)
        subprocess.run(["git", "init", "-q", "-b", "main", str(path)], check=True)
        subprocess.run(["git", "-C", str(path), "fast-import", "--quiet"], input=self.stream(), check=True)
        subprocess.run(["git", "-C", str(path), "checkout", "-q", "-f", "main"], check=True)
        return path


if __name__ == "__main__":
    import sys

    if sys.argv[3:] == ["--github"]:
        GitHubShaped(int(sys.argv[2])).build(Path(sys.argv[1]))
    else:
        build_repo(Path(sys.argv[1]), int(sys.argv[2]))
