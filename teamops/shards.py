"""A sharded backfill's plan: repositories dealt to N shards so that each holds about as many commits."""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from teamops.errors import UsageError
from teamops.sources import kind

if TYPE_CHECKING:
    from teamops.sources import Source, Target
    from teamops.store.reader import Reader


@dataclass
class Shard:
    """One matrix job: the repositories it syncs and the commits they hold (as far as known)."""

    index: int
    repos: list[str] = field(default_factory=list)
    commits: int = 0

    def entry(self) -> dict[str, object]:
        """One `include` entry of a GitHub Actions matrix (repos space-separated for a shell loop)."""
        return {"shard": self.index, "repos": " ".join(self.repos), "count": len(self.repos), "commits": self.commits}


def size_of(db: Reader, target: Target, source: Source | None = None) -> int:
    """Commits of a repository: what its listing said, else what is stored, else what its kind can tell
    (a clone counts its own), else 1."""
    if target.size is not None:
        return max(1, target.size)
    from teamops.store.commits import repo_commits

    stored = repo_commits(db, target.kind, target.locator)
    if stored:
        return stored
    return max(1, (source.size(target) if source else None) or 1)


def plan(sized: list[tuple[Target, int]], shards: int) -> list[Shard]:
    """Largest first, each to the shard holding least so far (LPT: within 4/3 of the best balance);
    shards left empty (fewer repositories than shards) are dropped."""
    if shards < 1:
        raise UsageError("--shards must be at least 1")
    out = [Shard(i + 1) for i in range(shards)]
    heap = [(0, i) for i in range(shards)]
    for target, size in sorted(sized, key=lambda ts: (-ts[1], ts[0].locator.lower())):
        total, i = heapq.heappop(heap)
        out[i].repos.append(kind(target.kind).arg(target.locator))  # a --repo value that names it again
        out[i].commits += size
        heapq.heappush(heap, (total + size, i))
    return [s for s in out if s.repos]
