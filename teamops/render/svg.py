"""A report's chart as inline SVG, drawn at build time by pygal: readable with no script and no request."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from teamops.wording import number

if TYPE_CHECKING:
    from teamops.reports.model import Chart

# Two colours with at least 3:1 contrast against both the light and the dark page (WCAG's non-text rule).
PALETTE = ("#2f6fb5", "#c2570c", "#2f8f5b", "#8a55c7")
WIDTH, HEIGHT = 720, 300


def drawn_lines(chart: Chart) -> dict[str, list[float | None]]:
    """The lines drawn beside the bars: those in the bars' unit (another unit, such as hours or people
    per week, would need a second axis that misleads more than it shows; the table has them)."""
    if chart.lines_other_unit:
        return {}
    return {name: values for name, values in chart.lines.items() if any(v is not None for v in values)}


def alt_text(chart: Chart) -> str:
    """What the chart shows, in words: its series' range, peak and latest value."""
    if not chart.labels:
        return f"{chart.title}: no data"
    parts = []
    for name, values in {**chart.bars, **drawn_lines(chart)}.items():
        known = [(v, label) for v, label in zip(values, chart.labels, strict=False) if v is not None]
        if not known:
            continue
        peak, at = max(known, key=lambda pair: pair[0])
        parts.append(f"{name}: highest {number(peak)} ({at}), latest {number(known[-1][0])} ({known[-1][1]})")
    span = f"{chart.labels[0]} to {chart.labels[-1]}" if len(chart.labels) > 1 else chart.labels[0]
    return f"{chart.title}, {span}. " + "; ".join(parts)


def svg(chart: Chart, ident: str) -> str:
    """The chart as an <svg> element: a bar per period and series, or for a level over time (a burndown) a
    filled area and dashed lines."""
    import pygal
    from pygal.style import Style

    style = Style(
        background="transparent",
        plot_background="transparent",
        foreground="currentColor",
        foreground_strong="currentColor",
        foreground_subtle="#8a8f98",
        opacity="1",
        opacity_hover="1",
        colors=PALETTE,
        font_family="system-ui, sans-serif",
        label_font_size=12,
        major_label_font_size=12,
        legend_font_size=13,
        title_font_size=15,
    )
    steps = max(1, len(chart.labels) // 13)  # at most ~13 labels on the axis; the table has every one
    lines = drawn_lines(chart)
    # A level over time (a burndown's remaining) is a filled area and its lines dashed lines (the ideal is a
    # line); counts per period are bars, and so are their lines (pygal draws no bar and line in one chart).
    area = chart.levels and bool(lines)
    kind = pygal.Line if area else pygal.Bar
    graph = kind(
        style=style,
        width=WIDTH,
        height=HEIGHT,
        js=[],
        disable_xml_declaration=True,
        x_label_rotation=30 if len(chart.labels) > 8 else 0,
        x_labels_major_every=steps,
        show_minor_x_labels=False,
        legend_at_bottom=True,
        truncate_label=-1,
        print_values=False,
        margin=8,
        title=chart.title,
        y_title=chart.y_label,
        value_formatter=number,  # 1,234 and 2.5, as every table of the site shows them
    )
    ticks = _count_ticks(chart)
    if ticks:
        graph.y_labels = ticks
    graph.uuid = ident  # stable ids: the same data builds the same page
    graph.xml_filters = [_quiet(alt_text(chart))]
    graph.x_labels = chart.labels
    for name, values in chart.bars.items():
        graph.add(name, values, **({"fill": True} if area else {}))
    for name, values in lines.items():
        graph.add(
            name, values, **({"show_dots": False, "stroke_style": {"width": 3, "dasharray": "8, 5"}} if area else {})
        )
    return str(graph.render(is_unicode=True))


def _count_ticks(chart: Chart) -> list[int] | None:
    """Whole-number ticks when the bars count things (deployments, commits): no axis at 0.1 deployments."""
    values = [v for series in chart.bars.values() for v in series if v is not None]
    if not values or any(v != int(v) or v < 0 for v in values):
        return None
    top = int(max(values)) or 1
    step = max(1, math.ceil(top / 5))
    return list(range(0, top + step, step))


def _quiet(alt: str) -> Any:
    """An XML filter: no script (pygal's tooltip settings), no comments (a date), and a text alternative."""

    def apply(root: Any) -> Any:
        from xml.etree import ElementTree

        root.set("role", "img")
        root.set("aria-label", alt)
        for parent in list(root.iter()):
            for child in list(parent):
                tag = child.tag if isinstance(child.tag, str) else ""
                if child.tag is ElementTree.Comment or tag.endswith("script"):
                    parent.remove(child)
        return root

    return apply
