"""Pull requests inferred from a clone's merge commits and squash subjects (a service's own records, read by
its source kind, always win over these)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    pass


@dataclass
class PullSync:
    """What one pass over a repository's pull requests did."""

    saved: int = 0
    pages: int = 0
    inferred: int = 0

    def line(self, repo: str) -> str:
        if self.inferred:
            return f"pull requests of {repo}: {self.inferred:,} inferred from merge commits and squash subjects"
        return f"pull requests of {repo}: {self.saved:,} new or updated ({self.pages} pages)"
