"""Read teamops' Mermaid `xychart-beta` blocks the way Mermaid does, and run Mermaid's own parser when it is there."""

from __future__ import annotations

import math
import re
import shutil
import subprocess
from dataclasses import dataclass, field

from tests.support.paths import TESTS

PARSER = TESTS / "mermaid"
STRING = r'"[^"\n]*"'


@dataclass
class XYChart:
    title: str = ""
    labels: list[str] = field(default_factory=list)
    y_range: tuple[float, float] = (0, 0)
    bars: list[list[float]] = field(default_factory=list)
    lines: list[list[float]] = field(default_factory=list)


def blocks(markdown: str) -> list[str]:
    return re.findall(r"```mermaid\n(.*?)```", markdown, re.S)


def _numbers(text: str) -> list[float]:
    values = [v.strip() for v in text.split(",")]
    # Mermaid's grammar takes plain decimal numbers only: NaN, inf or an empty slot do not parse.
    assert all(re.fullmatch(r"-?\d+(\.\d+)?", v) for v in values), values
    return [float(v) for v in values]


def parse_xychart(block: str) -> XYChart:
    """The chart, with every rule teamops relies on checked: quoted strings, numbers, one value per label."""
    lines = [line.strip() for line in block.strip().splitlines()]
    assert lines[0] == "xychart-beta", lines[0]
    chart = XYChart()
    for line in lines[1:]:
        if m := re.fullmatch(rf"title ({STRING})", line):
            chart.title = m[1][1:-1]
        elif m := re.fullmatch(rf"x-axis \[((?:{STRING}(?:, )?)+)\]", line):
            chart.labels = [s[1:-1] for s in re.findall(STRING, m[1])]
        elif m := re.fullmatch(rf"y-axis {STRING} (-?[\d.]+) --> (-?[\d.]+)", line):
            chart.y_range = (float(m[1]), float(m[2]))
        elif m := re.fullmatch(r"(bar|line) \[(.*)\]", line):
            (chart.bars if m[1] == "bar" else chart.lines).append(_numbers(m[2]))
        else:
            raise AssertionError(f"not xychart-beta: {line!r}")
    for series in [*chart.bars, *chart.lines]:
        assert len(series) == len(chart.labels), (len(series), len(chart.labels))  # else Mermaid draws NaN
        assert all(math.isfinite(v) and chart.y_range[0] <= v <= chart.y_range[1] for v in series)
    return chart


def mermaid_parser_available() -> bool:
    return shutil.which("node") is not None and (PARSER / "node_modules" / "mermaid").is_dir()


def mermaid_parse(diagrams: list[str]) -> list[str]:
    """Mermaid's own verdict on each diagram ("ok xychart" or "error ...")."""
    proc = subprocess.run(
        ["node", str(PARSER / "parse.mjs")],
        input="\0".join(diagrams),
        capture_output=True,
        text=True,
        cwd=PARSER,
        timeout=120,
    )
    return proc.stdout.splitlines()
