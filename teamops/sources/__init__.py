"""Where commits come from: each kind of source is one module in this package that registers itself.

A kind says which `--repo` values and `[[repos]]` keys are its own, expands a pattern into the
repositories it names (an organisation, a folder of clones), syncs one repository (commits and the
source's other streams) through the `store` writers, and reads one commit's diff. To add a kind,
add one module here with a class decorated by `@register`; nothing else names it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, ClassVar, Protocol

from teamops.config.schema import is_pattern
from teamops.errors import UsageError

if TYPE_CHECKING:
    from sqlite_utils import Database

    from teamops.config import Config
    from teamops.config.schema import RepoConfig
    from teamops.store.reader import Reader
    from teamops.sync.result import SyncResult

Progress = Callable[[int, int | None], None]
Files = list[tuple[str, str]]


@dataclass
class Target:
    """One repository of a kind, or a pattern (`acme/*`, `../*`) that its kind expands into repositories."""

    kind: str
    locator: str
    branches: list[str] = field(default_factory=list)
    name: str | None = None
    include: list[str] = field(default_factory=list)
    exclude: list[str] = field(default_factory=list)
    archived: bool = False
    forks: bool = False
    default_branch: str | None = None  # known from a listing: saves asking
    size: int | None = None  # commits on the default branch, when a listing said

    @property
    def pattern(self) -> bool:
        return is_pattern(self.locator)

    def wanted(self, short_name: str) -> bool:
        """Whether a discovered repository passes this pattern's include and exclude globs."""
        import fnmatch

        name = short_name.lower()
        if self.include and not any(fnmatch.fnmatchcase(name, g.lower()) for g in self.include):
            return False
        return not any(fnmatch.fnmatchcase(name, g.lower()) for g in self.exclude)

    def member(self, locator: str, **facts: object) -> Target:
        """A repository this pattern found, with the pattern's branches."""
        return Target(self.kind, locator, list(self.branches), **facts)  # type: ignore[arg-type]


@dataclass
class SyncOptions:
    """What every source's sync is asked for: a window, a full walk, and the settings."""

    cfg: Config
    since: str | None = None
    until: str | None = None
    full: bool = False


class Source(Protocol):
    """What a kind of source does; one instance serves a whole run (and its worker threads)."""

    kind: ClassVar[str]
    config_key: ClassVar[str]  # the [[repos]] key that names a repository of this kind
    order: ClassVar[int]  # lower claims a --repo value first

    @classmethod
    def claims(cls, value: str) -> bool:
        """Whether a `--repo` value names a repository (or a pattern) of this kind."""

    @classmethod
    def locate(cls, cfg: Config, value: str) -> str:
        """A configured value as a locator (a path is resolved against the config file's folder)."""

    def expand(self, db: Database | None, target: Target) -> list[Target]:
        """The repositories a pattern names now (a plain target is itself); stored ones gone since are marked
        (with a database: `doctor` only looks)."""

    def sync(self, db: Database, target: Target, opts: SyncOptions, progress: Progress | None) -> SyncResult:
        """Pull one repository's new commits and the source's other streams into the database."""

    def diff(self, db: Reader, repo_id: int, locator: str, sha: str) -> Files:
        """A commit's (path, patch) pairs, read from the source when no local clone has it."""


SourceType = type[Source]
_KINDS: dict[str, SourceType] = {}


def register(cls: SourceType) -> SourceType:
    """Make a kind known by its name; the order of `claims` is the kinds' `order`."""
    _KINDS[cls.kind] = cls
    return cls


@cache
def _load() -> None:
    import importlib
    import pkgutil

    for module in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{module.name}")


def kinds() -> list[SourceType]:
    """Every registered kind, in the order they claim `--repo` values."""
    _load()
    return sorted(_KINDS.values(), key=lambda k: (k.order, k.kind))


def kind(name: str) -> SourceType:
    _load()
    found = _KINDS.get(name)
    if found is None:
        raise UsageError(f"no source kind {name!r} (known: {', '.join(k.kind for k in kinds())})")
    return found


def parse_repo_arg(value: str, branches: list[str] | None = None) -> Target:
    """A `--repo` value as a target of the first kind that claims it."""
    for k in kinds():
        if k.claims(value):
            return Target(k.kind, value, list(branches or []))
    raise UsageError(f"--repo {value!r} names no repository: give a local path or a GitHub owner/name")


def configured_target(cfg: Config, rc: RepoConfig, branches: list[str] | None = None) -> Target:
    """A `[[repos]]` entry as a target: its kind is the one whose key it sets."""
    for k in kinds():
        value = getattr(rc, k.config_key, None)
        if value:
            return Target(
                k.kind,
                k.locate(cfg, str(value)),
                list(branches or rc.branches),
                rc.name,
                include=list(rc.include),
                exclude=list(rc.exclude),
                archived=rc.archived,
                forks=rc.forks,
            )
    raise UsageError("a [[repos]] entry names no source")
