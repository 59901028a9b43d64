"""`teamops task` and `teamops sprint`: tasks with RACI roles, validated on every change."""

from __future__ import annotations

import getpass
import os
from typing import Annotated, Any

import typer

from teamops.cli.notify import deliver
from teamops.cli.options import FormatOpt, FullOpt, LimitOpt, NoSendOpt, finite, fmt_value, group_help
from teamops.cli.state import state
from teamops.errors import ConfigError
from teamops.reports.model import Column, Report, limited
from teamops.runtime import read_runtime
from teamops.sources import trackers
from teamops.wording import count
from teamops.work.raci import ROLE_NAMES, check_tasks, holders_of
from teamops.work.tasks import (
    TaskChange,
    add_task,
    block_task,
    current,
    history,
    list_tasks,
    task_ref,
    unblock_task,
    update_task,
)

app = typer.Typer(
    help=group_help(
        "Tasks with RACI roles; every change is validated and recorded.",
        'teamops task add "Export invoices" -R bob -A alice --points 3',
    ),
    no_args_is_help=True,
)

Handles = list[str] | None
ResponsibleOpt = Annotated[Handles, typer.Option("--responsible", "-R", help="Responsible person (repeatable).")]
AccountableOpt = Annotated[Handles, typer.Option("--accountable", "-A", help="The Accountable person (one).")]
ConsultedOpt = Annotated[Handles, typer.Option("--consulted", "-C", help="Consulted person (repeatable).")]
InformedOpt = Annotated[Handles, typer.Option("--informed", "-I", help="Informed person (repeatable).")]
PointsOpt = Annotated[
    float | None, typer.Option("--points", min=0, max=1000, callback=finite, help="Story points (0-1000).")
]
EstimateOpt = Annotated[
    float | None,
    typer.Option("--estimate-hours", min=0, max=10_000, callback=finite, help="Estimated hours (0-10,000)."),
]
SpentOpt = Annotated[
    float | None, typer.Option("--spent-hours", min=0, max=10_000, callback=finite, help="Hours spent so far.")
]
SprintOpt = Annotated[str | None, typer.Option("--sprint", help="Sprint name ('' to remove from its sprint).")]
DueOpt = Annotated[str | None, typer.Option("--due", help="Due date, YYYY-MM-DD.")]
UrlOpt = Annotated[str | None, typer.Option("--url", help="A link (issue, doc, ClickUp task).")]
ByOpt = Annotated[str | None, typer.Option("--by", help="Who makes the change (default: $TEAMOPS_ACTOR or you).")]
TaskArg = Annotated[str, typer.Argument(help="Task id (12 or #12) or key.")]


def actor(by: str | None) -> str:
    return by or read_runtime(os.environ).actor or getpass.getuser()


def roles_from(r: Handles, a: Handles, c: Handles, i: Handles) -> dict[str, list[str]]:
    return {role: list(v) for role, v in (("R", r), ("A", a), ("C", c), ("I", i)) if v is not None}


@app.command("add")
def add(
    ctx: typer.Context,
    title: Annotated[str, typer.Argument(help="What is to be done.")],
    responsible: ResponsibleOpt = None,
    accountable: AccountableOpt = None,
    consulted: ConsultedOpt = None,
    informed: InformedOpt = None,
    points: PointsOpt = None,
    estimate_hours: EstimateOpt = None,
    sprint: SprintOpt = None,
    due: DueOpt = None,
    url: UrlOpt = None,
    status: Annotated[str | None, typer.Option("--status", help="Initial status.")] = None,
    by: ByOpt = None,
    no_send: NoSendOpt = False,
    fmt: FormatOpt = None,
) -> None:
    """Create a task after RACI validation (exit 1 and nothing saved when a rule is broken).

    \b
    Example:
      teamops task add "Export invoices as CSV" -R bob -A alice -C carol --points 3 --sprint "Sprint 7"
    """

    st = state(ctx)
    out = st.output(fmt_value(fmt))
    change = TaskChange(
        status=status,
        points=points,
        estimate_hours=estimate_hours,
        sprint=sprint,
        due_date=due,
        url=url,
        roles=roles_from(responsible, accountable, consulted, informed),
    )
    task_id, msg = add_task(st.db, st.config, title, change, actor(by))
    out.data({"report": "task-add", "id": task_id, "key": f"T-{task_id}"}, f"created task #{task_id}")
    if points is None:
        _points_hint(st, out, f"T-{task_id}")
    deliver(st, out, [msg], no_send)


