"""The period a report covers: the one asked for, or a default that follows the data when it is old."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from teamops.clock import parse_iso, to_iso
from teamops.dates import parse_moment
from teamops.errors import UsageError

# Latest activity strictly before a UTC ISO time, or None when there is none at all.
LatestBefore = Callable[[str], str | None]


@dataclass(frozen=True)
class Window:
    """UTC bounds (since inclusive, until exclusive) and how they were chosen, for headers and hints."""

    since: str | None = None
    until: str | None = None
    default_weeks: int | None = None  # the report's default window of this many weeks
    anchored_at: str | None = None  # ...moved back to end at this latest activity (nothing since)

    @property
    def label(self) -> str:
        """`2026-11-03 to 2026-11-30`, `since 2026-01-01`, or `all history` (until is exclusive)."""
        if self.since and self.until:
            return f"{self.since[:10]} to {last_day(self.until)}"
        if self.since:
            return f"since {self.since[:10]}"
        if self.until:
            return f"until {last_day(self.until)}"
        return "all history"

    @property
    def phrase(self) -> str:
        """The window in a sentence: `from 2026-11-03 to 2026-11-30`, `since ...`, `in all history`."""
        if self.since and self.until:
            return f"from {self.label}"
        return "in all history" if not (self.since or self.until) else self.label

    @property
    def how(self) -> str | None:
        """Why this window: `the last 4 weeks`, or the default moved to the latest activity."""
        if self.default_weeks is None:
            return None
        weeks = f"{self.default_weeks} week{'s' if self.default_weeks != 1 else ''}"
        if self.anchored_at:
            return f"the {weeks} up to the latest activity, {self.anchored_at[:10]}; nothing since"
        return f"the last {weeks}"

    def meta(self) -> dict[str, str | None]:
        return {"since": self.since, "until": self.until}


def last_day(until: str) -> str:
    """The last day a range covers: `until` is exclusive, so midnight means the day before."""
    moment = parse_iso(until)
    if (moment.hour, moment.minute, moment.second) == (0, 0, 0):
        moment -= timedelta(days=1)
    return moment.date().isoformat()


def resolve(
    since: str | None,
    until: str | None,
    last: str | None,
    now: datetime,
    *,
    default_weeks: int | None = None,
    latest_before: LatestBefore | None = None,
) -> Window:
    """The window from --since/--until or --last; else the default, moved back to the data if it is empty."""
    if last and since:
        raise UsageError("give --last or --since, not both")
    hi_moment = parse_moment(until, end=True, now=now) if until else None
    if last or since:
        lo_moment = parse_moment(last or since or "", now=now)
        if hi_moment is None and last:
            hi_moment = now
        if hi_moment is not None and lo_moment >= hi_moment:
            raise UsageError(f"--since {since or last} is not before --until {until}")
        return Window(to_iso(lo_moment), to_iso(hi_moment) if hi_moment else None)
    if default_weeks is None:
        return Window(None, to_iso(hi_moment) if hi_moment else None)
    hi_moment = hi_moment or now
    lo_moment = hi_moment - timedelta(weeks=default_weeks)
    window = Window(to_iso(lo_moment), to_iso(hi_moment), default_weeks)
    if latest_before is None:
        return window
    latest = latest_before(to_iso(hi_moment))
    if latest is None or latest >= window.since:  # type: ignore[operator]
        return window
    # Nothing in the default window but older history: show the weeks that led up to it.
    end = datetime.combine(parse_iso(latest).date() + timedelta(days=1), datetime.min.time(), now.tzinfo)
    return Window(to_iso(end - timedelta(weeks=default_weeks)), to_iso(end), default_weeks, latest)


def suggest_last(latest: str, now: datetime) -> str:
    """A --last value whose window reaches back past the latest activity, e.g. `6m`."""
    days = max(0, (now - parse_iso(latest)).days)
    if days < 7 * 7:
        return f"{days // 7 + 2}w"
    if days < 2 * 365:
        return f"{days // 30 + 2}m"
    return f"{days // 365 + 1}y"
