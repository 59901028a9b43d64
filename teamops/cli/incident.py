"""`teamops incident open|resolve|list`: incidents recorded by hand, for teams without a tracker that files them."""

from __future__ import annotations

import re
from typing import Annotated

import typer

from teamops.cli.options import FormatOpt, fmt_value, group_help
from teamops.cli.state import state
from teamops.clock import now_iso
from teamops.errors import InvalidInput
from teamops.people.handles import repo_of
from teamops.reports.model import Column, Report
from teamops.store.incidents import incident, incidents, save_incident, save_resolved
from teamops.sync.deployments import utc

CAUSE_RE = re.compile(r"^(?:[0-9a-fA-F]{7,64}|#\d{1,9})$")

app = typer.Typer(
    help=group_help(
        "Incidents for the delivery metrics: each fails the deployment that shipped its cause (else the last one "
        "before it), once.",
        'teamops incident open "Checkout down" --repo acme/api --cause 3f2a9c1',
    ),
    no_args_is_help=True,
)


@app.command("open")
def open_cmd(
    ctx: typer.Context,
    title: Annotated[str, typer.Argument(help="What broke, as the team would say it.")],
    repo: Annotated[
        str | None, typer.Option("--repo", help="The synced repository it is in (name or owner/name).")
    ] = None,
    cause: Annotated[
        str | None, typer.Option("--cause", help="What caused it: a commit (7+ hex digits) or a pull request (#N).")
    ] = None,
    severity: Annotated[str | None, typer.Option("--severity", help="A severity, e.g. sev1.")] = None,
    at: Annotated[str | None, typer.Option("--at", help="When it began (ISO time; default: now).")] = None,
) -> None:
    """Open an incident; its id is printed for `incident resolve`.

    \b
    Example:
      teamops incident open "Checkout down" --repo acme/api --cause '#412' --severity sev1
    """
    st = state(ctx)
    if not title.strip() or len(title) > 500:
        raise InvalidInput("an incident needs a title of at most 500 characters")
    if cause is not None and not CAUSE_RE.match(cause):
        raise InvalidInput(
            f"--cause must be a commit (7 or more hex digits) or a pull request (#N), not {cause[:80]!r}"
        )
    repo_id, name = repo_of(st.reader, repo) if repo else (None, None)
    when = utc(at) if at else now_iso()
    new_id = save_incident(st.db, title.strip(), when, repo_id, cause, severity)
    where = f" in {name}" if name else ""
    st.output().message(f"incident {new_id} opened{where} at {when}: {title.strip()}")


@app.command("resolve")
def resolve_cmd(
    ctx: typer.Context,
    incident_id: Annotated[
        int, typer.Argument(help="The incident's id (teamops incident list).", min=1, max=2**63 - 1)
    ],
    at: Annotated[str | None, typer.Option("--at", help="When it was resolved (ISO time; default: now).")] = None,
) -> None:
    """Resolve an incident (again: the last time counts, as a reopened one's final close does).

    Example: teamops incident resolve 3 --at 2026-11-04T10:30:00Z
    """
    st = state(ctx)
    found = incident(st.reader, incident_id)
    if found is None:
        raise InvalidInput(f"no incident {incident_id}", "see teamops incident list")
    when = utc(at) if at else now_iso()
    if when < found.opened_at:
        raise InvalidInput(f"incident {incident_id} opened at {found.opened_at}: it cannot be resolved before")
    save_resolved(st.db, incident_id, when)
    st.output().message(f"incident {incident_id} resolved at {when}")


@app.command("list")
def list_cmd(
    ctx: typer.Context,
    open_only: Annotated[bool, typer.Option("--open", help="Only those not resolved.")] = False,
    fmt: FormatOpt = None,
) -> None:
    """The incidents recorded, oldest first.

    Example: teamops incident list --open
    """
    st = state(ctx)
    rows = [
        {
            "id": i.id,
            "title": i.title,
            "repo": i.repo,
            "severity": i.severity,
            "opened_at": i.opened_at,
            "resolved_at": i.resolved_at,
            "cause": i.cause,
        }
        for i in incidents(st.reader, open_only=open_only)
    ]
    st.output(fmt_value(fmt)).report(
        Report(
            name="incidents",
            rows=rows,
            title="Incidents",
            columns=[
                Column("id", "Id", numeric=True),
                Column("title", "Title", wrap=True),
                Column("repo", "Repository", drop=3),
                Column("severity", "Severity", drop=2),
                Column("opened_at", "Opened"),
                Column("resolved_at", "Resolved"),
                Column("cause", "Cause", drop=1),
            ],
            empty="no incidents yet: `teamops incident open TITLE` records one",
        )
    )
