"""`teamops gen-doc`: a weekly summary or release notes, written offline or by a model, published to ClickUp."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from teamops.cli.notify import deliver
from teamops.cli.options import DryRunOpt, FormatOpt, NoSendOpt, fmt_value
from teamops.cli.state import AppState, state
from teamops.cli.writing import write_file
from teamops.clients import llm_client
from teamops.clock import now
from teamops.docgen import budget_material, document_period, gather, store, write
from teamops.errors import UsageError
from teamops.messages.publish import publish
from teamops.wording import count


def gen_doc(
    ctx: typer.Context,
    kind: Annotated[str, typer.Argument(help="weekly (the last ISO week by default) or release.")] = "weekly",
    span: Annotated[
        str | None,
        typer.Argument(
            metavar="[RELEASE]",
            help="Release notes: A..B (git log --no-merges A..B), or a tag B (from the release tag before it).",
        ),
    ] = None,
    since: Annotated[str | None, typer.Option("--since", help="Start: a date or, for release notes, a tag.")] = None,
    until: Annotated[str | None, typer.Option("--until", help="End: a date or a tag (default: now).")] = None,
    repo: Annotated[str | None, typer.Option("--repo", help="Only this repository.")] = None,
    title: Annotated[str | None, typer.Option("--title", help="The document's title.")] = None,
    out_file: Annotated[str | None, typer.Option("--out", help="Write the Markdown to FILE.")] = None,
    publish: Annotated[bool, typer.Option("--publish", help="Create or update the ClickUp Docs page.")] = False,
    dry_run: DryRunOpt = False,
    model: Annotated[str | None, typer.Option("--model", help='"heuristic" or a litellm model.')] = None,
    no_send: NoSendOpt = False,
    fmt: FormatOpt = None,
) -> None:
    """Write a Markdown document from commits, estimates and tasks; store it; publish it to ClickUp.

    \b
    Examples:
      teamops gen-doc weekly --out week.md
      teamops gen-doc release v1.4.0..v1.5.0
      teamops gen-doc release v1.5.0 --model openai/gpt-4o-mini --publish
    """

    st = state(ctx)
    out = st.output(fmt_value(fmt))
    cfg = st.config
    if kind not in ("weekly", "release"):
        raise UsageError(f"gen-doc makes weekly or release documents, not {kind!r}")
    if publish and not dry_run:
        from teamops.messages.publish import check_publishing

        check_publishing(cfg)  # before any work: a model is not paid for a document that cannot be published
    period = document_period(st.db, cfg, kind, since, until, title, now(), span, repo)
    lo, hi, title = period.since, period.until, period.title
    if period.note:
        out.message(period.note)
    model = (model or cfg.ai.model).strip()
    db = st.db
    material = gather(db, cfg, kind, period, repo)
    if material.missing:
        out.message(
            f"warning: {count(material.missing, 'commit')} of {material.span} not synced: "
            "sync the branches that hold them (teamops sync-commits --branch ...)"
        )
    doc: dict[str, Any] = {"report": "gen-doc", "kind": kind, "title": title, "since": lo, "until": hi, "repo": repo}
    if dry_run and model != "heuristic":
        text = budget_material(material, cfg.ai.max_diff_tokens)
        out.data({**doc, "model": model, "dry_run": True, "material": text}, text)
        out.message(f"dry run: would send ~{len(text) // 4:,} tokens of material to {model}; nothing was sent")
        return
    client = None
    if model != "heuristic":
        client = llm_client(cfg, model, max_output_tokens=1500)
    written = write(material, model, client, cfg.ai.max_diff_tokens)
    doc.update(model=written.model, commits=len(material.commits), tasks_done=len(material.done))
    if dry_run:
        out.data({**doc, "dry_run": True, "content": written.content}, written.content.rstrip("\n"))
        out.message("dry run: nothing was stored, published or sent")
        return
    if out_file:
        write_file(Path(out_file), written.content)
    doc_id = store(db, material, written)
    line = (
        f"gen-doc {kind} ({written.model}): {count(len(material.commits), 'commit')}, "
        f"{count(len(material.done), 'task')} done"
    )
    if written.model != "heuristic":
        line += f"; {written.tokens_in:,} tokens in, {written.tokens_out:,} out, ${written.cost_usd:.4f}"
    out.message(line + (f"; written to {out_file}" if out_file else ""))
    url = _publish(st, doc_id, title, written.content, no_send) if publish else None
    if out.fmt == "json":
        out.data({**doc, "id": doc_id, "out": out_file, "url": url, "content": written.content}, "")
    elif not out_file and not publish:
        out.stdout.write(written.content)


def _publish(st: AppState, row_id: int, title: str, content: str, no_send: bool) -> str:

    out = st.output()
    done = publish(st.db, st.config, row_id, title, content)
    out.message(f"published: {done.action} page {title!r} in ClickUp doc {st.config.clickup.docs_name!r}: {done.url}")
    deliver(st, out, [done.message], no_send)
    return done.url


def register(app: typer.Typer) -> None:
    app.command("gen-doc")(gen_doc)
