"""Fit a commit's diff into a token budget: drop produced files, keep what matters, clip the rest."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from teamops.estimation.heuristic import classify

DROPPED_KINDS = {"lockfile", "generated", "vendored", "binary"}
IMPORTANCE = {"source": 0, "config": 1, "test": 2, "docs": 3}
MIN_CLIP_TOKENS = 120


def approx_tokens(text: str) -> int:
    """About four characters a token: the documented fallback when no tokenizer is at hand."""
    return max(1, len(text) // 4)


@dataclass
class BudgetedDiff:
    """What goes into the prompt, and what was left out of it."""

    text: str
    tokens: int
    included: list[str] = field(default_factory=list)
    clipped: list[str] = field(default_factory=list)
    listed: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)


def budget_diff(
    files: list[tuple[str, str]], max_tokens: int, count: Callable[[str], int] = approx_tokens
) -> BudgetedDiff:
    """Source first, then config, tests and docs, larger changes first; no file over half the budget."""
    out = BudgetedDiff("", 0)
    kept: list[tuple[int, int, str, str]] = []
    for path, patch in files:
        kind = classify(path, binary=patch.startswith("Binary files") or "\nBinary files " in patch)
        if kind in DROPPED_KINDS:
            out.dropped.append(path)
            continue
        kept.append((IMPORTANCE.get(kind, 0), -len(patch), path, patch))
    kept.sort()
    parts: list[str] = []
    used = 0
    cap = max(MIN_CLIP_TOKENS, max_tokens // 2)
    for _, _, path, patch in kept:
        block = f"--- {path}\n{patch.rstrip()}\n"
        tokens = count(block)
        room = max_tokens - used
        if tokens <= min(room, cap):
            parts.append(block)
            used += tokens
            out.included.append(path)
            continue
        allowance = min(room, cap)
        if allowance >= MIN_CLIP_TOKENS:
            clipped = _clip(block, allowance, tokens)
            parts.append(clipped)
            used += count(clipped)
            out.clipped.append(path)
            continue
        out.listed.append(path)
    if out.listed or out.dropped:
        names = [f"{p} (not shown)" for p in out.listed]
        names += [f"{p} (lockfile, generated, vendored or binary)" for p in out.dropped]
        shown = min(len(names), 200)
        while True:
            listing = "Other files in this commit:\n" + "".join(f"- {n}\n" for n in names[:shown])
            if shown < len(names):
                listing += f"- ... and {len(names) - shown} more\n"
            if used + count(listing) <= max_tokens or shown == 0:
                break
            shown //= 2
        if used + count(listing) <= max_tokens:
            parts.append(listing)
            used += count(listing)
    out.text = "".join(parts)
    out.tokens = used
    return out


def _clip(block: str, allowance: int, tokens: int) -> str:
    """Keep the head of a file's patch, by lines, within about `allowance` tokens."""
    keep_chars = int(len(block) * (allowance - 20) / max(tokens, 1))
    head = block[:keep_chars].rsplit("\n", 1)[0]
    return head + "\n[... clipped ...]\n"
