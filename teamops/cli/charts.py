"""Charts where a picture beats a table: plotext in the terminal, Mermaid xychart-beta in Markdown."""

from __future__ import annotations

import re

ANSI = re.compile(r"\x1b\[[0-9;]*m")


def terminal_chart(
    title: str, labels: list[str], series: dict[str, list[float | None]], color: bool, width: int = 78, height: int = 16
) -> str:
    """A line chart as text; None values end a line (days still to come)."""
    import plotext as plt

    plt.clf()
    plt.plotsize(width, height)
    plt.theme("clear")
    xs = list(range(1, len(labels) + 1))
    markers = ["hd", "dot", "sd"]
    top = 0.0
    for i, (name, values) in enumerate(series.items()):
        points = [(x, v) for x, v in zip(xs, values, strict=True) if v is not None]
        if points:
            plt.plot([p[0] for p in points], [p[1] for p in points], label=name, marker=markers[i % 3])
            top = max(top, max(p[1] for p in points))
    step = max(1, len(labels) // 10)
    plt.xticks(xs[::step], [label[5:] if len(label) == 10 else label for label in labels[::step]])
    plt.ylim(0, max(top * 1.05, 1))
    plt.title(title)
    text = str(plt.build())
    return text if color else ANSI.sub("", text)


def mermaid(
    title: str,
    labels: list[str],
    lines: dict[str, list[float | None]],
    bars: dict[str, list[float | None]] | None = None,
    y_label: str = "Points",
) -> str:
    """A Mermaid `xychart-beta` block: GitHub renders it in job summaries and READMEs."""
    values = [v for series in [*lines.values(), *(bars or {}).values()] for v in series if v is not None]
    top = max(values, default=1) or 1
    quoted = ", ".join(f'"{label}"' for label in labels)
    out = [
        "```mermaid",
        "xychart-beta",
        f'    title "{title}"',
        f"    x-axis [{quoted}]",
        f'    y-axis "{y_label}" 0 --> {round(top * 1.1 + 0.5)}',
    ]
    for series in (bars or {}).values():
        out.append(f"    bar [{', '.join(_num(v) for v in _known(series))}]")
    for series in lines.values():
        out.append(f"    line [{', '.join(_num(v) for v in _known(series))}]")
    legend = ", ".join([*(f"bars: {n}" for n in bars or {}), *(f"line {i + 1}: {n}" for i, n in enumerate(lines))])
    out.append("```")
    out.append(f"_{legend}_")
    return "\n".join(out) + "\n"


def _known(series: list[float | None]) -> list[float | None]:
    """Days still to come are left off the end, rather than drawn as zero."""
    end = len(series)
    while end and series[end - 1] is None:
        end -= 1
    return series[:end]


def _num(value: float | None) -> str:
    if value is None:
        return "0"
    return f"{value:g}"
