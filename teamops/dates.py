"""Parse the dates people type (`2026-11-01`, ISO times, `4w`) into UTC bounds."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from functools import cache

from teamops.clock import now as clock_now
from teamops.clock import parse_iso, to_iso
from teamops.errors import UsageError

RELATIVE_RE = re.compile(r"^(\d+)\s*([hdwmy])$")
UNITS = {"h": timedelta(hours=1), "d": timedelta(days=1), "w": timedelta(weeks=1)}


EARLIEST, LATEST = 1900, 2999  # years a date typed on the command line may name


def parse_moment(value: str, *, end: bool = False, now: datetime | None = None) -> datetime:
    """A point in time; a bare date means its start, or the start of the next day when `end`."""
    try:
        moment = _parse_moment(value, end=end, now=now or clock_now())
    except (OverflowError, ValueError):
        moment = None
    if moment is None or not EARLIEST <= moment.year <= LATEST:
        raise UsageError(
            f"cannot read {value[:60]!r} as a date between {EARLIEST} and {LATEST}",
            "use YYYY-MM-DD, an ISO time, or 7d / 4w / 3m",
        )
    return moment


def _parse_moment(value: str, *, end: bool, now: datetime) -> datetime | None:
    text = value.strip().lower()
    if text in ("today", "yesterday"):
        day = now.date() - timedelta(days=1 if text == "yesterday" else 0)
        return _day_bound(day, end)
    match = RELATIVE_RE.match(text)
    if match:
        n, unit = int(match.group(1)), match.group(2)
        if unit == "m":
            return now - timedelta(days=30 * n)
        if unit == "y":
            return now - timedelta(days=365 * n)
        return now - n * UNITS[unit]
    try:
        if len(text) == 10:
            return _day_bound(date.fromisoformat(text), end)
        return parse_iso(value.strip())
    except ValueError:
        return None


def _day_bound(day: date, end: bool) -> datetime:
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    return start + timedelta(days=1) if end else start


def range_bounds(since: str | None, until: str | None) -> tuple[str | None, str | None]:
    """ISO UTC bounds: `since` inclusive, `until` exclusive; refuses an empty range."""
    lo = parse_moment(since) if since else None
    hi = parse_moment(until, end=True) if until else None
    if lo and hi and lo >= hi:
        raise UsageError(f"--since {since} is not before --until {until}")
    return (to_iso(lo) if lo else None, to_iso(hi) if hi else None)


@cache
def _week_of_day(day: str) -> str:
    year, week, _ = date.fromisoformat(day).isocalendar()
    return f"{year}-W{week:02d}"


def iso_week_of(stamp: str) -> str:
    """A stored UTC time's ISO week (`2026-W07`), worked out once a day: reports group many times a day."""
    return _week_of_day(stamp[:10])


def iso_weeks(since: str, until: str) -> list[str]:
    """Every ISO week (`2026-W07`) a UTC range [since, until) touches, oldest first: empty weeks included."""
    from teamops.clock import parse_iso

    first, last = parse_iso(since).date(), (parse_iso(until) - timedelta(microseconds=1)).date()
    day, weeks = first - timedelta(days=first.weekday()), []
    while day <= last:
        year, week, _ = day.isocalendar()
        weeks.append(f"{year}-W{week:02d}")
        day += timedelta(days=7)
    return weeks