def _points_hint(st: Any, out: Any, key: str) -> None:
    """A task added without points: what the team's history suggests (only once there is a history)."""
    from teamops.estimation.suggest import MIN_HISTORY, can_learn, finished_with_points

    if finished_with_points(st.db, st.config) < MIN_HISTORY or not can_learn():
        return
    from teamops.estimation.suggest import suggest
    from teamops.wording import quantity

    found, _ = suggest(st.db, st.config, [key])
    if found:
        s = found[0]
        like = ", ".join(x.key for x in s.similar)
        out.message(
            f"hint: the team's history suggests {quantity(s.points, 'point')} ({s.low:g}–{s.high:g})"
            + (f", like {like}" if like else "")
            + f"; set them with teamops task update {key.removeprefix('T-')} --points N"
        )


@app.command("update")
def update(
    ctx: typer.Context,
    task: TaskArg,
    title: Annotated[str | None, typer.Option("--title", help="A new title.")] = None,
    status: Annotated[str | None, typer.Option("--status", help="A new status.")] = None,
    responsible: ResponsibleOpt = None,
    accountable: AccountableOpt = None,
    consulted: ConsultedOpt = None,
    informed: InformedOpt = None,
    points: PointsOpt = None,
    estimate_hours: EstimateOpt = None,
    spent_hours: SpentOpt = None,
    sprint: SprintOpt = None,
    due: DueOpt = None,
    url: UrlOpt = None,
    by: ByOpt = None,
) -> None:
    """Change fields or roles (a role option replaces that role's people); validated before saving.

    \b
    Example:
      teamops task update 12 --status review -C carol --points 5
    """

    st = state(ctx)
    task_id = task_ref(st.db, task)
    change = TaskChange(
        title=title,
        status=status,
        points=points,
        estimate_hours=estimate_hours,
        spent_hours=spent_hours,
        sprint=sprint,
        due_date=due,
        url=url,
        roles=roles_from(responsible, accountable, consulted, informed),
    )
    changed = update_task(st.db, st.config, task_id, change, actor(by))
    st.output().message(f"#{task_id}: " + (f"changed {', '.join(changed)}" if changed else "nothing changed"))


@app.command("block")
def block(
    ctx: typer.Context,
    task: TaskArg,
    reason: Annotated[str, typer.Option("--reason", help="What the task waits for (required).")],
    by: ByOpt = None,
    no_send: NoSendOpt = False,
) -> None:
    """Mark a task blocked; its Accountable and Responsible people are notified.

    \b
    Example:
      teamops task block 12 --reason "waiting for the vendor's API keys"
    """

    st = state(ctx)
    out = st.output()
    task_id = task_ref(st.db, task)
    msg = block_task(st.db, st.config, task_id, reason, actor(by))
    out.message(f"#{task_id} is blocked: {reason.strip()}")
    deliver(st, out, [msg], no_send)


@app.command("unblock")
def unblock(
    ctx: typer.Context,
    task: TaskArg,
    status: Annotated[str | None, typer.Option("--status", help="Status after unblocking.")] = None,
    by: ByOpt = None,
) -> None:
    """End the blocking episode (escalations start over if it is blocked again).

    \b
    Example:
      teamops task unblock 12
    """

    st = state(ctx)
    task_id = task_ref(st.db, task)
    unblock_task(st.db, st.config, task_id, actor(by), status)
    st.output().message(f"#{task_id} is unblocked")


@app.command("done")
def done(ctx: typer.Context, task: TaskArg, by: ByOpt = None) -> None:
    """Mark a task done.

    \b
    Example:
      teamops task done 12
    """

    st = state(ctx)
    task_id = task_ref(st.db, task)
    update_task(st.db, st.config, task_id, TaskChange(status=st.config.tasks.done_statuses[0]), actor(by))
    st.output().message(f"#{task_id} is done")


@app.command("list")
def list_(
    ctx: typer.Context,
    status: Annotated[str | None, typer.Option("--status", help="Only this status.")] = None,
    sprint: Annotated[str | None, typer.Option("--sprint", help="Only this sprint.")] = None,
    person: Annotated[str | None, typer.Option("--person", help="Only tasks where this person has a role.")] = None,
    open_only: Annotated[bool, typer.Option("--open", help="Only tasks not done.")] = False,
    limit: LimitOpt = None,
    fmt: FormatOpt = None,
) -> None:
    """Tasks with status, points, sprint and owners.

    \b
    Example:
      teamops task list --open --person bob
    """

    st = state(ctx)
    rows, more = limited(list_tasks(st.reader, st.config, status, sprint, person, open_only), limit)
    st.output(fmt_value(fmt)).report(
        Report(
            name="tasks",
            rows=rows,
            more=more,
            columns=[
                Column("id", "#", numeric=True),
                Column("title", "Title", cut=True),
                Column("status", "Status"),
                Column("points", "Points", numeric=True),
                Column("sprint", "Sprint"),
                Column("responsible", "R"),
                Column("accountable", "A"),
                Column("due", "Due"),
            ],
            meta={"status": status, "sprint": sprint, "person": person, "open": open_only},
            empty="no tasks: add one with `teamops task add TITLE -R HANDLE -A HANDLE`",
        )
    )


