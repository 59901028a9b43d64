"""Which reader takes a GitHub event other than a push: each module that reads one registers it under the
event's name, with what its payload is called in messages; `push.ingest` looks the name up."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlite_utils import Database

    from teamops.config import Config
    from teamops.sources import EventOutcome

Reader = Callable[["Database", "Config", dict[str, Any]], "EventOutcome"]
READERS: dict[str, tuple[str, Reader]] = {}


def reads(name: str, what: str) -> Callable[[Reader], Reader]:
    """Register a reader of the event `name` (its verified payload as a JSON object)."""

    def register(reader: Reader) -> Reader:
        READERS[name] = (what, reader)
        return reader

    return register


def readers() -> dict[str, tuple[str, Reader]]:
    """Every event reader (the modules that register them are light: none imports PyGithub)."""
    from teamops.sources.github import delivery, issues, pulls, runs  # noqa: F401  (they register)

    return READERS
