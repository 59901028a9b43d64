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
    last_main = None
    made = 0
    i = 0
    while made < commits:
        i += 1
        is_merge = merge_every and i % merge_every == 0 and last_main is not None and made + 2 <= commits
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
        if last_main is not None:
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


if __name__ == "__main__":
    import sys

    build_repo(Path(sys.argv[1]), int(sys.argv[2]))