@app.command("show")
def show(ctx: typer.Context, task: TaskArg, fmt: FormatOpt = None) -> None:
    """A task's fields, roles, RACI problems and full history.

    \b
    Example:
      teamops task show 12 -f json
    """

    st = state(ctx)
    out = st.output(fmt_value(fmt))
    db = st.reader
    task_id = task_ref(db, task)
    info = current(db, task_id)
    holders = holders_of(db, [task_id])[task_id]
    roles = {ROLE_NAMES[r]: [h.label for h in holders if h.role == r] for r in ROLE_NAMES}
    problems = [v.message for v in check_tasks(db, st.config, task_id)]
    events = history(db, task_id)
    if out.fmt == "json":
        out.data({"report": "task", **info, "roles": roles, "raci_violations": problems, "events": events}, "")
        return
    lines = [f"#{task_id} {info['title']}  [{info['status']}]"]
    for key in (
        "points",
        "estimate_hours",
        "spent_hours",
        "sprint",
        "due_date",
        "url",
        "source",
        "blocked_reason",
        "blocked_since",
        "started_at",
        "done_at",
        "created_at",
    ):
        if info[key] is not None:
            lines.append(f"  {key.replace('_', ' ')}: {info[key]}")
    for name, people in roles.items():
        if people:
            lines.append(f"  {name}: {', '.join(people)}")
    for problem in problems:
        lines.append(f"  RACI: {problem}")
    out.stdout.write("\n".join(lines) + "\n")
    out.report(
        Report(
            name="task-events",
            rows=events,
            title="History",
            columns=[
                Column("at", "When"),
                Column("actor", "Who"),
                Column("field", "Field"),
                Column("old", "Old", cut=True),
                Column("new", "New", cut=True),
            ],
        )
    )


def sync_tasks(
    ctx: typer.Context,
    full: FullOpt = False,
    fmt: FormatOpt = None,
) -> None:
    """Mirror every configured tracker's tasks, sprints, points, hours, RACI fields and status history (ClickUp).

    A full pass (--full, or every [clickup] full_every_hours) also marks tasks moved out or deleted.

    \b
    Examples:
      teamops sync-tasks            # incremental: tasks updated since the last run
      teamops sync-tasks --full     # every task again
    """

    st = state(ctx)
    out = st.output(fmt_value(fmt))
    cfg = st.config
    chosen = [t for t in trackers() if t.configured(cfg)]
    if not chosen:
        raise ConfigError(
            "no task tracker is configured: nothing to sync",
            "configure "
            + " or ".join(f"{t.label} (docs/{t.kind}.md)" for t in trackers())
            + "; or import a CSV export: `teamops task import FILE`",
        )
    synced = []
    for tracker in chosen:
        with out.progress("tasks") as progress:
            result = tracker(cfg).sync_tasks(st.db, full, progress)
        for note in result.notes:
            out.message(note)
        out.message(result.line)
        synced.append(result.data)
    if out.fmt == "json":
        out.data(synced[0] if len(synced) == 1 else {"report": "sync-tasks", "trackers": synced}, "")


def register(app: typer.Typer) -> None:
    app.command("sync-tasks")(sync_tasks)


IMPORT_MAX_MB = 200  # a tracker's export of 100,000 tasks with descriptions is tens of MB


