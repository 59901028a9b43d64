"""The current time, in one place: UTC, and pinned by TEAMOPS_NOW to replay a run at a given moment."""

from __future__ import annotations

import os
from datetime import UTC, datetime

from teamops.errors import ConfigError


def now() -> datetime:
    """UTC now, or the moment in TEAMOPS_NOW (ISO-8601) when set, e.g. to re-run yesterday's check."""
    pinned = os.environ.get("TEAMOPS_NOW", "").strip()
    if not pinned:
        return datetime.now(UTC)
    try:
        moment = datetime.fromisoformat(pinned.replace("Z", "+00:00"))
    except ValueError:
        raise ConfigError(f"TEAMOPS_NOW must be an ISO time, got {pinned!r}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def to_iso(moment: datetime) -> str:
    """The one stored form of a time: UTC, to the second, with a Z (sorts and compares as text)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def now_iso() -> str:
    return to_iso(now())


def parse_iso(value: str) -> datetime:
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
