"""Option aliases declared once and reused by every command."""

from __future__ import annotations

import math
from enum import StrEnum
from typing import Annotated

import typer


class Format(StrEnum):
    """Output formats every report supports."""

    table = "table"
    json = "json"
    csv = "csv"
    markdown = "markdown"


FormatOpt = Annotated[
    Format | None,
    typer.Option("--format", "-f", help="Output format: table, json, csv or markdown."),
]
SinceOpt = Annotated[
    str | None,
    typer.Option("--since", help="Start: YYYY-MM-DD, an ISO time, or relative (7d, 4w, 3m)."),
]
UntilOpt = Annotated[
    str | None,
    typer.Option("--until", help="End (inclusive day): YYYY-MM-DD, an ISO time, or relative."),
]
PersonOpt = Annotated[str | None, typer.Option("--person", help="Only this person (handle).")]
TeamOpt = Annotated[str | None, typer.Option("--team", help="Only people of this team.")]
ServiceOpt = Annotated[
    str | None, typer.Option("--service", help="Only the deployments of this [[services]] entry (docs/kpi.md).")
]
RepoOpt = Annotated[str | None, typer.Option("--repo", help="A local path or a GitHub owner/name.")]
ReposOpt = Annotated[
    list[str] | None,
    typer.Option("--repo", help="Only these repositories (repeatable; names, owner/name, paths or globs: 'acme/*')."),
]
LimitOpt = Annotated[
    int | None, typer.Option("--limit", min=0, max=1_000_000, help="Show at most N rows (0: all), then 'N more'.")
]
FullOpt = Annotated[
    bool, typer.Option("--full", help="Re-read everything instead of stopping at what is already stored.")
]
NoSendOpt = Annotated[
    bool, typer.Option("--no-send", help="Queue the notifications; deliver later with `notify send`.")
]
SprintOpt = Annotated[str | None, typer.Option("--sprint", help="A sprint (default: the active or last one).")]
IncludeBotsOpt = Annotated[
    bool,
    typer.Option("--include-bots", help="Count bot accounts ([bot], [bots] patterns) as people; left out by default."),
]
ChartOpt = Annotated[
    bool | None,
    typer.Option("--chart/--no-chart", help="Draw the chart under the table (default: only on a terminal)."),
]
DryRunOpt = Annotated[bool, typer.Option("--dry-run", help="Show what would happen; change and send nothing.")]


def finite(ctx: typer.Context, param: typer.CallbackParam, value: float | None) -> float | None:
    """Numbers people type are finite: `nan`, `inf` and `1e309` are usage errors, not stored values."""

    if value is not None and not math.isfinite(value):
        raise typer.BadParameter(f"{value} is not a finite number", ctx=ctx, param=param)
    return value


def fmt_value(fmt: Format | None) -> str | None:
    return fmt.value if fmt is not None else None


def group_help(text: str, example: str) -> str:
    """A command group's help: its purpose, then an example kept on its own line."""
    return f"{text}\n\n\b\nExample:\n  {example}"
