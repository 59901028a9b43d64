"""`teamops config show`: the effective configuration, secrets redacted."""

from __future__ import annotations

import os

import typer

from teamops.cli.options import FormatOpt, fmt_value, group_help
from teamops.cli.state import state
from teamops.config import flatten
from teamops.reports.model import Column, Report

app = typer.Typer(help=group_help("Inspect the configuration.", "teamops config show"), no_args_is_help=True)


@app.command("show")
def show(ctx: typer.Context, fmt: FormatOpt = None) -> None:
    """Print every key with its value and where it came from (default, file, env, flag).

    \b
    Example:
      teamops config show -f json
    """

    st = state(ctx)
    cfg = st.config
    st.output(fmt_value(fmt)).report(
        Report(
            name="config",
            rows=flatten(cfg, os.environ),
            columns=[Column("key", "Key"), Column("value", "Value", cut=True), Column("source", "Source")],
            title=f"Configuration ({cfg.file or 'no config file: defaults'})",
            meta={"file": str(cfg.file) if cfg.file else None, "database": str(cfg.db_path())},
        )
    )