@app.command("import")
def import_cmd(
    ctx: typer.Context,
    file: Annotated[
        str,
        typer.Argument(help="A CSV file (Jira's export, or a plain sheet; '-' for stdin)."),
    ],
    mapping: Annotated[
        list[str] | None, typer.Option("--map", help="A header onto a field, e.g. 'Estimate=points' (repeatable).")
    ] = None,
    status_map: Annotated[
        list[str] | None, typer.Option("--status", help="A status name onto a status, e.g. 'Code Review=review'.")
    ] = None,
    source: Annotated[
        str | None,
        typer.Option("--source", help="What the keys belong to (default: jira-csv for Jira's headers, else csv)."),
    ] = None,
    encoding: Annotated[str | None, typer.Option("--encoding", help="The file's encoding (default: UTF-8).")] = None,
    skip_bad: Annotated[bool, typer.Option("--skip-bad", help="Store the good rows when some are bad.")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Check every row; store nothing.")] = False,
    by: ByOpt = None,
    fmt: FormatOpt = None,
) -> None:
    """Create or update tasks from another tracker's CSV, by their key; every row is checked first.

    A bad row is one line with its row number, and nothing is stored unless --skip-bad. Importing the
    same file again changes nothing; a changed row updates its task (with its history).

    \b
    Examples:
      teamops task import jira-export.csv
      teamops task import sheet.csv --map 'Estimate=points' --status 'Code Review=review'
    """
    import sys
    from pathlib import Path

    from teamops.errors import InvalidInput, UsageError
    from teamops.work.task_import import decode, import_rows, parse_map, parse_statuses, read_rows

    st = state(ctx)
    out = st.output(fmt_value(fmt))
    cap = IMPORT_MAX_MB * 1_000_000
    if "\x00" in file:
        raise UsageError(f"{file!r} is not a file name")
    try:
        if file == "-":
            data = sys.stdin.buffer.read(cap + 1)
        else:
            with Path(file).open("rb") as f:
                data = f.read(cap + 1)
    except OSError as exc:
        raise InvalidInput(f"cannot read {file}: {exc.strerror}") from None
    if len(data) > cap:
        raise InvalidInput(f"{file} is larger than {IMPORT_MAX_MB} MB: refused")
    if source is not None and not source.replace("-", "").replace("_", "").isalnum():
        raise UsageError(f"--source {source!r}: letters, digits, '-' and '_' only")
    rows, bad, found = read_rows(
        decode(data, encoding), st.config, parse_map(mapping or []), parse_statuses(status_map or [], st.config)
    )
    for line in bad[:50]:
        out.message(line)
    if len(bad) > 50:
        out.message(f"... and {len(bad) - 50:,} more bad rows")
    if bad and not skip_bad:
        raise InvalidInput(
            f"{count(len(bad), 'bad row')} of {len(rows) + len(bad):,}: nothing was stored",
            "fix them, or store the good rows with --skip-bad",
        )
    if dry_run:
        out.data(
            {"report": "task-import", "dry_run": True, "rows": len(rows), "bad": len(bad)},
            f"dry run: {count(len(rows), 'row')} would be imported, {len(bad):,} bad; nothing stored",
        )
        return
    name = "stdin" if file == "-" else Path(file).name
    result = import_rows(st.db, st.config, rows, source or found, name, actor(by))
    notes = []
    if result.unknown_sprints:
        notes.append(
            f"{count(len(result.unknown_sprints), 'sprint')} not in teamops (create them with teamops sprint add)"
        )
    if result.unmatched_assignees:
        notes.append(
            f"{count(len(result.unmatched_assignees), 'assignee')} not matched to anyone (see teamops people add)"
        )
    text = (
        f"imported {count(result.rows, 'task')} from {name} as {result.source}: {result.added:,} new, "
        f"{result.changed:,} changed, {result.same:,} unchanged"
        + (f", {len(bad):,} bad rows left out" if bad else "")
        + (f"; {'; '.join(notes)}" if notes else "")
    )
    out.data(
        {
            "report": "task-import",
            "source": result.source,
            "rows": result.rows,
            "added": result.added,
            "changed": result.changed,
            "unchanged": result.same,
            "bad": len(bad),
        },
        text,
    )


SUGGESTED = [Column("task", "Task"), Column("title", "Title", cut=True), Column("points", "Points", numeric=True)]


@app.command("suggest")
def suggest_cmd(
    ctx: typer.Context,
    tasks: Annotated[
        list[str] | None, typer.Argument(help="Tasks by key or #id (default: every open one without points).")
    ] = None,
    model: Annotated[
        str | None, typer.Option("--model", help="Ask a litellm model, shown the most similar finished tasks.")
    ] = None,
    api_base: Annotated[str | None, typer.Option("--api-base", help="An OpenAI-compatible server's URL.")] = None,
    budget_usd: Annotated[
        float | None, typer.Option("--budget-usd", min=0, help="Stop before spending more (default: [ai] budget_usd).")
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="With --model: what it would send and cost.")] = False,
    fmt: FormatOpt = None,
) -> None:
    """Suggest points from the team's own finished tasks: a value, a likely range and the three most
    similar finished tasks as the reason.

    With fewer than 30 finished tasks with points, the team's median. The model is chosen by its error
    on the newest quarter of the history and kept until that history changes.

    Example: teamops task suggest jira-csv:SHOP-42 --format json
    """
    from teamops.estimation.suggest import as_json, describe, suggest

    st = state(ctx)
    out = st.output(fmt_value(fmt))
    if model:
        _suggest_with_model(st, out, tasks or [], model.strip(), api_base, budget_usd, dry_run)
        return
    from teamops.estimation.suggest import Choice
    from teamops.store.tasks import any_task

    if not tasks and not any_task(st.reader):  # nothing to learn from or suggest for: nothing opened for writing
        found: list[Any] = []
        choice = Choice("median")
    else:
        found, choice = suggest(st.db, st.config, tasks or [])
    rows = [
        {
            "task": s.key,
            "title": s.title,
            "points": s.points,
            "range": f"{s.low:g}–{s.high:g}",
            "like": "; ".join(f"{x.key} ({x.points:g})" for x in s.similar),
        }
        for s in found
    ]
    out.report(
        Report(
            name="task-suggest",
            rows=rows,
            columns=[
                *SUGGESTED,
                Column("range", "Range", drop=2),
                Column("like", "Most like", wrap=True, drop=1),
            ],
            title="Suggested points",
            meta={
                "method": choice.method,
                "k": choice.k,
                "history": choice.tasks,
                "held_out_mae": choice.held_out_mae,
                "median_mae": choice.median_mae,
                "suggestions": [as_json(s) for s in found],
            },
            footer=describe(choice),
            empty="no open task without points" if choice.tasks else _nothing_learned(st),
        )
    )


