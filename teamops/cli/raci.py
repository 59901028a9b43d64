"""`teamops raci`: check RACI rules (a workflow gate), escalate blocked tasks, show the matrix."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

import typer

from teamops.cli.notify import say_unrouted
from teamops.cli.options import FormatOpt, NoSendOpt, fmt_value, group_help
from teamops.cli.state import state
from teamops.clock import now
from teamops.errors import Findings
from teamops.messages.notify import send_pending
from teamops.reports.model import Column, Report
from teamops.wording import count
from teamops.work.raci import check_tasks, due_escalations, queue_escalations
from teamops.work.raci import matrix as build
from teamops.work.tasks import task_ref

app = typer.Typer(
    help=group_help("RACI rules, escalations and the responsibility matrix.", "teamops raci check --escalate"),
    no_args_is_help=True,
)


@app.command("check")
def check(
    ctx: typer.Context,
    task: Annotated[str | None, typer.Option("--task", help="Only this task.")] = None,
    escalate: Annotated[
        bool, typer.Option("--escalate", help="Also queue escalations for tasks blocked too long.")
    ] = False,
    no_send: NoSendOpt = False,
    fmt: FormatOpt = None,
) -> None:
    """Report every RACI violation of open tasks; exit 1 when there is one, 0 when clean.

    \b
    Example:
      teamops raci check --escalate      # nightly: report, and escalate blocked tasks
    """

    st = state(ctx)
    out = st.output(fmt_value(fmt))
    db = st.db if escalate else st.reader  # a check alone writes nothing, and creates no database
    task_id = task_ref(db, task) if task else None
    found = check_tasks(db, st.config, task_id)
    if escalate:
        moment = now()
        due = due_escalations(st.db, st.config, moment)
        if due and not st.config.notify.routes.get("escalation"):
            say_unrouted(out, ["escalation"])
            verb = "is" if len(due) == 1 else "are"
            out.message(f"{count(len(due), 'escalation')} {verb} due and will be queued once a channel is routed")
        else:
            ids = queue_escalations(st.db, st.config, due, moment)
            for esc in due:
                out.message(f"escalation: {esc.message.title}")
            if ids and no_send:
                out.message(f"{count(len(ids), 'notification')} queued: deliver with `teamops notify send`")
            elif ids:
                result = send_pending(st.db, st.config, only_ids=ids)
                out.message(f"notifications: {result.sent} sent, {result.failed} failed, {result.deferred} deferred")
    out.report(
        Report(
            name="raci-check",
            rows=[asdict(v) for v in found],
            columns=[
                Column("task_id", "#", numeric=True),
                Column("title", "Title", cut=True),
                Column("status", "Status"),
                Column("rule", "Rule"),
                Column("message", "Violation", cut=True),
            ],
            meta={"task": task, "violations": len(found)},
            empty="RACI: every open task has exactly one Accountable and a Responsible person",
        )
    )
    if found:
        tasks = len({v.task_id for v in found})
        raise Findings(f"{count(len(found), 'RACI violation')} in {count(tasks, 'task')}")


@app.command("matrix")
def matrix(
    ctx: typer.Context,
    sprint: Annotated[str | None, typer.Option("--sprint", help="Only this sprint's tasks.")] = None,
    team: Annotated[str | None, typer.Option("--team", help="Only people of this team.")] = None,
    fmt: FormatOpt = None,
) -> None:
    """People × open tasks with their R, A, C, I letters.

    \b
    Example:
      teamops raci matrix --sprint "Sprint 7"
    """

    st = state(ctx)
    data = build(st.reader, st.config, sprint, team)
    columns = [Column("person", "Person")] + [Column(f"#{t['id']}", f"#{t['id']}") for t in data["tasks"]]
    legend = "  ".join(f"#{t['id']} {t['title'][:30]}" for t in data["tasks"][:12])
    st.output(fmt_value(fmt)).report(
        Report(
            name="raci-matrix",
            rows=data["rows"],
            columns=columns,
            title="RACI matrix",
            meta={"sprint": sprint, "team": team, "tasks": data["tasks"]},
            footer=legend or None,
            empty="no open tasks",
        )
    )
