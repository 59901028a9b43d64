"""`teamops shard plan` and `teamops merge`: a backfill split over a GitHub Actions matrix, merged exactly."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from teamops.cli.options import FormatOpt, fmt_value, group_help
from teamops.cli.state import state
from teamops.reports.model import Column, Report
from teamops.wording import count

app = typer.Typer(
    help=group_help(
        "A sharded backfill: plan a matrix of repositories balanced by size, sync each shard, merge the files.",
        "teamops shard plan --shards 8 --repo 'acme/*'",
    ),
    no_args_is_help=True,
)


@app.command("plan")
def plan_cmd(
    ctx: typer.Context,
    shards: Annotated[int, typer.Option("--shards", min=1, max=256, help="How many matrix jobs.")],
    repo: Annotated[
        list[str] | None,
        typer.Option("--repo", help="Repositories or patterns (repeatable); default: the configured ones."),
    ] = None,
) -> None:
    """Print a GitHub Actions matrix (JSON) that deals the repositories to shards of about equal size.

    Sizes come from GitHub's listing of an owner (commits on the default branch), else from what is
    stored, else from the clone. Each entry names its repositories space-separated: a job syncs them
    with `--repo` each into its own database file, and `teamops merge` joins the files.

    \b
    Example (a workflow step):
      echo "matrix=$(teamops shard plan --shards 8)" >> "$GITHUB_OUTPUT"
    """
    from teamops.shards import plan, size_of
    from teamops.sources.runner import Sources, expand, sync_targets

    st = state(ctx)
    out = st.output(None)
    sources = Sources(st.config)
    targets = expand(st.db, sources, sync_targets(st.config, repo, None))
    dealt = plan([(t, size_of(st.db, t, sources.get(t.kind))) for t in targets], shards)
    print(json.dumps({"include": [s.entry() for s in dealt]}, separators=(",", ":")))
    biggest = max((s.commits for s in dealt), default=0)
    out.message(
        f"{count(len(targets), 'repository', 'repositories')} in {count(len(dealt), 'shard')}; "
        f"the largest holds {biggest:,} commits"
    )


def merge_cmd(
    ctx: typer.Context,
    names: Annotated[list[str], typer.Argument(help="Shard database files, merged in this order.", metavar="FILES")],
    into_name: Annotated[
        str | None,
        typer.Option("--into", help="The database to merge into (default: --db, else the configured).", metavar="DB"),
    ] = None,
    fmt: FormatOpt = None,
) -> None:
    """Merge shard databases into one: by natural keys (repository and sha, deployment, person by identity),
    one transaction per file, idempotent; a file of another schema version is refused.

    Example: teamops merge shards/*.db --into teamops.db
    """
    from teamops.errors import UsageError
    from teamops.merge import check_shard, merge_file
    from teamops.store.database import open_database

    st = state(ctx)
    out = st.output(fmt_value(fmt))
    for name in [*names, into_name or "-"]:
        if "\x00" in name or not name.strip():
            raise UsageError(f"{name!r} is not a file name")
    files = [Path(n) for n in names]
    target = Path(into_name) if into_name else st.config.db_path()
    for f in files:
        if f.resolve() == target.resolve():
            raise UsageError(f"{f} is the database merged into; leave it out of the files")
        check_shard(f)  # every file before anything is written; each again as it is merged
    db = open_database(target) if into_name else st.db
    results = [merge_file(db, f) for f in files]
    from teamops.assists.detect import detect

    detect(db, st.config)  # the merged commits an assistant co-wrote (assists are found, not copied)
    rows = [
        {
            "file": r.path,
            "repos": r.repos,
            "commits": r.commits,
            "deployments": r.deployments,
            "incidents": r.incidents,
            "people": r.people,
            "estimates": r.estimates,
            "left": ", ".join(r.left),
        }
        for r in results
    ]
    out.report(
        Report(
            name="merge",
            rows=rows,
            columns=[
                Column("file", "File"),
                Column("repos", "New repos", numeric=True),
                Column("commits", "New commits", numeric=True),
                Column("deployments", "New deployments", numeric=True),
                Column("incidents", "New incidents", numeric=True, drop=2),
                Column("people", "New people", numeric=True),
                Column("estimates", "New estimates", numeric=True),
                Column("left", "Not merged (tables)", wrap=True),
            ],
            title=f"Merged {count(len(results), 'file')} into {target}",
            meta={"into": str(target)},
        )
    )


def register(app_: typer.Typer) -> None:
    app_.command("merge")(merge_cmd)
