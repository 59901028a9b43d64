"""Time in one place: now (pinned by TEAMOPS_NOW, read once per run), and every conversion of a time.

Times are stored as UTC ISO-8601 with a Z, to the second, which sorts and compares as text.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

from teamops.errors import ConfigError

_pinned: datetime | None = None


def pin(value: str | None) -> None:
    """Replay a run at a given moment (TEAMOPS_NOW, read by the config); empty or None: the real clock."""
    global _pinned
    text = (value or "").strip()
    if not text:
        _pinned = None
        return
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ConfigError(f"TEAMOPS_NOW must be an ISO time, got {text!r}") from None
    _pinned = moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def now() -> datetime:
    """UTC now, or the pinned moment."""
    return _pinned if _pinned is not None else datetime.now(UTC)


def to_iso(moment: datetime) -> str:
    """The one stored form of a time: UTC, to the second, with a Z (sorts and compares as text)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def now_iso() -> str:
    return to_iso(now())


def parse_iso(value: str) -> datetime:
    """An ISO time as stored or as services send it (Z or an offset); naive times are UTC."""
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def iso_with_offset(value: str) -> tuple[str, int]:
    """A service's ISO time with offset (GitHub's) as stored: UTC with Z, and the offset in minutes."""
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    offset = moment.utcoffset()
    minutes = int(offset.total_seconds() // 60) if offset is not None else 0
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(moment.timestamp())), minutes


_DAYS: dict[int, str] = {}


def iso_from_epoch(ts: int) -> str:
    """Unix seconds as stored; the date part is cached, since a history's commits share few days."""
    day, secs = divmod(ts, 86400)
    prefix = _DAYS.get(day)
    if prefix is None:
        y, m, d = time.gmtime(day * 86400)[:3]
        prefix = _DAYS[day] = f"{y:04d}-{m:02d}-{d:02d}T"
    hours, secs = divmod(secs, 3600)
    return f"{prefix}{hours:02d}:{secs // 60:02d}:{secs % 60:02d}Z"


def iso_from_ms(stamp: int | None) -> str | None:
    """Milliseconds since the epoch (ClickUp's times) as stored."""
    return None if stamp is None else time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(stamp / 1000))


def date_from_ms(stamp: int | None) -> str | None:
    """Milliseconds since the epoch as a UTC date, `2026-11-02`."""
    return None if stamp is None else time.strftime("%Y-%m-%d", time.gmtime(stamp / 1000))


def iso_after(seconds: float) -> str:
    """The real time this many seconds from now (retry schedules follow the wall clock, not a pin)."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + seconds))
