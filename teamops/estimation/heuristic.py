"""The offline estimator: story points and hours from a commit's size, deterministic and documented.

size   = log2(1 + weighted lines) + log2(1 + weighted files)
weighted lines = sum over files of weight × (additions + deletions / 2)
weights: source 1.0, tests 0.5, docs 0.3, config 0.5; lockfiles, generated, vendored and
binary files 0 (they are produced, not written).
points = the first of 0, 1, 2, 3, 5, 8, 13 whose threshold the size is under (POINT_THRESHOLDS)
hours  = min(80, 0.15 × 2^(size / 1.5)), rounded to 0.1; merges are 0 points and 0 hours.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass

HEURISTIC_MODEL = "heuristic"
HEURISTIC_VERSION = "h1"
MERGE_WHY = "merge commit: its work is counted in the commits it merges"
POINTS = (0, 1, 2, 3, 5, 8, 13)
# size below each threshold gives the points beside it; 13 above the last
POINT_THRESHOLDS = ((1.0, 0), (4.0, 1), (6.0, 2), (8.0, 3), (10.0, 5), (12.0, 8))
WEIGHTS = {
    "source": 1.0,
    "test": 0.5,
    "docs": 0.3,
    "config": 0.5,
    "lockfile": 0.0,
    "generated": 0.0,
    "vendored": 0.0,
    "binary": 0.0,
}

LOCKFILES = {
    "package-lock.json",
    "yarn.lock",
    "pnpm-lock.yaml",
    "poetry.lock",
    "pipfile.lock",
    "cargo.lock",
    "gemfile.lock",
    "composer.lock",
    "go.sum",
    "uv.lock",
    "pdm.lock",
    "mix.lock",
    "pubspec.lock",
    "podfile.lock",
    "packages.lock.json",
    "flake.lock",
    "requirements.lock",
    "bun.lockb",
}
VENDORED_RE = re.compile(r"(^|/)(vendor|vendors|third_party|thirdparty|node_modules|external|\.yarn)/", re.I)
GENERATED_RE = re.compile(
    r"(\.min\.(js|css)$|\.map$|_pb2(_grpc)?\.pyi?$|\.pb\.go$|\.generated\.|(^|/)generated/|(^|/)dist/|"
    r"(^|/)build/|\.snap$|(^|/)__snapshots__/|\.lock$)",
    re.I,
)
TEST_RE = re.compile(
    r"((^|/)(tests?|spec|specs|__tests__|testdata|fixtures)/|(^|/)test_[^/]*$|_test\.[a-z]+$|"
    r"\.test\.[a-z]+$|\.spec\.[a-z]+$|Tests?\.[a-z]+$)"
)
DOCS_RE = re.compile(
    r"(\.(md|markdown|rst|txt|adoc)$|(^|/)(docs?|documentation)/|(^|/)(readme|changelog|license)[^/]*$)", re.I
)
CONFIG_RE = re.compile(
    r"\.(ya?ml|toml|ini|cfg|conf|json|xml|properties|env)$|(^|/)(dockerfile|makefile)$|(^|/)\.", re.I
)
BINARY_EXT_RE = re.compile(
    r"\.(png|jpe?g|gif|ico|webp|bmp|tiff?|pdf|zip|gz|tgz|bz2|xz|7z|jar|war|class|so|dylib|dll|exe|bin|"
    r"woff2?|ttf|otf|eot|mp[34]|mov|avi|wav|ogg|sqlite|db|pyc|wasm)$",
    re.I,
)


def classify(path: str, binary: bool = False) -> str:
    """What kind of file a path is, for weighting the heuristic and budgeting a diff."""
    name = path.rsplit("/", 1)[-1].lower()
    if binary or BINARY_EXT_RE.search(path):
        return "binary"
    if name in LOCKFILES:
        return "lockfile"
    if VENDORED_RE.search(path):
        return "vendored"
    if GENERATED_RE.search(path):
        return "generated"
    if TEST_RE.search(path):
        return "test"
    if DOCS_RE.search(path):
        return "docs"
    if CONFIG_RE.search(path):
        return "config"
    return "source"


@dataclass(frozen=True)
class Sized:
    """The weighted size of a commit, and the points and hours it maps to."""

    lines: float
    files: float
    size: float
    points: int
    hours: float


def points_for(size: float) -> int:
    for limit, points in POINT_THRESHOLDS:
        if size < limit:
            return points
    return 13


def hours_for(size: float) -> float:
    if size < POINT_THRESHOLDS[0][0]:
        return 0.0
    return round(min(80.0, 0.15 * 2 ** (size / 1.5)), 1)


def size_of(files: list[tuple[str, int, int, bool]]) -> Sized:
    """Weighted size from (path, additions, deletions, binary) per file."""
    lines = 0.0
    weight_sum = 0.0
    for path, adds, dels, binary in files:
        weight = WEIGHTS[classify(path, binary)]
        lines += weight * (adds + dels / 2)
        weight_sum += weight
    size = math.log2(1 + lines) + math.log2(1 + weight_sum)
    return Sized(round(lines, 1), round(weight_sum, 2), size, points_for(size), hours_for(size))


def estimate_row(
    is_merge: int,
    additions: int | None,
    deletions: int | None,
    files_changed: int | None,
    files_json: str | None,
) -> tuple[int, float, str] | None:
    """(points, hours, rationale) for a stored commit; None when its line counts are not known yet."""
    if is_merge:
        return 0, 0.0, MERGE_WHY
    if additions is None:
        return None
    if files_json:
        files = [(f[0], f[1], f[2], len(f) > 3 and bool(f[3])) for f in json.loads(files_json)]
    else:
        # Totals only (from the GitHub API): one anonymous source file per changed file.
        n = max(1, files_changed or 1)
        files = [(f"file{i}", additions // n, (deletions or 0) // n, False) for i in range(n)]
    sized = size_of(files)
    return (
        sized.points,
        sized.hours,
        f"heuristic: {sized.lines:g} weighted lines in {sized.files:g} weighted files (size {sized.size:.1f})",
    )
