"""A repository's commit graph read once per sync, walked by generation so a merge costs its branch, not the history."""

from __future__ import annotations

import heapq
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:
    from teamops.store.reader import Reader

_MINE, _THEIRS = 1, 2  # reached from the tip / from the base


class CommitGraph:
    """sha → parents, with each commit's generation (1 + its highest parent's) computed once on first use.

    A commit's children always have a higher generation, so a walk that takes the highest generation
    first knows everything that reaches a commit before it looks at it: `only_in` stops as soon as
    nothing it still holds can be new, as git's own merge-base walk does.
    """

    loads: ClassVar[int] = 0  # graphs read from the store in this process (one per repository per sync)

    def __init__(self, parents: Mapping[str, Sequence[str]]) -> None:
        self.parents = parents
        self._generation: dict[str, int] | None = None
        self._closed: bool | None = None

    @classmethod
    def stored(cls, db: Reader, repo_id: int) -> CommitGraph:
        """The graph of a repository's stored commits, in one query."""
        cls.loads += 1
        rows = db.execute("SELECT sha, parents FROM commits WHERE repo_id = ?", [repo_id]).fetchall()
        one = {str(sha): str(sha) for sha, _ in rows}  # each sha one string object, however often it is named
        return cls({one[sha]: tuple(one.get(p, p) for p in (parents or "").split()) for sha, parents in rows})

    def generation(self, sha: str) -> int:
        """0 for a commit outside the graph; parents outside it count as roots."""
        if self._generation is None:
            self._generation = self._generations()
        return self._generation.get(sha, 0)

    def _generations(self) -> dict[str, int]:
        parents_of, done = self.parents, dict[str, int]()
        for start in parents_of:
            if start in done:
                continue
            stack = [start]
            while stack:
                sha = stack[-1]
                if sha in done:
                    stack.pop()
                    continue
                waiting = [p for p in parents_of[sha] if p not in done and p in parents_of]
                if waiting:
                    stack.extend(waiting)
                    continue
                stack.pop()
                done[sha] = 1 + max((done.get(p, 0) for p in parents_of[sha]), default=0)
        return done

    def closed(self) -> bool:
        """Whether every parent named is in the graph: the whole history is stored, not part of it."""
        if self._closed is None:
            parents_of = self.parents
            self._closed = all(p in parents_of for ps in parents_of.values() for p in ps)
        return self._closed

    def between(self, include: Sequence[str], exclude: Sequence[str]) -> dict[str, Sequence[str]] | None:
        """sha → parents of what `include` reaches and `exclude` does not (`git rev-list --parents`), or None
        when the stored graph cannot say it exactly (part of the history, or a tip it does not hold)."""
        if not self.closed() or any(sha not in self.parents for sha in [*include, *exclude]):
            return None
        parents_of = self.parents
        return {sha: parents_of[sha] for sha in self.only_in(include, exclude)}

    def only_in(
        self, tip: str | Sequence[str], base: str | Sequence[str] | None, limit: int | None = None
    ) -> list[str]:
        """Commits the tips reach and the bases do not (`git rev-list ^base tip`), highest generation first.

        The walk covers the branch and the mainline down to where they meet, never the whole history.
        """
        tips = [tip] if isinstance(tip, str) else list(tip)
        bases = [] if base is None else [base] if isinstance(base, str) else list(base)
        if not any(t in self.parents for t in tips):
            return []
        colour: dict[str, int] = {}
        heap: list[tuple[int, str]] = []
        open_mine = 0  # commits waiting in the heap that only `tip` reaches so far

        def reach(sha: str, how: int) -> None:
            nonlocal open_mine
            old = colour.get(sha, 0)
            new = old | how
            if new == old or sha not in self.parents:
                return
            colour[sha] = new
            if old == 0:
                heapq.heappush(heap, (-self.generation(sha), sha))
                open_mine += new == _MINE
            elif old == _MINE:
                open_mine -= 1  # now reached from the base too

        for one in bases:
            reach(one, _THEIRS)
        for one in tips:
            reach(one, _MINE)
        found: list[str] = []
        while open_mine and heap:
            _, sha = heapq.heappop(heap)
            how = colour[sha]
            if how == _MINE:
                open_mine -= 1
                found.append(sha)
                if limit is not None and len(found) >= limit:
                    break
            for parent in self.parents[sha]:
                reach(parent, how)
        return found

    def brought_by(self, merge: str, limit: int | None = None) -> list[str]:
        """The commits a merge brought in: reachable from its other parents and not from its first."""
        parents = list(self.parents.get(merge, ()))
        if len(parents) < 2:
            return []
        found: list[str] = []
        for other in parents[1:]:
            found += [sha for sha in self.only_in(other, parents[0], limit) if sha not in found]
        return found[:limit] if limit is not None else found
