"""What a commit sync did, for the summary line and the job history."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class SyncResult:
    """What one repository's sync did."""

    repo: str
    new: int = 0
    branches: list[str] = field(default_factory=list)
    unchanged: bool = True
    seconds: float = 0.0
    requests: int | None = None
    rate_limit_remaining: int | None = None
    details: list[str] = field(default_factory=list)
    repo_id: int | None = None
    deployments: int = 0  # new or changed
    pulls: int = 0  # pull requests new or updated (or inferred from a clone)
    warnings: list[str] = field(default_factory=list)  # said even when quiet is not asked: something was left out
    error: str | None = None  # this repository failed (the others of the run went on)
    exit_code: int = 0
    owner: bool = False  # an account's own streams (an organisation's reports), not a repository
