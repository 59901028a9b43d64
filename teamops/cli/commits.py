"""`teamops sync-commits`: pull commits of the configured repositories (or the current one)."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer

from teamops.cli.options import FormatOpt, SinceOpt, UntilOpt, fmt_value
from teamops.cli.state import state
from teamops.dates import range_bounds
from teamops.errors import UsageError
from teamops.sync import SyncResult


def summary_line(r: SyncResult) -> str:
    """The one line a sync ends with, e.g. `synced 1,204 new commits from acme/api in 3.1 s`."""
    where = f"{r.repo} ({', '.join(r.branches)})" if r.branches else r.repo
    extra = ""
    if r.requests is not None:
        extra = f", {r.requests:,} requests"
        if r.rate_limit_remaining is not None:
            extra += f", {r.rate_limit_remaining:,} left"
    if not r.branches:
        return f"{r.repo}: no commits yet (empty repository)"
    if r.unchanged:
        return f"{where}: up to date, 0 new commits ({r.seconds:.1f} s{extra})"
    noun = "commit" if r.new == 1 else "commits"
    return f"synced {r.new:,} new {noun} from {where} in {r.seconds:.1f} s{extra and f' ({extra[2:]})'}"


def sync_commits(
    ctx: typer.Context,
    repo: Annotated[
        list[str] | None,
        typer.Option("--repo", help="A local path (repeatable); default: configured repos, else '.'"),
    ] = None,
    branch: Annotated[
        list[str] | None,
        typer.Option("--branch", "-b", help="Branch to walk (repeatable); default: configured or HEAD."),
    ] = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    full: Annotated[
        bool,
        typer.Option("--full", help="Re-walk the whole history instead of stopping at known commits."),
    ] = False,
    fmt: FormatOpt = None,
) -> None:
    """Pull commits with line counts into the database; incremental, idempotent and resumable.

    \b
    Examples:
      teamops sync-commits                      # the repository you stand in
      teamops sync-commits --repo ../website    # another clone
      teamops sync-commits --since 2021-01-01   # a backfill window
    """
    from teamops.integrations.git_local import GitRepo
    from teamops.sync import resolve_repo_arg, sync_git_repo

    st = state(ctx)
    out = st.output(fmt_value(fmt))
    lo, hi = range_bounds(since, until)
    cfg = st.config
    targets: list[tuple[Path, list[str], str | None]] = []
    if repo:
        for value in repo:
            kind, where = resolve_repo_arg(value)
            if kind == "github":
                raise UsageError(
                    f"{value!r} is not a local folder",
                    "give the path of a local clone",
                )
            targets.append((Path(where), list(branch or []), None))
    elif cfg.repos:
        for rc in cfg.repos:
            targets.append((cfg.repo_path(rc), list(branch or rc.branches), rc.name))
    else:
        targets.append((Path.cwd(), list(branch or []), None))
    db = st.db
    results = []
    for path, branches, name in targets:
        git_repo = GitRepo.open(path)
        with out.progress(f"commits {git_repo.root.name}") as progress:
            result = sync_git_repo(
                db,
                git_repo,
                branches or None,
                name=name,
                since=lo,
                until=hi,
                full=full,
                progress=progress,
            )
        results.append(result)
        for line in result.details:
            out.detail(f"  {line}")
        out.message(summary_line(result))
    if out.fmt == "json":
        out.data({"report": "sync-commits", "repos": [asdict(r) for r in results]}, "")


def register(app: typer.Typer) -> None:
    app.command("sync-commits")(sync_commits)