def _suggest_with_model(
    st: Any, out: Any, tasks: list[str], model: str, api_base: str | None, budget: float | None, dry_run: bool
) -> None:
    """`task suggest --model`: a model's points, each call priced and cached."""
    from teamops.config.validate import is_http_url
    from teamops.errors import UsageError
    from teamops.estimation.suggest_model import suggest_with_model
    from teamops.integrations.model_prices import PricingClient

    if api_base and not is_http_url(api_base):
        raise UsageError(f"--api-base must be an http(s) URL, got {api_base!r}")
    ai = st.config.ai
    pricing = PricingClient(model, ai.max_output_tokens, ai.input_cost_per_mtok, ai.output_cost_per_mtok)

    def client() -> Any:
        from teamops.clients import llm_client

        return llm_client(st.config, model, api_base)

    limit = ai.budget_usd if budget is None else budget
    run = suggest_with_model(st.db, st.config, tasks, model, client, limit, pricing if dry_run else None)
    if dry_run:
        out.data(
            {
                "report": "task-suggest-dry-run",
                "model": model,
                "tokens_in": run.tokens_in,
                "estimated_usd": run.estimated_usd,
                "cached": run.cached,
            },
            f"dry run: {run.tokens_in:,} input tokens for {model}, about ${run.estimated_usd:.4f}; "
            f"{run.cached:,} cached; nothing sent",
        )
        return
    rows = [
        {"task": s.key, "title": s.title, "points": s.points, "rationale": s.rationale, "cached": s.cached}
        for s in run.suggestions
    ]
    meta = {
        "model": model,
        "calls": run.calls,
        "cached": run.cached,
        "tokens_in": run.tokens_in,
        "tokens_out": run.tokens_out,
        "cost_usd": round(run.cost_usd, 6),
        "suggestions": [vars(s) for s in run.suggestions],
    }
    out.report(
        Report(
            name="task-suggest",
            rows=rows,
            columns=[*SUGGESTED, Column("rationale", "Why", wrap=True, drop=1)],
            title=f"Suggested points ({model})",
            meta=meta,
            footer=f"{count(run.calls, 'call')}, {run.cached:,} cached, ${run.cost_usd:.4f}"
            + (f"; {run.stopped}" if run.stopped else ""),
            empty="no open task without points",
        )
    )


def _nothing_learned(st: Any) -> str:
    """Why there is no history to learn from: no tasks with points, or none of them finished."""
    pointed = st.reader.execute("SELECT COUNT(*) FROM tasks WHERE points IS NOT NULL").fetchone()[0]
    if not pointed:
        return "no finished task with points to learn from yet (teamops task import brings a tracker's history)"
    done = ", ".join(st.config.tasks.done_statuses)
    return (
        f"{pointed:,} tasks have points but none is finished ({done}); an import without a status column "
        "can say they are: --status '=done'"
    )
