"""`teamops remind` and `teamops mastery`: check-ins and growth plans, each reminder sent once."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

import typer

from teamops.cli.notify import show_previews
from teamops.cli.options import DryRunOpt, FormatOpt, NoSendOpt, PersonOpt, fmt_value, group_help
from teamops.cli.output import Output
from teamops.cli.state import AppState, state
from teamops.clock import now
from teamops.errors import UsageError
from teamops.messages.notify import send_pending
from teamops.messages.reminders import plan_eod, plan_mastery, preview, queue_plans
from teamops.wording import count

app = typer.Typer(
    help=group_help("End-of-day, personal-mastery and review reminders.", "teamops remind eod --dry-run"),
    no_args_is_help=True,
)

TeamOpt = Annotated[str | None, typer.Option("--team", help="Only this team (e.g. one cron line per timezone).")]
ForceOpt = Annotated[bool, typer.Option("--force", help="Send again, under a new key.")]


def _finish(
    st: AppState, out: Output, plans: list[Any], what: str, dry_run: bool, no_send: bool, queue: Any = queue_plans
) -> None:

    if dry_run:
        unrouted = [
            {"key": p.message.key, "person": p.handle, "title": p.message.title, "text": p.message.text}
            for p in plans
            if p.message is not None and not p.channels
        ]
        show_previews(out, preview(st.config, plans), f"remind-{what}-dry-run", unrouted)
        for plan in plans:
            if plan.message is None:
                out.message(f"{what} {plan.handle} ({plan.local_date}, {plan.timezone}): skipped, {plan.skipped}")
        shown = count(sum(p.message is not None for p in plans), "reminder")
        out.message(f"dry run: {shown} shown; nothing sent or recorded")
        return
    ids, queued, repeats = queue(st.db, st.config, plans)
    for plan in plans:
        state_text = f"skipped, {plan.skipped}" if plan.skipped else "queued"
        out.message(f"{what} {plan.handle} ({plan.local_date}, {plan.timezone}): {state_text}")
    line = f"{what}: {queued} queued ({count(len(ids), 'message')}), {repeats} queued earlier"
    result = None
    if ids and not no_send:
        result = send_pending(st.db, st.config, only_ids=ids)
        line += f"; delivered {result.sent}, failed {result.failed}, deferred {result.deferred}"
    out.message(line)
    if out.fmt == "json":
        out.data(
            {
                "report": f"remind-{what}",
                "queued": queued,
                "queued_before": repeats,
                "sent": result.sent if result else 0,
                "failed": result.failed if result else 0,
                "deferred": result.deferred if result else 0,
                "rows": [
                    {
                        "person": p.handle,
                        "local_date": p.local_date,
                        "timezone": p.timezone,
                        "key": p.message.key if p.message else None,
                        "channels": p.channels,
                        "skipped": p.skipped,
                    }
                    for p in plans
                ],
            },
            "",
        )


@app.command("eod")
def eod(
    ctx: typer.Context,
    dry_run: DryRunOpt = False,
    person: PersonOpt = None,
    team: TeamOpt = None,
    day: Annotated[str | None, typer.Option("--date", help="The local date to report (YYYY-MM-DD).")] = None,
    force: ForceOpt = False,
    no_send: NoSendOpt = False,
    fmt: FormatOpt = None,
) -> None:
    """Each person's end-of-day check-in: today's commits and AI points, tasks in progress and blocked,
    mastery items due this week. Once per person per local date.

    \b
    Example (cron, 17:30 on working days in the team's timezone):
      CRON_TZ=Europe/Berlin
      30 17 * * 1-5  teamops remind eod --team platform
    """

    st = state(ctx)
    local_day = None
    if day:
        try:
            local_day = date.fromisoformat(day)
        except ValueError:
            raise UsageError(f"--date {day!r} is not YYYY-MM-DD") from None
    plans = plan_eod(st.db, st.config, now(), handle=person, team=team, day=local_day, force=force)
    _finish(st, st.output(fmt_value(fmt)), plans, "eod", dry_run, no_send)


@app.command("mastery")
def mastery_reminder(
    ctx: typer.Context,
    dry_run: DryRunOpt = False,
    person: PersonOpt = None,
    team: TeamOpt = None,
    force: ForceOpt = False,
    no_send: NoSendOpt = False,
    fmt: FormatOpt = None,
) -> None:
    """A weekly nudge for each person with pending mastery items, overdue first. Once per ISO week.

    \b
    Example:
      teamops remind mastery --dry-run
    """

    st = state(ctx)
    plans = plan_mastery(st.db, st.config, now(), handle=person, team=team, force=force)
    _finish(st, st.output(fmt_value(fmt)), plans, "mastery", dry_run, no_send)


@app.command("reviews")
def reviews_reminder(
    ctx: typer.Context,
    dry_run: DryRunOpt = False,
    person: PersonOpt = None,
    no_send: NoSendOpt = False,
    fmt: FormatOpt = None,
) -> None:
    """Nudge each requested reviewer whose pull requests waited longer than [reviews] sla working hours
    (in the reviewer's timezone): one message listing them, each pull request once per reviewer a day.

    Reviewers are people with a github login (`teamops people add ... --github LOGIN`); the requests
    come from `sync-commits` of GitHub repositories (or pull_request events).

    \b
    Example (hourly, every timezone at its own working hours):
      5 * * * *  teamops remind reviews
    """
    from teamops.messages.review_nudges import plan_reviews, queue_review_plans

    st = state(ctx)
    plans = plan_reviews(st.reader, st.config, now(), handle=person)
    out = st.output(fmt_value(fmt))
    if not plans:  # nothing to write: the database is not even opened for writing
        out.message("reviews: no requested review has waited longer than [reviews] sla")
        if out.fmt == "json":
            out.data({"report": "remind-reviews", "queued": 0, "rows": []}, "")
        return
    _finish(st, out, plans, "reviews", dry_run, no_send, queue_review_plans)
