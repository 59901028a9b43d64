"""`teamops sync-commits`: pull commits of the configured repositories (or the current one)."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from teamops.cli.options import FormatOpt, FullOpt, SinceOpt, UntilOpt, fmt_value
from teamops.cli.state import AppState, state
from teamops.dates import range_bounds
from teamops.errors import ExitCode, InvalidInput, TeamopsError
from teamops.sources import SyncOptions, by_event
from teamops.sources.runner import Sources, expand, sync_all, sync_targets
from teamops.sync.result import SyncResult
from teamops.wording import count

if TYPE_CHECKING:
    from teamops.cli.output import Output


def summary_line(r: SyncResult) -> str:
    """The one line a sync ends with, e.g. `synced 1,204 new commits (incl. merges) from acme/api in 3.1 s`:
    rows stored, so merges are counted here, and it says so (reports leave them out)."""
    if r.error:
        return f"{r.repo}: failed: {r.error}"
    where = f"{r.repo} ({', '.join(r.branches)})" if r.branches else r.repo
    extra = ""
    if r.requests is not None:
        extra = f", {r.requests:,} request{'s' if r.requests != 1 else ''}"
        if r.rate_limit_remaining is not None:
            extra += f", {r.rate_limit_remaining:,} left"
    if r.owner:
        return f"{r.details[0] if r.details else r.repo} ({r.seconds:.1f} s{extra})"
    if not r.branches:
        return f"{r.repo}: no commits yet (empty repository)"
    deployed = f"; {count(r.deployments, 'deployment')} new or changed" if r.deployments else ""
    if r.unchanged:
        return f"{where}: up to date, 0 new commits ({r.seconds:.1f} s{extra}){deployed}"
    noun = "commit" if r.new == 1 else "commits"
    return (
        f"synced {r.new:,} new {noun} (incl. merges) from {where} in {r.seconds:.1f} s"
        f"{extra and f' ({extra[2:]})'}{deployed}"
    )


def sync_commits(
    ctx: typer.Context,
    repo: Annotated[
        list[str] | None,
        typer.Option(
            "--repo",
            help="A local path or a GitHub owner/name (repeatable; 'owner/*' and '../*' name many); "
            "default: configured repos, else '.'",
        ),
    ] = None,
    branch: Annotated[
        list[str] | None,
        typer.Option("--branch", "-b", help="Branch to walk (repeatable); default: configured, else HEAD."),
    ] = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    full: FullOpt = False,
    event: Annotated[
        str | None,
        typer.Option(
            "--event",
            help="Ingest a webhook payload from FILE ('-' for stdin): GitHub's push, pull_request, workflow_run or "
            "pull_request_review (e.g. $GITHUB_EVENT_PATH), or another source's event named by --event-name.",
        ),
    ] = None,
    event_name: Annotated[
        str | None,
        typer.Option(
            "--event-name",
            help='The event\'s name, e.g. push or "Merge Request Hook" (its X-Gitlab-Event header); '
            "default: $GITHUB_EVENT_NAME.",
        ),
    ] = None,
    signature: Annotated[
        str | None,
        typer.Option(
            "--signature",
            help="What authenticates the payload: X-Hub-Signature-256 (required when GITHUB_WEBHOOK_SECRET is "
            "set), or X-Gitlab-Token (when GITLAB_WEBHOOK_TOKEN is).",
        ),
    ] = None,
    concurrency: Annotated[
        int | None,
        typer.Option(
            "--concurrency", min=1, max=64, help="Repositories synced side by side (default: [github] concurrency)."
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
      teamops sync-commits --repo 'acme/*'       # every repository of an organisation or user
      teamops sync-commits --since 2021-01-01    # a backfill window
      teamops sync-commits --event "$GITHUB_EVENT_PATH"   # a push, in GitHub Actions
    """
    st = state(ctx)
    out = st.output(fmt_value(fmt))
    if event is not None:
        plugin = by_event(event_name)  # the kind that reads events of this name (an unnamed one: the fallback)
        limit = getattr(st.config.section(plugin.kind), "event_max_mb", None) or 25
        cap = int(limit * 1_000_000)
        try:
            if event == "-":
                body = sys.stdin.buffer.read(cap + 1)
            else:
                with Path(event).open("rb") as f:
                    body = f.read(cap + 1)  # never more than the cap in memory, whatever the file holds
        except OSError as exc:
            raise InvalidInput(f"cannot read the event file {event}: {exc.strerror}") from None
        if len(body) > cap:
            raise InvalidInput(
                f"the event file {event} is larger than {limit} MB: refused",
                f"{plugin.label}'s payloads are at most 25 MB; raise [{plugin.kind}] event_max_mb if yours really are",
            )
        source = Sources(st.config).get(plugin.kind)
        outcome = source.ingest(st.db, body, event_name, signature, os.environ, list(repo or []))
        _find_assists(st, out)
        out.message(outcome.line)
        if out.fmt == "json":
            out.data(outcome.data, "")
        return
    lo, hi = range_bounds(since, until)
    sources = Sources(st.config)
    targets = expand(st.db, sources, sync_targets(st.config, repo, branch))
    if not targets:
        raise InvalidInput("the repositories named match none", "check the patterns and their include/exclude")
    opts = SyncOptions(st.config, lo, hi, full)
    workers = concurrency or st.config.github.concurrency
    results = []
    with out.progress_board() as board:
        for result in sync_all(st.db, targets, sources, board, opts, workers):
            results.append(result)
            for line in result.details:
                out.detail(f"  {line}")
            for line in result.warnings:
                out.message(line)
            out.message(summary_line(result))
    if not repo:
        for result in _sync_owners(st, sources, opts):
            results.append(result)
            out.message(summary_line(result))
    _find_assists(st, out)
    failed = [r for r in results if r.error]
    if out.fmt == "json":
        out.data({"report": "sync-commits", "repos": [asdict(r) for r in results]}, "")
    if sum(not r.owner for r in results) > 1 and out.fmt != "json":
        out.message(run_table(results, out.width()))
    if failed:
        error = RunFailed(
            f"{len(failed)} of "
            + (
                count(len(results), "sync")
                if any(r.owner for r in results)
                else count(len(results), "repository", "repositories")
            )
            + " failed: "
            + ", ".join(r.repo for r in failed[:5])
            + (f" and {len(failed) - 5} more" if len(failed) > 5 else ""),
            "the others were synced; run again to retry the failed ones (what they stored stays)"
            if len(failed) < len(results)
            else "each said why above; what they stored stays",
        )
        codes = {r.exit_code for r in failed}
        if len(codes) == 1:  # one cause for all (a missing token is exit 3 for one repository or twenty)
            error.exit_code = codes.pop()
        raise error


