"""How numbers read in sentences, the same in every message: plurals, separators, percentages."""

from __future__ import annotations


def count(n: int, singular: str, plural: str | None = None) -> str:
    """`1 commit`, `2 commits`, `1,204 commits` (and `1 person`, `3 people` when given)."""
    word = singular if n == 1 else (plural or singular + "s")
    return f"{n:,} {word}"


def quantity(value: float | None, singular: str, plural: str | None = None) -> str:
    """`1 point`, `1.5 points`, `0 points`: a measured amount with its unit agreeing."""
    word = singular if value == 1 else (plural or singular + "s")
    return f"{number(value or 0)} {word}"


def number(value: float | int | None) -> str:
    """A quantity with thousands separators and no trailing zeros; `n/a` when unknown."""
    if value is None:
        return "n/a"
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.2f}".rstrip("0").rstrip(".")
    return f"{int(value):,}"


def percent(ratio: float | None) -> str:
    """A ratio as people say it: 0.8 → `80%`; some but under half a percent → `<1%` (never a 0% that is not
    nothing), almost all → `>99%`; `n/a` when unknown."""
    if ratio is None:
        return "n/a"
    if 0 < ratio < 0.005:
        return "<1%"
    if 0.995 <= ratio < 1:
        return ">99%"
    return f"{ratio * 100:.0f}%"


def hours_text(value: float | None) -> str:
    """A duration given in hours as people read it: hours under two days, else days (`5.3 h`, `61 d`)."""
    if value is None:
        return "n/a"
    if value < 48:
        return f"{number(value)} h"
    return f"{number(round(value / 24, 1))} d"
