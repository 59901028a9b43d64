"""`teamops state restore|save`: the database carried from one CI run to the next, never older than it was."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from teamops.cli.options import group_help
from teamops.cli.state import state

app = typer.Typer(
    help=group_help(
        "Keep the database between CI runs: on a git branch (durable) and in a cache folder (fast).",
        "teamops state restore --cache-dir .teamops-state",
    ),
    no_args_is_help=True,
)

BranchOpt = Annotated[str, typer.Option("--branch", help="The branch that holds the state (created on first save).")]
RemoteOpt = Annotated[str, typer.Option("--remote", help="The git remote of that branch.")]
# Plain strings, checked by teamops.state (a path type would stat a hostile value before any check).
CacheOpt = Annotated[
    str | None, typer.Option("--cache-dir", help="A folder actions/cache keeps: restored from when it is newer.")
]
RepoOpt = Annotated[str, typer.Option("--repo", help="The git checkout whose remote holds the branch.")]


@app.command("restore")
def restore_cmd(
    ctx: typer.Context,
    branch: BranchOpt = "teamops-state",
    remote: RemoteOpt = "origin",
    cache_dir: CacheOpt = None,
    repo: RepoOpt = ".",
    force: Annotated[bool, typer.Option("--force", help="Replace a database that is already there.")] = False,
) -> None:
    """Put the newest saved state in place of the database: the branch's or the cache's, whichever is newer.

    With neither, the run starts a new database. A branch or cache whose state cannot be read, is
    larger than [store] state_max_mb or holds a schema teamops does not create is refused (exit 5);
    an unreadable cache falls back to the branch. Nothing is changed on the branch.

    \b
    Example:
      teamops state restore --cache-dir .teamops-state
    """
    from teamops import state as saved

    st = state(ctx)
    out = st.output(None)
    db = st.config.db_path()
    cache = Path(cache_dir) if cache_dir else None
    limit = st.config.store.state_max_mb * 2**20
    lease = saved.restore(db, Path(repo), remote=remote, branch=branch, cache=cache, force=force, limit=limit)
    if lease.note:
        out.message(f"warning: {lease.note}")
    where = {"branch": f"the {branch!r} branch", "cache": f"the cache folder {cache_dir}", "new": ""}[lease.source]
    if lease.source == "new":
        out.message(f"no saved state on {branch!r} or in the cache: this run starts a new database")
    else:
        out.message(f"restored generation {lease.generation} from {where} to {db}")


@app.command("save")
def save_cmd(
    ctx: typer.Context,
    branch: BranchOpt = "teamops-state",
    remote: RemoteOpt = "origin",
    cache_dir: CacheOpt = None,
    repo: RepoOpt = ".",
    no_push: Annotated[bool, typer.Option("--no-push", help="Only write the cache folder.")] = False,
) -> None:
    """Save the database as the next generation: to the cache folder, then to the branch if no newer state is there.

    Run it after every run, failed or cancelled ones too: what they sent is recorded, so it is never sent again.

    \b
    Example:
      teamops state save --cache-dir .teamops-state
    """
    from teamops import state as saved

    st = state(ctx)
    out = st.output(None)
    cache = Path(cache_dir) if cache_dir else None
    meta = saved.save(st.config.db_path(), Path(repo), remote=remote, branch=branch, cache=cache, push=not no_push)
    target = (
        "the cache folder" if no_push else f"the {branch!r} branch" + (" and the cache folder" if cache_dir else "")
    )
    out.message(f"saved {saved.describe(meta)} to {target}")
