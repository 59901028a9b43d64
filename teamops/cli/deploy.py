"""`teamops deploy record|list`: deployments told by a deploy job, for the delivery (DORA) metrics."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from teamops.cli.options import FormatOpt, fmt_value, group_help
from teamops.cli.state import state
from teamops.clock import now_iso
from teamops.errors import InvalidInput
from teamops.integrations.git_local import SHA_RE, GitRepo
from teamops.people.handles import repo_of
from teamops.reports.model import Column, Report
from teamops.sources import parse_repo_arg
from teamops.sources.runner import Sources
from teamops.store.deployments import deployments
from teamops.sync.deployments import record_deployment, utc

app = typer.Typer(
    help=group_help(
        "Deployments for the delivery metrics: release tags come by themselves; record the rest here.",
        'teamops deploy record --sha "$GITHUB_SHA" --env production',
    ),
    no_args_is_help=True,
)


@app.command("record")
def record_cmd(
    ctx: typer.Context,
    sha: Annotated[str, typer.Option("--sha", help="The deployed commit (a full sha, or a ref in a clone).")],
    env: Annotated[str | None, typer.Option("--env", help="The environment (default: [dora] environment).")] = None,
    status: Annotated[str, typer.Option("--status", help="success or failure.")] = "success",
    at: Annotated[str | None, typer.Option("--at", help="When (ISO time; default: now).")] = None,
    name: Annotated[
        str | None, typer.Option("--name", help="A name, e.g. the release (default: from the sha).")
    ] = None,
    repo: Annotated[
        str | None, typer.Option("--repo", help="A synced repository (name or owner/name); default: the clone here.")
    ] = None,
) -> None:
    """Record one deployment, as the last step of a deploy job; recording it again changes nothing.

    \b
    Example:
      teamops deploy record --sha "$GITHUB_SHA" --env production --status success
    """
    st = state(ctx)
    out = st.output(None)
    if status not in ("success", "failure"):
        raise InvalidInput(f"--status must be success or failure, got {status!r}")
    clone: GitRepo | None = None
    if repo:
        repo_id, label = repo_of(st.reader, repo)
    else:
        clone = GitRepo.open(Path.cwd())
        here = parse_repo_arg(str(clone.root))
        repo_id, label = Sources(st.config).get(here.kind).repository(st.db, here)
    if not (SHA_RE.match(sha) and len(sha) in (40, 64)):
        resolved = clone.resolve(sha) if clone is not None else None
        if resolved is None:
            raise InvalidInput(f"{sha[:80]!r} is not a commit sha" + (" or a ref of this clone" if clone else ""))
        sha = resolved
    environment = env or st.config.dora.environment
    when = utc(at) if at else now_iso()
    title = name or f"{sha[:10]}@{when}"
    outcome, linked = record_deployment(
        st.db, repo_id, clone, sha=sha, name=title, environment=environment, status=status, at=when
    )
    shipped = f", {linked.commits:,} commits shipped first" if linked.linked else ""
    out.message(f"deployment {title} of {label} to {environment} ({status}): {outcome}{shipped}")


@app.command("list")
def list_cmd(
    ctx: typer.Context,
    env: Annotated[str | None, typer.Option("--env", help="The environment (default: [dora] environment).")] = None,
    fmt: FormatOpt = None,
) -> None:
    """The deployments teamops knows, oldest first.

    Example: teamops deploy list -f json
    """
    st = state(ctx)
    environment = env or st.config.dora.environment
    rows = [
        {
            "deployment": d.name,
            "repo_id": d.repo_id,
            "sha": d.sha[:10],
            "deployed_at": d.deployed_at,
            "status": d.status,
            "source": d.source,
        }
        for d in deployments(st.reader, environment, None, None, None)
    ]
    st.output(fmt_value(fmt)).report(
        Report(
            name="deployments",
            rows=rows,
            title=f"Deployments to {environment}",
            columns=[
                Column("deployment", "Deployment"),
                Column("sha", "Commit"),
                Column("deployed_at", "Deployed"),
                Column("status", "Status"),
                Column("source", "Source"),
            ],
            empty=f"no {environment} deployments yet: release tags (sync-commits) or `teamops deploy record`",
        )
    )