def _sync_owners(st: AppState, sources: Sources, opts: SyncOptions) -> Iterator[SyncResult]:
    """Each kind's accounts' own streams (an organisation's assistant usage), once a full run; one failing is
    its own result, like a repository's."""
    from teamops.sources import kinds

    for plugin in kinds():
        for owner in plugin.owners(st.config):
            try:
                yield sources.get(plugin.kind).sync_owner(st.db, owner, opts)
            except TeamopsError as exc:
                yield SyncResult(repo=f"{owner} ({plugin.label})", error=str(exc), exit_code=exc.exit_code, owner=True)


def _find_assists(st: AppState, out: Output) -> None:
    """The commits and pull requests an AI assistant co-wrote, among what this run stored (docs/kpi.md)."""
    from teamops.assists.detect import detect

    found = detect(st.db, st.config)
    if found:
        out.detail(f"  {count(found, 'commit')} newly found co-written by an AI assistant (teamops kpi ai)")


class RunFailed(TeamopsError):
    """Some repositories of a run failed (each said why); the others were synced."""

    exit_code = ExitCode.SERVICE


def run_table(results: list[SyncResult], width: int | None = None) -> str:
    """One line per repository of a run, in the order they finished: what each did, or why it failed
    (the requests and error columns only when some repository has one)."""
    from teamops.cli.table import render

    columns: list[tuple[str, bool, bool, Callable[[SyncResult], str]]] = [
        ("Repository", False, True, lambda r: r.repo),
        ("Result", False, True, lambda r: "failed" if r.error else ("up to date" if r.unchanged else "synced")),
        ("New", True, True, lambda r: f"{r.new:,}"),
        ("Requests", True, any(r.requests is not None for r in results), lambda r: f"{r.requests or 0:,}"),
        ("Seconds", True, True, lambda r: f"{r.seconds:.1f}"),
        ("Error", False, any(r.error for r in results), lambda r: r.error or ""),
    ]
    shown = [c for c in columns if c[2]]
    rows = [[c[3](r) for c in shown] for r in results]
    total = sum(r.new for r in results)
    repos = [r for r in results if not r.owner]
    done = sum(1 for r in repos if not r.error)
    table = render(
        [c[0] for c in shown],
        [c[1] for c in shown],
        rows,
        max_width=width,
        wrap=[c[0] == "Error" for c in shown],
    )
    synced = f"{done} of {count(len(repos), 'repository', 'repositories')} synced"
    return f"{table}\n{synced}, {total:,} new commits (incl. merges)"


def register(app: typer.Typer) -> None:
    app.command("sync-commits")(sync_commits)
