"""The page model every renderer shares: a report's rows, its columns, and the chart drawn from it.

The terminal's tables, JSON, CSV, Markdown and the static site (`teamops report html`) all render these.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from teamops.wording import hours_text, percent

Series = dict[str, list[float | None]]


@dataclass
class Chart:
    """A chart of a report: bars and lines over labelled periods (weeks, months, sprints, days)."""

    title: str
    labels: list[str]
    bars: Series
    lines: Series = field(default_factory=dict)
    y_label: str | None = None
    mermaid_labels: list[str] | None = None  # shorter labels where Mermaid's axis is crowded
    mermaid_title: str | None = None
    lines_other_unit: bool = False  # the lines count something else (hours, people): the site's chart leaves them out
    levels: bool = False  # the bars are a level over time (a burndown's remaining): an area beside a dashed line


@dataclass
class Column:
    """A column of a report: the row key, its header, and how people read its cells.

    Text is shown whole unless `cut` (titles, messages: shortened with … to fit a terminal);
    `drop` > 0 lets a narrow terminal leave the column out (highest first); `percent` shows a
    ratio as 80% and `decimals` fixes the digits (tables and Markdown; JSON and CSV keep the value).
    """

    key: str
    header: str
    numeric: bool = False
    date: bool = False
    cut: bool = False
    drop: int = 0
    percent: bool = False
    decimals: int | None = None
    wrap: bool = False  # long text goes on more lines at a narrow width (never cut)
    hours: bool = False  # a value in hours, shown as the summary shows it: `5.3 h` under two days, else `61 d`


@dataclass
class Report:
    """Rows plus what a reader needs to interpret them; JSON carries `meta` beside the rows."""

    name: str
    rows: list[dict[str, Any]]
    columns: list[Column]
    title: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    empty: str = "nothing to show"
    footer: str | None = None
    more: int = 0  # rows left out by --limit
    chart: Chart | None = None


def limited(rows: list[dict[str, Any]], limit: int | None) -> tuple[list[dict[str, Any]], int]:
    """The first `limit` rows (0 or None: all) and how many were left out."""
    if not limit or len(rows) <= limit:
        return rows, 0
    return rows[:limit], len(rows) - limit


def cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:,.2f}".rstrip("0").rstrip(".") if value % 1 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, list | tuple):
        return ", ".join(cell(v) for v in value)
    return str(value)


def shown(row: dict[str, Any], col: Column) -> str:
    """A cell as people read it: dates shortened to the day, ratios as percentages."""
    value = row.get(col.key)
    if col.percent and isinstance(value, int | float) and not isinstance(value, bool):
        return percent(value)
    if col.decimals is not None and isinstance(value, int | float) and not isinstance(value, bool):
        return f"{value:,.{col.decimals}f}"
    if col.hours and isinstance(value, int | float) and not isinstance(value, bool):
        return hours_text(value)
    text = cell(value)
    return text[:10] if col.date else text


def filled(report: Report) -> list[Column]:
    """The columns with something in them: an empty column only takes room."""
    return [c for c in report.columns if any(row.get(c.key) not in (None, "", []) for row in report.rows)]
