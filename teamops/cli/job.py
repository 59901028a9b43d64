"""`teamops job`: run a named job's steps under a lock, list jobs, read their history."""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from typer._click.exceptions import ClickException

from teamops.cli.notify import deliver
from teamops.cli.options import FormatOpt, fmt_value, group_help
from teamops.cli.output import Output
from teamops.cli.state import AppState, state
from teamops.cli.writing import write_file
from teamops.errors import ExitCode, Findings, UsageError
from teamops.jobs import failure_message, job_lock, jobs_of, lock_is_free, mark_abandoned, run_job, step_table
from teamops.reports.model import Column, Report
from teamops.store.jobs import count_runs, runs
from teamops.wording import count

if TYPE_CHECKING:
    from teamops.jobs import RunResult

app = typer.Typer(
    help=group_help("Named jobs for cron, systemd and GitHub Actions.", "teamops job run nightly"), no_args_is_help=True
)


def _invoke(ctx: typer.Context, st: AppState, args: list[str]) -> int:
    """Run one teamops command line in this process, through the root command itself; its exit code."""
    full: list[str] = []
    if st.db_flag:
        full += ["--db", st.db_flag]
    if st.config_flag:
        full += ["--config", st.config_flag]
    if st.quiet:
        full.append("--quiet")
    root = ctx.find_root().command
    try:
        code = root.main(args=[*full, *args], prog_name="teamops", standalone_mode=False)
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except ClickException as exc:  # a usage error inside a step (unknown option, bad value)
        st.output().error(" ".join(exc.format_message().split()))
        return int(exc.exit_code)
    return code if isinstance(code, int) else 0


@app.command("run")
def run(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The job: one of `teamops job list`.")],
    continue_on_error: Annotated[
        bool, typer.Option("--continue-on-error", help="Run the remaining steps after a failed one.")
    ] = False,
    wait: Annotated[bool, typer.Option("--wait", help="Wait for another run to finish instead of exiting 75.")] = False,
) -> None:
    """Run a job's steps in order under a lock beside the database; exit 1 when a step failed.

    \b
    Examples:
      teamops job run nightly          # sync, estimate, check RACI and escalate, deliver notifications
      teamops job run eod --wait
    """

    st = state(ctx)
    out = st.output()
    cfg = st.config
    jobs = jobs_of(cfg)
    if name not in jobs:
        raise UsageError(f"no job {name!r}", f"jobs: {', '.join(sorted(jobs))}")
    db_path = cfg.db_path()
    with job_lock(db_path, name, wait):
        db = st.db
        abandoned = mark_abandoned(db, lock_held_elsewhere=False)
        if abandoned:
            out.message(f"{count(abandoned, 'earlier run')} had been killed: recorded as interrupted")
        out.message(f"job {name}: {count(len(jobs[name]), 'step')}")
        result = run_job(
            db,
            name,
            jobs[name],
            lambda args: (_invoke(ctx, st, args), None),
            continue_on_error=continue_on_error,
            on_step=lambda s: out.message(f"  {s.step}: {s.status} in {s.seconds:.1f} s"),
        )
        line = f"job {name}: {result.status} in {result.seconds:.1f} s (run #{result.run_id})"
        if os.environ.get("GITHUB_STEP_SUMMARY"):
            _step_summary(st, result, Path(os.environ["GITHUB_STEP_SUMMARY"]))
        if result.status == "failed":
            failed = [s.step for s in result.steps if s.status == "failed"]
            deliver(st, out, [failure_message(result)], no_send=False)
            out.message(line)
            raise Findings(f"job {name} failed at: {', '.join(failed)}")
        out.message(line)
        if result.status == "interrupted":
            raise typer.Exit(ExitCode.INTERRUPTED)


def _step_summary(st: AppState, result: RunResult, path: Path) -> None:
    """Append the run's steps, the KPI summary and the burndown (with their charts) to the job summary."""
    from teamops.cli.kpi.burndown import render_burndown
    from teamops.cli.kpi.summary import render_summary

    buffer = io.StringIO()
    markdown = Output("markdown", quiet=True, stdout=buffer, stderr=io.StringIO())
    render_summary(st, markdown, None, None, None, None, None, None)
    render_burndown(st, markdown, None)
    write_file(path, step_table(result) + "\n\n" + buffer.getvalue() + "\n", append=True)


@app.command("list")
def list_(ctx: typer.Context, fmt: FormatOpt = None) -> None:
    """The jobs: from [jobs.NAME] in the config, else the built-in nightly, eod and weekly.

    \b
    Example:
      teamops job list
    """

    st = state(ctx)
    cfg = st.config
    rows = [
        {"job": name, "steps": steps, "source": "config" if cfg.jobs else "built-in"}
        for name, steps in sorted(jobs_of(cfg).items())
    ]
    st.output(fmt_value(fmt)).report(
        Report(
            name="jobs",
            rows=rows,
            columns=[Column("job", "Job"), Column("steps", "Steps", cut=True), Column("source", "Source")],
        )
    )


@app.command("history")
def history_(
    ctx: typer.Context,
    job: Annotated[str | None, typer.Option("--job", help="Only this job.")] = None,
    limit: Annotated[
        int, typer.Option("--limit", min=0, max=1_000_000, help="At most this many runs, newest first (0: all).")
    ] = 20,
    fmt: FormatOpt = None,
) -> None:
    """Past runs with their steps, status, time and errors.

    \b
    Example:
      teamops job history --job nightly --limit 5
    """

    st = state(ctx)
    if st.config.db_path().exists():  # a history of nothing creates no database
        mark_abandoned(st.db, lock_held_elsewhere=not lock_is_free(st.config.db_path()))
    rows = runs(st.reader, job, limit)
    st.output(fmt_value(fmt)).report(
        Report(
            name="job-history",
            rows=rows,
            more=count_runs(st.reader, job) - len(rows),
            columns=[
                Column("run", "Run", numeric=True),
                Column("job", "Job"),
                Column("status", "Status"),
                Column("started_at", "Started"),
                Column("seconds", "Seconds", numeric=True),
                Column("steps", "Steps", cut=True),
                Column("error", "Error", cut=True),
            ],
            meta={"job": job, "limit": limit},
            empty="no runs yet: `teamops job run nightly`",
        )
    )
