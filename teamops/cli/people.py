"""`teamops people`: who is on the team and which emails, logins and ids are theirs."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from teamops.cli.options import FormatOpt, IncludeBotsOpt, LimitOpt, fmt_value, group_help
from teamops.cli.state import state
from teamops.people.roster import (
    PersonEdit,
    PersonSpec,
    add_person,
    edit_person,
    list_people,
    parse_accounts,
    person_id,
    remove_person,
)
from teamops.reports.model import Column, Report, limited
from teamops.sources import person_fields
from teamops.store.commits import commits_of, unmapped_authors
from teamops.store.people import unmapped_tracker_users
from teamops.wording import count

app = typer.Typer(
    help=group_help(
        "People and their identities (emails, GitHub login and other accounts, ClickUp id).",
        "teamops people add alice --email alice@acme.io --github alice",
    ),
    no_args_is_help=True,
)

EmailsOpt = Annotated[list[str] | None, typer.Option("--email", help="An email (repeatable).")]
NameOpt = Annotated[str | None, typer.Option("--name", help="Display name.")]
GithubOpt = Annotated[str | None, typer.Option("--github", help="GitHub login.")]
ClickupOpt = Annotated[str | None, typer.Option("--clickup-id", help="ClickUp user id.")]
AccountOpt = Annotated[
    list[str] | None,
    typer.Option("--account", help="An account on another service as KIND:NAME, e.g. gitlab:alice (repeatable)."),
]
TimezoneOpt = Annotated[str | None, typer.Option("--timezone", help="IANA timezone, e.g. Europe/Berlin.")]
TeamNameOpt = Annotated[str | None, typer.Option("--team", help="Team name.")]


@app.command("add")
def add(
    ctx: typer.Context,
    handle: Annotated[str, typer.Argument(help="Short unique handle, e.g. alice.")],
    name: NameOpt = None,
    email: EmailsOpt = None,
    github: GithubOpt = None,
    clickup_id: ClickupOpt = None,
    timezone: TimezoneOpt = None,
    team: TeamNameOpt = None,
    lead: Annotated[bool, typer.Option("--lead", help="Team lead (receives second-level escalations).")] = False,
    account: AccountOpt = None,
) -> None:
    """Add a person; their stored commits are attributed to them at once.

    Example: teamops people add alice --name "Alice Liddell" --email alice@acme.io --github alice
    """

    st = state(ctx)
    add_person(
        st.db,
        PersonSpec(
            handle,
            name,
            list(email or []),
            github,
            clickup_id,
            timezone,
            team,
            lead,
            accounts=parse_accounts(list(account or [])),
        ),
    )
    n = commits_of(st.db, person_id(st.db, handle))
    st.output().message(f"added {handle} ({count(n, 'commit')} attributed)")


@app.command("edit")
def edit(
    ctx: typer.Context,
    handle: Annotated[str, typer.Argument(help="The person to change.")],
    name: NameOpt = None,
    add_email: Annotated[list[str] | None, typer.Option("--email", "--add-email", help="Add an email.")] = None,
    remove_email: Annotated[list[str] | None, typer.Option("--remove-email", help="Remove an email.")] = None,
    github: GithubOpt = None,
    clickup_id: ClickupOpt = None,
    timezone: TimezoneOpt = None,
    team: TeamNameOpt = None,
    lead: Annotated[bool | None, typer.Option("--lead/--no-lead", help="Team lead or not.")] = None,
    active: Annotated[bool | None, typer.Option("--active/--inactive", help="Active or not.")] = None,
    rename: Annotated[str | None, typer.Option("--rename", help="A new handle.")] = None,
    account: Annotated[
        list[str] | None,
        typer.Option("--account", help="Set an account as KIND:NAME (KIND: to remove it), e.g. gitlab:alice."),
    ] = None,
) -> None:
    """Change a person's profile or identities; commits are re-attributed.

    \b
    Example:
      teamops people edit alice --email alice@old-laptop.local --team web
    """

    st = state(ctx)
    edit_person(
        st.db,
        handle,
        PersonEdit(
            name=name,
            timezone=timezone,
            team=team,
            lead=lead,
            active=active,
            github=github,
            clickup_id=clickup_id,
            add_emails=list(add_email or []),
            remove_emails=list(remove_email or []),
            rename=rename,
            accounts=parse_accounts(list(account or [])),
        ),
    )
    st.output().message(f"updated {rename or handle}")


@app.command("remove")
def remove(
    ctx: typer.Context,
    handle: Annotated[str, typer.Argument(help="The person to remove.")],
) -> None:
    """Remove a person; their commits stay and show up as unmapped again.

    \b
    Example:
      teamops people remove bob
    """

    st = state(ctx)
    n = remove_person(st.db, handle)
    st.output().message(f"removed {handle} ({count(n, 'commit')} unmapped now)")


@app.command("list")
def list_(ctx: typer.Context, limit: LimitOpt = None, fmt: FormatOpt = None) -> None:
    """Everyone, with identities and commit counts.

    \b
    Example:
      teamops people list -f csv > people.csv
    """

    st = state(ctx)
    rows, more = limited(list_people(st.reader), limit)
    st.output(fmt_value(fmt)).report(
        Report(
            name="people",
            rows=rows,
            more=more,
            columns=[
                Column("handle", "Handle"),
                Column("name", "Name", wrap=True),
                Column("team", "Team", drop=2),
                Column("lead", "Lead", drop=3),
                Column("active", "Active", drop=4),
                Column("emails", "Emails", wrap=True),
                *(Column(field, label, drop=0 if i == 0 else 7) for i, (field, _, label) in enumerate(person_fields())),
                Column("accounts", "Accounts", wrap=True, drop=8),
                Column("timezone", "Timezone", drop=5),
                Column("commits", "Commits", numeric=True),
                Column("merges", "Merges", numeric=True, drop=6),
                Column("assisted_commits", "AI-assisted", numeric=True, drop=9),
            ],
            empty="no people yet: add one with `teamops people add HANDLE --email ...`",
        )
    )


@app.command("unmapped")
def unmapped(
    ctx: typer.Context,
    limit: LimitOpt = None,
    fmt: FormatOpt = None,
    suggest: Annotated[
        bool, typer.Option("--suggest", help="Group evidently one person's identities into `people add` lines.")
    ] = False,
    include_bots: IncludeBotsOpt = False,
) -> None:
    """Commit authors and ClickUp users that match nobody, most commits first (merges left out, as in kpi activity).

    Bots ([bot] accounts, [bots] patterns) are counted on one line, not listed, unless --include-bots.

    \b
    Example:
      teamops people unmapped --limit 20
      teamops people unmapped --suggest      # the same as `teamops people suggest`
    """
    if suggest:
        _suggestions(ctx, limit, fmt, include_bots)
        return
    st = state(ctx)
    authors, bots_line = _people_authors(st, include_bots)
    rows, more = limited(authors + unmapped_tracker_users(st.reader), limit)
    st.output(fmt_value(fmt)).report(
        Report(
            name="people-unmapped",
            rows=rows,
            more=more,
            columns=[
                Column("source", "Source", drop=3),
                Column("name", "Name", wrap=True),
                Column("email", "Email", wrap=True),
                Column("login", "Login", drop=2),
                Column("commits", "Commits", numeric=True),
                Column("merges", "Merges", numeric=True, drop=4),
                Column("tasks", "Tasks", numeric=True),
                Column("last_seen", "Last seen", date=True, drop=1),
            ],
            empty="every commit author is mapped to a person",
            footer="\n".join(
                [
                    "map one: teamops people add HANDLE --email EMAIL (or --account KIND:ID, as the Login column "
                    "shows it); "
                    "teamops people suggest groups one person's emails",
                    *([bots_line] if bots_line else []),
                ]
            ),
        )
    )


@app.command("suggest")
def suggest_cmd(
    ctx: typer.Context, limit: LimitOpt = None, fmt: FormatOpt = None, include_bots: IncludeBotsOpt = False
) -> None:
    """Ready-to-run `teamops people add` lines for the unmapped commit authors, one per person: emails with
    the same account (a GitHub or GitLab login) or the same name are grouped (`.mailmap` is applied as
    commits are read).

    Piped, it prints the commands alone; check each before running it.

    \b
    Example:
      teamops people suggest --limit 10
    """
    _suggestions(ctx, limit, fmt, include_bots)


def _people_authors(st: Any, include_bots: bool) -> tuple[list[dict[str, Any]], str | None]:
    """Unmapped commit authors, and the line that counts the bots left out of them."""
    authors = unmapped_authors(st.reader)
    if include_bots:
        return authors, None
    from teamops.people.bots import find

    bots = find(st.reader, st.config)
    emails = set(bots.emails)
    return [a for a in authors if a["email"] not in emails], bots.line()


def _suggestions(ctx: typer.Context, limit: int | None, fmt: Any, include_bots: bool) -> None:
    from teamops.people.suggest import suggest
    from teamops.store.people import handles_by_id

    st = state(ctx)
    authors, bots_line = _people_authors(st, include_bots)
    taken = {handle for handle, _, _ in handles_by_id(st.reader).values()}
    found = suggest(authors, taken)
    rows, more = limited([s.row() for s in found], limit)
    out = st.output(fmt_value(fmt))
    if fmt is None and not out.tty:  # piped, no format asked: the commands alone, ready for a shell
        out.stdout.write("".join(row["command"] + "\n" for row in rows))
        if not rows:
            out.message("nothing to suggest: every commit author is mapped to a person (or none is synced yet)")
        return
    grouped = sum(1 for s in found if len(s.emails) > 1)
    out.report(
        Report(
            name="people-suggest",
            rows=rows,
            more=more,
            columns=[
                Column("commits", "Commits", numeric=True),
                Column("why", "Grouped by", drop=1, wrap=True),
                Column("command", "Command", wrap=True),
            ],
            empty="every commit author is mapped to a person",
            footer="\n".join(
                [
                    f"{count(len(found), 'person', 'people')} from {count(len(authors), 'identity', 'identities')}"
                    f" ({grouped} grouped); check each line, then run it",
                    *([bots_line] if bots_line else []),
                ]
            ),
        )
    )
