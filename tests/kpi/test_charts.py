"""Charts: Mermaid blocks as Mermaid reads them (and its own parser when node has it), terminal charts as a reader sees them."""

from __future__ import annotations

import pytest

from teamops.cli.charts import mermaid, terminal_chart
from tests.support.mermaid import blocks, mermaid_parse, mermaid_parser_available, parse_xychart

NAME = 'Sprint "7" <b> [x]'


def at(when: str) -> dict[str, str]:
    return {"TEAMOPS_NOW": when}


@pytest.fixture
def midway(cli, isolated):
    """A ten-working-day sprint seen on its fourth day: the days after it have no remaining yet."""
    t0 = at("2026-11-01T12:00:00Z")
    cli("people", "add", "ann", env=t0)
    assert cli("sprint", "add", NAME, "--start", "2026-11-02", "--end", "2026-11-13", env=t0).exit_code == 0
    for title, pts in (("A", "3"), ("B", "5")):
        cli("task", "add", title, "-R", "ann", "-A", "ann", "--points", pts, "--sprint", NAME, "--no-send", env=t0)
    cli("sprint", "start", NAME, env=at("2026-11-02T08:00:00Z"))
    cli("task", "update", "1", "--status", "done", env=at("2026-11-04T16:00:00Z"))
    return at("2026-11-05T12:00:00Z")


def test_every_series_has_one_value_per_label_mid_sprint(cli, midway):
    burn = cli("kpi", "burndown", "-f", "markdown", env=midway).stdout
    vel = cli("kpi", "velocity", "-f", "markdown", env=midway).stdout
    charts = [parse_xychart(b) for b in blocks(burn) + blocks(vel)]
    assert len(charts) == 2
    burndown, velocity = charts
    assert len(burndown.labels) == 12 and burndown.title == "Burndown Sprint '7' <b> [x]"
    (remaining,) = burndown.bars
    assert remaining[:4] == [8, 8, 5, 5] and remaining[4:] == [0] * 8  # no bar for days to come
    (ideal,) = burndown.lines
    assert ideal[0] == 7.2 and ideal[-1] == 0  # the end of each day
    assert velocity.labels == ["Sprint '7' <b> [x]"] and velocity.bars == [[8.0]] and velocity.lines == [[3.0]]


@pytest.mark.skipif(not mermaid_parser_available(), reason="needs node and tests/mermaid's packages (npm install)")
def test_mermaids_own_parser_accepts_each_block(cli, midway):
    diagrams = blocks(cli("kpi", "burndown", "-f", "markdown", env=midway).stdout)
    diagrams += blocks(cli("kpi", "velocity", "-f", "markdown", env=midway).stdout)
    assert mermaid_parse(diagrams) == ["ok xychart", "ok xychart"]
    assert mermaid_parse(["xychart-beta\n  line [1, NaN]\n"])[0].startswith("error")  # the parser does refuse


def test_a_series_that_does_not_fit_the_labels_is_refused():
    with pytest.raises(ValueError, match="has 2 values for 3 labels"):
        mermaid("t", ["a", "b", "c"], {"x": [1, 2]}, {})
    gappy = mermaid("t", ["a", "b"], {"n": [1, 2]}, {"x": [1, None], "y": [3, 4]})
    assert "line [1, 0]" not in gappy and "line [3, 4]" in gappy  # no line drops to a false zero
    assert "x: not known for every period, in the table only" in gappy


def test_terminal_chart_legend_sits_under_the_plot_and_dates_are_short():
    labels = [f"2026-11-{d:02d}" for d in range(2, 16)]
    text = terminal_chart(
        "Burndown",
        labels,
        {"remaining": [8.0] * 6 + [None] * 8},
        {"ideal": [8.0 - i * 0.6 for i in range(14)]},
        color=False,
    )
    rows = text.rstrip("\n").splitlines()
    assert rows[-1] == "█ remaining   • ideal"  # below the plot, never over the data
    assert not any("remaining" in r or "ideal" in r for r in rows[:-1])
    axis = next(r for r in rows if "11-02" in r)
    assert "2026-" not in axis and ("11-14" in axis or "11-15" in axis)


def test_charts_only_on_a_terminal_unless_asked(cli, midway):
    piped = cli("kpi", "velocity", env=midway).stdout
    asked = cli("kpi", "velocity", "--chart", env=midway).stdout
    assert "█ committed" not in piped and "█ committed   • completed" in asked
    assert "█" not in cli("kpi", "burndown", "--chart", "-f", "json", env=midway).stdout  # JSON stays JSON
