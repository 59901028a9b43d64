"""`teamops mastery`: personal-mastery items, growth goals per person with due dates and recurrence."""

from __future__ import annotations

from typing import Annotated

import typer

from teamops.cli.options import FormatOpt, LimitOpt, PersonOpt, fmt_value, group_help
from teamops.cli.state import state
from teamops.reports.model import Column, Report, limited
from teamops.work.mastery import assign as create
from teamops.work.mastery import complete, items
from teamops.work.mastery import drop as remove

app = typer.Typer(
    help=group_help(
        "Personal-mastery items: growth goals per person.",
        'teamops mastery assign alice "Read the RFC" --due 2026-12-01',
    ),
    no_args_is_help=True,
)


@app.command("assign")
def assign(
    ctx: typer.Context,
    handle: Annotated[str, typer.Argument(help="Whose item.")],
    title: Annotated[str, typer.Argument(help="What to learn or practise.")],
    due: Annotated[str | None, typer.Option("--due", help="Due date, YYYY-MM-DD.")] = None,
    notes: Annotated[str | None, typer.Option("--notes", help="Notes, links.")] = None,
    every: Annotated[str | None, typer.Option("--every", help="Repeat: week or month.")] = None,
) -> None:
    """Give a person a mastery item (recurring ones roll forward when done).

    \b
    Example:
      teamops mastery assign alice "Give a tech talk on caching" --due 2026-12-10
    """

    st = state(ctx)
    item = create(st.db, handle, title, due, notes, every)
    st.output().message(f"mastery item #{item} for {handle}" + (f", due {due}" if due else ""))


@app.command("list")
def list_(
    ctx: typer.Context,
    person: PersonOpt = None,
    status: Annotated[str | None, typer.Option("--status", help="pending, done or dropped.")] = None,
    limit: LimitOpt = None,
    fmt: FormatOpt = None,
) -> None:
    """Mastery items, pending first by due date.

    \b
    Example:
      teamops mastery list --person alice --status pending
    """

    st = state(ctx)
    rows, more = limited([i.row() for i in items(st.reader, person, status)], limit)
    st.output(fmt_value(fmt)).report(
        Report(
            name="mastery",
            rows=rows,
            more=more,
            columns=[
                Column("id", "#", numeric=True),
                Column("person", "Person"),
                Column("title", "Title", cut=True),
                Column("due", "Due"),
                Column("every", "Every"),
                Column("status", "Status"),
                Column("done_at", "Done", date=True),
            ],
            meta={"person": person, "status": status},
            empty="no mastery items: `teamops mastery assign HANDLE TITLE --due DATE`",
        )
    )


@app.command("done")
def done(ctx: typer.Context, item: Annotated[int, typer.Argument(help="Item number.", min=1, max=2**53)]) -> None:
    """Mark an item done; a recurring one comes back with its next due date.

    \b
    Example:
      teamops mastery done 3
    """

    st = state(ctx)
    nxt = complete(st.db, item)
    st.output().message(f"mastery item #{item} done" + (f"; next one is #{nxt}" if nxt else ""))


@app.command("drop")
def drop(ctx: typer.Context, item: Annotated[int, typer.Argument(help="Item number.", min=1, max=2**53)]) -> None:
    """Drop an item that no longer matters (kept in the history).

    \b
    Example:
      teamops mastery drop 3
    """

    st = state(ctx)
    remove(st.db, item)
    st.output().message(f"mastery item #{item} dropped")
