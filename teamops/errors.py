"""Typed errors, each carrying the exit code DESIGN.md promises, so the CLI maps them in one place."""

from __future__ import annotations


class ExitCode:
    """Process exit codes that scripts and CI rely on."""

    OK = 0
    FINDINGS = 1
    USAGE = 2
    CONFIG = 3
    SERVICE = 4
    INVALID_INPUT = 5
    INTERNAL = 70
    LOCKED = 75
    INTERRUPTED = 130
    TERMINATED = 143  # 128 + SIGTERM, as shells report a process SIGTERM ended
    BROKEN_PIPE = 141


class TeamopsError(Exception):
    """An expected failure: shown as one line, never as a traceback."""

    exit_code = ExitCode.INTERNAL

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message} ({self.hint})"


class Findings(TeamopsError):
    """The command worked and found problems (RACI violations, a failed job step)."""

    exit_code = ExitCode.FINDINGS


class UsageError(TeamopsError):
    """The command line itself is wrong."""

    exit_code = ExitCode.USAGE


class ConfigError(TeamopsError):
    """The configuration file or environment is wrong."""

    exit_code = ExitCode.CONFIG


class ServiceError(TeamopsError):
    """An external service failed after retries (auth, network, rate limit)."""

    exit_code = ExitCode.SERVICE


class Terminated(KeyboardInterrupt):
    """SIGTERM: handled as Ctrl-C is (what is stored stays), reported with exit 143."""


class Refused(ServiceError):
    """A service said no to one request (403 without a rate limit, 404): a permission or a name."""


class InvalidInput(TeamopsError):
    """Input data is malformed: a payload, a signature, a file, a repository path."""

    exit_code = ExitCode.INVALID_INPUT


class StoreError(TeamopsError):
    """The database cannot be used as it is (newer schema, not a database)."""

    exit_code = ExitCode.CONFIG


class DamagedStore(TeamopsError):
    """The database file is damaged: a malformed file, to be restored rather than reconfigured."""

    exit_code = ExitCode.INVALID_INPUT


class LockHeld(TeamopsError):
    """Another run holds the lock: try again later."""

    exit_code = ExitCode.LOCKED
