"""What the TEAMOPS_* variables outside the file's keys decide for one run, read before anything else."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

# Variables teamops reads besides TEAMOPS_<SECTION>_<KEY>.
OTHER_VARIABLES = (
    "TEAMOPS_CONFIG",
    "TEAMOPS_DB",
    "TEAMOPS_NOW",
    "TEAMOPS_DEBUG",
    "TEAMOPS_FORMAT",
    "TEAMOPS_QUIET",
    "TEAMOPS_ACTOR",
)


@dataclass(frozen=True)
class Runtime:
    """What the TEAMOPS_* variables outside the file's keys decide for one run."""

    fmt: str | None = None
    quiet: bool = False
    debug: bool = False
    actor: str | None = None
    now: str | None = None  # TEAMOPS_NOW: the moment the run is replayed at


def read_runtime(env: Mapping[str, str]) -> Runtime:
    """TEAMOPS_FORMAT, _QUIET, _DEBUG, _ACTOR and _NOW."""
    off = ("", "0", "false", "no", "off")
    return Runtime(
        now=env.get("TEAMOPS_NOW") or None,
        fmt=env.get("TEAMOPS_FORMAT") or None,
        quiet=env.get("TEAMOPS_QUIET", "").strip().lower() not in off,
        debug=env.get("TEAMOPS_DEBUG", "").strip().lower() not in off,
        actor=env.get("TEAMOPS_ACTOR") or None,
    )
