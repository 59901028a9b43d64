"""`teamops sync-commits`: pull commits of the configured repositories (or the current one)."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from teamops.cli.options import FormatOpt, SinceOpt, UntilOpt, fmt_value
from teamops.cli.output import Output
from teamops.cli.state import AppState, state
from teamops.clients import github_client
from teamops.dates import range_bounds
from teamops.errors import ConfigError, InvalidInput, TeamopsError
from teamops.wording import count

if TYPE_CHECKING:
    from teamops.integrations.git_local import GitRepo
    from teamops.sync import SyncResult


def summary_line(r: SyncResult) -> str:
    """The one line a sync ends with, e.g. `synced 1,204 new commits from acme/api in 3.1 s`."""
    where = f"{r.repo} ({', '.join(r.branches)})" if r.branches else r.repo
    extra = ""
    if r.requests is not None:
        extra = f", {r.requests:,} request{'s' if r.requests != 1 else ''}"
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
        typer.Option(
            "--repo",
            help="A local path or a GitHub owner/name (repeatable); default: configured repos, else '.'",
        ),
    ] = None,
    branch: Annotated[
        list[str] | None,
        typer.Option("--branch", "-b", help="Branch to walk (repeatable); default: configured, else HEAD."),
    ] = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    full: Annotated[
        bool, typer.Option("--full", help="Re-walk the whole history instead of stopping at known commits.")
    ] = False,
    event: Annotated[
        str | None,
        typer.Option("--event", help="Ingest a push event payload from FILE ('-' for stdin), e.g. $GITHUB_EVENT_PATH."),
    ] = None,
    event_name: Annotated[
        str | None, typer.Option("--event-name", help="The event's name (default: $GITHUB_EVENT_NAME).")
    ] = None,
    signature: Annotated[
        str | None,
        typer.Option(
            "--signature",
            help="X-Hub-Signature-256 of the payload (required when GITHUB_WEBHOOK_SECRET is set).",
        ),
    ] = None,
    fmt: FormatOpt = None,
) -> None:
    """Pull commits with line counts into the database; incremental, idempotent and resumable.

    \b
    Examples:
      teamops sync-commits                       # the repository you stand in
      teamops sync-commits --repo ../website     # another clone
      teamops sync-commits --repo acme/api       # from GitHub ($GITHUB_TOKEN)
      teamops sync-commits --since 2021-01-01    # a backfill window
      teamops sync-commits --event "$GITHUB_EVENT_PATH"   # a push, in GitHub Actions
    """
    from teamops.sync import resolve_repo_arg

    st = state(ctx)
    out = st.output(fmt_value(fmt))
    if event is not None:
        _ingest_event(st, out, event, event_name, signature, repo)
        return
    lo, hi = range_bounds(since, until)
    cfg = st.config
    targets: list[tuple[str, str, list[str], str | None]] = []
    if repo:
        for value in repo:
            kind, where = resolve_repo_arg(value)
            targets.append((kind, where, list(branch or []), None))
    elif cfg.repos:
        for rc in cfg.repos:
            if rc.github:
                targets.append(("github", rc.github, list(branch or rc.branches), rc.name))
            else:
                targets.append(("path", str(cfg.repo_path(rc)), list(branch or rc.branches), rc.name))
    else:
        targets.append(("path", str(Path.cwd()), list(branch or []), None))
    db = st.db
    client = github_client(cfg) if any(kind == "github" for kind, *_ in targets) else None
    results = []
    for kind, where, branches, name in targets:
        if kind == "github":
            from teamops.github_sync import sync_github_repo

            assert client is not None
            with out.progress(f"commits {where}") as progress:
                result = sync_github_repo(
                    db, client, where, branches or None, since=lo, until=hi, full=full, progress=progress
                )
        else:
            from teamops.integrations.git_local import GitRepo
            from teamops.sync import sync_git_repo

            git_repo = GitRepo.open(Path(where))
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


def _ingest_event(
    st: AppState,
    out: Output,
    path: str,
    event_name: str | None,
    signature: str | None,
    repo: list[str] | None,
) -> None:
    """`--event FILE`: verify, parse and store a push; fill line counts where it can."""
    import os
    import sys

    from teamops.github_sync import ingest_push
    from teamops.integrations.github_events import check_signature, parse_push

    try:
        body = sys.stdin.buffer.read() if path == "-" else Path(path).read_bytes()
    except OSError as exc:
        raise InvalidInput(f"cannot read the event file {path}: {exc.strerror}") from None
    secret = os.environ.get("GITHUB_WEBHOOK_SECRET") or None
    if signature and not secret:
        raise ConfigError("--signature was given but GITHUB_WEBHOOK_SECRET is not set, so it cannot be checked")
    check_signature(secret, body, signature)
    push = parse_push(body, event_name or os.environ.get("GITHUB_EVENT_NAME") or None)
    checkout = _event_checkout(repo, push.repo)
    client = github_client(st.config, required=False) if push.commits else None
    result = ingest_push(st.db, push, checkout, client)
    where = f"{push.repo} ({push.branch or push.ref})"
    if result.note:
        text = f"ingested push to {where}: 0 commits ({result.note})"
    else:
        parts = []
        if result.from_checkout:
            parts.append(f"{result.from_checkout} line counts from the checkout")
        if result.from_api:
            parts.append(f"{result.from_api} from the API in {count(result.requests, 'request')}")
        if result.counts_missing:
            parts.append(f"{result.counts_missing} without line counts until the next sync")
        if result.skipped_not_distinct:
            parts.append(f"{result.skipped_not_distinct} not distinct, skipped")
        noun = "commit" if result.stored == 1 else "commits"
        text = f"ingested push to {where}: {result.stored} {noun}" + (f" ({'; '.join(parts)})" if parts else "")
    out.message(text)
    if out.fmt == "json":
        out.data({"report": "sync-commits-event", **asdict(result)}, "")


def _event_checkout(repo: list[str] | None, full_name: str) -> GitRepo | None:
    """The clone to read line counts from: --repo PATH, $GITHUB_WORKSPACE, or the current folder."""
    import os

    from teamops.integrations.git_local import GitRepo
    from teamops.sync import resolve_repo_arg

    candidates = [r for r in (repo or []) if resolve_repo_arg(r)[0] == "path"]
    explicit = bool(candidates)
    if not explicit and os.environ.get("GITHUB_WORKSPACE"):
        candidates.append(os.environ["GITHUB_WORKSPACE"])
    for where in candidates:
        return GitRepo.open(Path(where))
    try:
        here = GitRepo.open(Path.cwd())
    except TeamopsError:
        return None
    return here if (here.github_name() or "").lower() == full_name.lower() else None


def sync_tasks(
    ctx: typer.Context,
    full: Annotated[
        bool, typer.Option("--full", help="Re-read every task (also marks tasks moved out or deleted).")
    ] = False,
    fmt: FormatOpt = None,
) -> None:
    """Mirror ClickUp tasks, sprints, points, hours, RACI fields and status history.

    \b
    Examples:
      teamops sync-tasks            # incremental: tasks updated since the last run
      teamops sync-tasks --full     # every task again
    """
    from teamops.clickup_sync import sync_clickup
    from teamops.clients import clickup_client

    st = state(ctx)
    out = st.output(fmt_value(fmt))
    cfg = st.config
    client = clickup_client(cfg)
    try:
        with out.progress("tasks") as progress:
            result = sync_clickup(st.db, cfg, client, full=full, progress=progress)
    finally:
        client.close()
    for note in result.notes:
        out.message(note)
    out.message(
        f"synced ClickUp: {count(result.lists, 'list')}, {result.added} added, {result.changed} changed, "
        f"{result.closed} closed, {result.removed} removed in {result.seconds:.1f} s "
        f"({result.requests} request{'s' if result.requests != 1 else ''}; time in status: {result.time_in_status})"
    )
    if out.fmt == "json":
        out.data({"report": "sync-tasks", **asdict(result)}, "")


def register(app: typer.Typer) -> None:
    app.command("sync-commits")(sync_commits)
    app.command("sync-tasks")(sync_tasks)
