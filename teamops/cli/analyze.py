"""`teamops analyze`: effort estimates for commits, with the heuristic (default) or an LLM."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

import typer

from teamops.cli.options import DryRunOpt, FormatOpt, ReposOpt, SinceOpt, UntilOpt, finite, fmt_value
from teamops.cli.output import Output
from teamops.cli.state import state
from teamops.clients import llm_client
from teamops.config.validate import is_http_url
from teamops.dates import range_bounds
from teamops.errors import ServiceError, UsageError
from teamops.estimation.estimate import AnalyzeOptions, AnalyzeResult, run_analyze
from teamops.people.handles import repos_of
from teamops.reports.model import Column, Report
from teamops.sources.diffs import DiffReader
from teamops.wording import count


def analyze(
    ctx: typer.Context,
    model: Annotated[
        str | None, typer.Option("--model", help='"heuristic" or a litellm model, e.g. openai/gpt-4o-mini.')
    ] = None,
    api_base: Annotated[str | None, typer.Option("--api-base", help="An OpenAI-compatible server's URL.")] = None,
    concurrency: Annotated[int | None, typer.Option("--concurrency", min=1, max=64, help="Calls at once.")] = None,
    limit: Annotated[
        int | None,
        typer.Option("--limit", min=1, help="At most this many commits (merges, always 0, aside)."),
    ] = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    repo: ReposOpt = None,
    reanalyze: Annotated[bool, typer.Option("--reanalyze", help="Estimate again even when cached.")] = False,
    retry_failed: Annotated[bool, typer.Option("--retry-failed", help="Try commits that failed before.")] = False,
    budget_usd: Annotated[
        float | None,
        typer.Option(
            "--budget-usd", min=0, max=1_000_000, callback=finite, help="Stop before a call would pass this spend."
        ),
    ] = None,
    dry_run: DryRunOpt = False,
    fmt: FormatOpt = None,
) -> None:
    """Estimate story points and hours for commits that have no estimate for this model yet.

    \b
    Examples:
      teamops analyze                                   # offline heuristic, no tokens
      teamops analyze --model openai/gpt-4o-mini --dry-run
      teamops analyze --model ollama/llama3 --api-base http://localhost:11434
      teamops analyze --model openai/qwen2.5 --api-base http://gpu-box:8000/v1 --limit 50
    """

    if api_base is not None and not is_http_url(api_base):
        raise UsageError(f"--api-base must be an http(s) URL such as http://localhost:11434, not {api_base[:80]!r}")
    st = state(ctx)
    out = st.output(fmt_value(fmt))
    cfg = st.config
    ai = cfg.ai
    lo, hi = range_bounds(since, until)
    opts = AnalyzeOptions(
        model=(model or ai.model).strip(),
        since=lo,
        until=hi,
        repo_ids=repos_of(st.reader, repo),
        limit=limit,
        reanalyze=reanalyze,
        retry_failed=retry_failed,
        budget_usd=ai.budget_usd if budget_usd is None else budget_usd,
        concurrency=concurrency or ai.concurrency,
        max_diff_tokens=ai.max_diff_tokens,
    )
    if not opts.model:
        raise UsageError("--model must name a model")
    db = st.db
    if opts.model == "heuristic":
        from teamops.kpi.estimates import team_hours_per_point

        calibrated = team_hours_per_point(db, cfg)
        if calibrated is not None:
            opts.hours_per_point = calibrated[0]
            out.detail(f"  hours at the team's own {calibrated[0]:g} h a point ({calibrated[1]:,} finished tasks)")

    def client_factory():  # type: ignore[no-untyped-def]
        if dry_run:  # prices and tokens from litellm's bundled files: no key, no network, no litellm import
            from teamops.integrations.model_prices import PricingClient

            return PricingClient(opts.model, ai.max_output_tokens, ai.input_cost_per_mtok, ai.output_cost_per_mtok)
        return llm_client(cfg, opts.model, api_base)

    from teamops.sources.runner import Sources

    diff_for = DiffReader(db, Sources(cfg))

    with out.progress(f"analyze {opts.model}") as progress:
        try:
            result = run_analyze(db, opts, client_factory, diff_for, progress, dry_run=dry_run)
        finally:
            diff_for.close()
    if dry_run:
        _show_dry_run(out, opts, result)
        return
    _show_result(out, opts, result)


def _show_dry_run(out: Output, opts: AnalyzeOptions, result: AnalyzeResult) -> None:
    """What a run would send and cost, so a budget can be set before any token is spent."""
    out.report(
        Report(
            name="analyze-dry-run",
            rows=result.dry_run,
            columns=[
                Column("repo", "Repo"),
                Column("sha", "Commit"),
                Column("subject", "Subject", cut=True),
                Column("tokens_in", "Tokens in", numeric=True),
                Column("est_cost_usd", "Est. USD", numeric=True, decimals=6),
            ],
            meta={
                "model": opts.model,
                "commits": len(result.dry_run),
                "cached": result.cached,
                "tokens_in": result.tokens_in,
                "est_cost_usd": round(result.cost_usd, 6),
                "budget_usd": opts.budget_usd,
            },
            empty="nothing to estimate: every commit in range has an estimate for this model",
        )
    )
    out.message(
        f"dry run ({opts.model}): would estimate {count(len(result.dry_run), 'commit')}, "
        f"~{result.tokens_in:,} input tokens, est. ${result.cost_usd:.6f} at most "
        f"(budget ${opts.budget_usd:.2f}); {result.cached:,} cached; nothing was sent"
    )


def _show_result(out: Output, opts: AnalyzeOptions, result: AnalyzeResult) -> None:
    """One summary line (and JSON); failures are exit 4 since everything else is stored."""
    for failure in result.failures[1:20]:
        out.detail(f"  failed {failure}")
    for note in result.notes[:20]:
        out.message(f"  estimated on part of {note}")
    model = opts.model + (f", {opts.hours_per_point:g} h a point" if opts.hours_per_point else "")
    line = f"analyze ({model}): {result.estimated:,} estimated, {result.cached:,} cached, {result.failed:,} failed"
    if opts.model != "heuristic":
        line += f"; {result.tokens_in:,} tokens in, {result.tokens_out:,} out, ${result.cost_usd:.4f}"
    line += f"; {result.seconds:.1f} s"
    if result.waiting_for_counts:
        line += f"; {result.waiting_for_counts:,} wait for line counts"
    if result.stopped_by_budget:
        line += f"; stopped at the ${opts.budget_usd:.2f} budget with {result.stopped_by_budget:,} left"
    out.message(line)
    if out.fmt == "json":
        payload = asdict(result)
        payload.pop("dry_run")
        out.data({"report": "analyze", **payload}, "")
    if result.failed:
        raise ServiceError(
            f"{result.failed:,} of {result.estimated + result.failed:,} estimates failed; the first: "
            f"{result.failures[0]}",
            "everything else is stored; `teamops analyze --retry-failed` tries them again, -v lists them",
        )


def register(app: typer.Typer) -> None:
    app.command("analyze")(analyze)
