"""Charts where a picture beats a table: plotext in the terminal, Mermaid xychart-beta in Markdown.

Both draw the same thing: bars for what is counted per period (committed points, points remaining
so far), lines for what is compared with them (completed points, the ideal burndown).
"""

from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING

from teamops.reports.model import Chart, Series

if TYPE_CHECKING:
    from teamops.cli.output import Output
    from teamops.reports.model import Report

ANSI = re.compile(r"\x1b\[[0-9;]*m")

LINE_MARKERS = ["•", "+", "x"]


def wanted(fmt: str, tty: bool, asked: bool | None) -> bool:
    """A chart goes with a table on a terminal; piped output gets one only when asked (--chart)."""
    return fmt == "table" and (tty if asked is None else asked)


def show(out: Output, report: Report, asked: bool | None) -> None:
    """A report in the output's format, then its chart where the format has one (Markdown: Mermaid)."""
    chart: Chart | None = report.chart if report.rows else None
    if out.fmt == "markdown" and chart:
        out.stdout.write(out.markdown(report))
        labels = chart.mermaid_labels or chart.labels
        title = chart.mermaid_title or chart.title
        out.stdout.write(mermaid(title, labels, chart.bars, chart.lines, y_label=chart.y_label or "Points") + "\n")
        return
    out.report(report)
    if chart and wanted(out.fmt, out.tty, asked):
        out.stdout.write(terminal_chart(chart.title, chart.labels, chart.bars, chart.lines, out.color) + "\n")


def _short(label: str) -> str:
    """2026-11-03 → 11-03: dates stay readable at ten ticks to a line."""
    return label[5:] if re.fullmatch(r"\d{4}-\d{2}-\d{2}", label) else label


def terminal_chart(
    title: str,
    labels: list[str],
    bars: Series | None,
    lines: Series,
    color: bool,
    width: int = 78,
    height: int = 16,
) -> str:
    """Bars and lines as text, with the legend under the plot (plotext's own would cover the data).

    A None value is a day still to come: no bar, and the line stops there.
    """
    import plotext as plt

    plt.clf()
    plt.plotsize(width, height)
    plt.theme("clear")
    xs = list(range(1, len(labels) + 1))
    top = max([v for s in [*(bars or {}).values(), *lines.values()] for v in s if v is not None], default=0.0)
    legend = []
    for name, values in (bars or {}).items():
        plt.bar(xs, [v or 0 for v in values], width=0.5, marker="sd")
        legend.append(f"█ {name}")
    for i, (name, values) in enumerate(lines.items()):
        points = [(x, v) for x, v in zip(xs, values, strict=True) if v is not None]
        if points:
            marker = LINE_MARKERS[i % len(LINE_MARKERS)]
            plt.plot([p[0] for p in points], [p[1] for p in points], marker=marker)
            legend.append(f"{marker} {name}")
    shown = [_short(label) for label in labels]
    widest = max((len(s) for s in shown), default=1)
    step = max(1, math.ceil(len(labels) / max(2, (width - 10) // (widest + 2))))
    plt.xticks(xs[::step], shown[::step])
    plt.ylim(0, max(top * 1.1, 1))
    plt.title(title)
    text = str(plt.build()).rstrip("\n") + "\n" + "   ".join(legend) + "\n"
    return text if color else ANSI.sub("", text)


def _quoted(text: str) -> str:
    """A Mermaid string: it has no escape for a double quote, so one becomes a single quote."""
    return '"' + re.sub(r"[\x00-\x1f]+", " ", text).replace('"', "'") + '"'


def mermaid(title: str, labels: list[str], bars: Series | None, lines: Series, y_label: str = "Points") -> str:
    """A Mermaid `xychart-beta` block (GitHub renders it in job summaries and READMEs).

    Every series has exactly one value per x-axis label, as Mermaid needs (a short one renders NaN):
    a bar still to come is 0, so no bar is drawn; a line is drawn only where it is known everywhere.
    """
    for name, values in [*(bars or {}).items(), *lines.items()]:
        if len(values) != len(labels):
            raise ValueError(f"series {name!r} has {len(values)} values for {len(labels)} labels")
    # Mermaid has no gap in a line: one with unknown periods is left to the table, and the legend says so.
    gappy = [name for name, values in lines.items() if any(v is None for v in values)]
    lines = {name: values for name, values in lines.items() if name not in gappy}
    known = [v for s in [*(bars or {}).values(), *lines.values()] for v in s if v is not None]
    top = max(known, default=1) or 1
    out = [
        "```mermaid",
        "xychart-beta",
        f"    title {_quoted(title)}",
        f"    x-axis [{', '.join(_quoted(label) for label in labels)}]",
        f"    y-axis {_quoted(y_label)} 0 --> {math.ceil(top * 1.1)}",
    ]
    out += [f"    bar [{', '.join(_num(v) for v in values)}]" for values in (bars or {}).values()]
    out += [f"    line [{', '.join(_num(v) for v in values)}]" for values in lines.values()]
    legend = [f"bars: {n}" for n in bars or {}] + [f"line: {n}" for n in lines]
    legend += [f"{n}: not known for every period, in the table only" for n in gappy]
    out += ["```", f"_{'; '.join(legend)}_"]
    return "\n".join(out) + "\n"


def _num(value: float | None) -> str:
    if value is None or not math.isfinite(value):
        return "0"
    return f"{value:g}"
