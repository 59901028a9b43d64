"""Where the team's history comes from: each kind of source is one module or package here that registers itself.

A kind declares what it brings (its streams, the identity kind of its accounts and the private
addresses that name them, its `[section]` of settings, the webhook events it reads) and does the
rest itself: which `--repo` values and `[[repos]]` keys are its own, expanding a pattern into the
repositories it names, syncing one repository through the `store` writers, a commit's diff, its
`doctor` line. To add a kind, add one package here with a class decorated by `@register`; nothing
else names it (docs/architecture.md, "Add a source in one folder").
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from teamops.config.schema import is_pattern
from teamops.errors import InvalidInput, UsageError

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


@dataclass
class EventOutcome:
    """What ingesting one webhook payload did: the line shown, and the same as data for `--format json`."""

    line: str
    data: dict[str, Any]


class Source(Protocol):
    """What a kind of source does; one instance serves a whole run (and its worker threads)."""

    kind: ClassVar[str]
    config_key: ClassVar[str]  # the [[repos]] key that names a repository of this kind
    example: ClassVar[str]  # that key with a value, as messages show it: `github = "owner/name"`
    order: ClassVar[int]  # lower claims a --repo value first
    remote: ClassVar[bool]  # a service on the network (its locator a name), not a folder on this machine
    streams: ClassVar[tuple[str, ...]]  # what it syncs: commits, pulls, reviews, deployments, ...
    settings: ClassVar[type | None]  # the dataclass of its `[kind]` section, when it has one
    identity: ClassVar[str | None]  # the identity kind of its account names (`people add --account KIND:NAME`)
    noreply: ClassVar[re.Pattern[str] | None]  # private commit addresses whose first group is an account name
    events: ClassVar[tuple[str, ...]]  # webhook event names `sync-commits --event` hands to it
    any_event: ClassVar[bool]  # it reads a payload no kind claims by name (an unnamed one, or a CI's own name)
    label: ClassVar[str]  # its name as people write it ("GitHub")
    person_field: ClassVar[str | None]  # a person's own field for its account (`--github`), beside `accounts`

    @classmethod
    def hosted(cls, cfg: Config | None, url: str) -> str | None:
        """A clone's remote URL as this kind's locator, so the clone and the service share a repository."""

    @classmethod
    def named(cls, value: str) -> str:
        """A `--repo` value it claims as its locator (`gitlab:group/project` is group/project)."""

    @classmethod
    def arg(cls, locator: str) -> str:
        """The `--repo` value that names this locator again (a shard plan's matrix hands it back)."""

    def size(self, target: Target) -> int | None:
        """Commits a repository holds, when the kind can tell without syncing (a clone counts its own)."""

    @classmethod
    def shape(cls, value: str) -> str | None:
        """What is wrong with a configured value of its `[[repos]]` key (None: nothing)."""

    @classmethod
    def validate(cls, cfg: Config, fail: Callable[[str, str], Exception]) -> None:
        """Checks of its section beyond types (raise `fail(key, problem)`)."""

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

    def check(self, target: Target, offline: bool) -> str:
        """`doctor`'s line for one configured repository (raise a TeamopsError when it cannot work)."""

    def repository(self, db: Database, target: Target) -> tuple[int, str]:
        """(id, name) of a repository's row, made on first sight (`deploy record` names the clone it runs in)."""

    @classmethod
    def owners(cls, cfg: Config) -> list[str]:
        """The accounts (organisations) whose own streams a full run syncs beside the repositories: reports
        that belong to no one repository, such as an assistant's usage."""

    def sync_owner(self, db: Database, owner: str, opts: SyncOptions) -> SyncResult:
        """One account's own streams, once a run."""

    def check_owner(self, owner: str, offline: bool) -> str:
        """`doctor`'s line for one account's own streams."""

    def ingest(
        self, db: Database, body: bytes, name: str | None, token: str | None, env: Mapping[str, str], repos: list[str]
    ) -> EventOutcome:
        """One webhook payload of an event this kind declares, authenticated, parsed and stored (`repos`: the
        run's `--repo` values, e.g. a checkout to read line counts from)."""


class Kind:
    """What a kind that brings less than everything leaves at its default."""

    order: ClassVar[int] = 50
    remote: ClassVar[bool] = True
    streams: ClassVar[tuple[str, ...]] = ("commits",)
    settings: ClassVar[type | None] = None
    identity: ClassVar[str | None] = None
    noreply: ClassVar[re.Pattern[str] | None] = None
    events: ClassVar[tuple[str, ...]] = ()
    any_event: ClassVar[bool] = False
    person_field: ClassVar[str | None] = None

    @classmethod
    def hosted(cls, cfg: Config | None, url: str) -> str | None:
        return None

    @classmethod
    def named(cls, value: str) -> str:
        return value

    @classmethod
    def arg(cls, locator: str) -> str:
        return locator

    def size(self, target: Target) -> int | None:
        return None

    @classmethod
    def shape(cls, value: str) -> str | None:
        return None

    @classmethod
    def validate(cls, cfg: Config, fail: Callable[[str, str], Exception]) -> None:
        return None

    @classmethod
    def owners(cls, cfg: Config) -> list[str]:
        return []

    def sync_owner(self, db: Database, owner: str, opts: SyncOptions) -> SyncResult:
        raise UsageError(f"the {type(self).__name__} syncs no account of its own")

    def check_owner(self, owner: str, offline: bool) -> str:
        raise UsageError(f"the {type(self).__name__} syncs no account of its own")

    def ingest(
        self, db: Database, body: bytes, name: str | None, token: str | None, env: Mapping[str, str], repos: list[str]
    ) -> EventOutcome:
        raise UsageError(f"the {type(self).__name__} reads no webhook events")


@dataclass
class TaskSync:
    """What one tracker's `sync-tasks` pass did: notes said first, its summary line, the same as data."""

    line: str
    notes: list[str] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)


class Tracker(Protocol):
    """A kind of task tracker: its tasks, sprints and users are streams too, synced by `sync-tasks`."""

    kind: ClassVar[str]
    label: ClassVar[str]
    settings: ClassVar[type | None]  # its own `[kind]` section (None: a section of the core's)
    identity: ClassVar[str | None]  # the identity kind of its users' ids
    person_field: ClassVar[str | None]  # a person's own field for that id (`--clickup-id`)
    noreply: ClassVar[re.Pattern[str] | None]

    def __init__(self, cfg: Config) -> None: ...

    @classmethod
    def configured(cls, cfg: Config) -> bool:
        """Whether the configuration asks for its tasks (`sync-tasks` syncs it)."""

    @classmethod
    def checked(cls, cfg: Config) -> bool:
        """Whether `doctor` checks it: its tasks are asked for, or something else of it is used."""

    @classmethod
    def validate(cls, cfg: Config, fail: Callable[[str, str], Exception]) -> None:
        """Checks of its section beyond types."""

    def sync_tasks(self, db: Database, full: bool, progress: Progress | None) -> TaskSync:
        """Its tasks, sprints and users into the store: incremental, or every task again with `full`."""

    def check(self, offline: bool) -> str:
        """`doctor`'s line (raise a TeamopsError when it cannot work)."""


SourceType = type[Source]
TrackerType = type[Tracker]
_KINDS: dict[str, SourceType] = {}
_TRACKERS: dict[str, TrackerType] = {}


def register(cls: SourceType) -> SourceType:
    """Make a kind known by its name; the order of `claims` is the kinds' `order`."""
    _KINDS[cls.kind] = cls
    return cls


def register_tracker(cls: TrackerType) -> TrackerType:
    """Make a kind of task tracker known by its name."""
    _TRACKERS[cls.kind] = cls
    return cls


def trackers() -> list[TrackerType]:
    """Every registered kind of task tracker, by name."""
    _load()
    return sorted(_TRACKERS.values(), key=lambda k: k.kind)


def every_kind() -> list[SourceType | TrackerType]:
    """The kinds of repositories and of task trackers."""
    return [*kinds(), *trackers()]


@cache
def _load() -> None:
    import importlib
    import pkgutil

    for module in pkgutil.iter_modules(__path__):
        if module.ispkg:  # a kind is a folder; runner.py and diffs.py serve them all
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


def json_object(body: bytes, what: str) -> dict[str, Any]:
    """A webhook payload read as the JSON object it must be (exit 5 with one line when it is not)."""
    import json

    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise InvalidInput(f"the event is not valid JSON ({type(exc).__name__})") from None
    if not isinstance(data, dict):
        raise InvalidInput(f"the event is a JSON {type(data).__name__}, not {what}")
    return data


def by_section(name: str) -> SourceType | TrackerType | None:
    """The kind whose `[name]` section of settings this is."""
    return next((k for k in every_kind() if k.settings is not None and k.kind == name), None)


def by_event(name: str | None) -> SourceType:
    """The kind that reads webhook events of this name; else the one that reads any event."""
    found = next((k for k in kinds() if name in k.events), None) or next((k for k in kinds() if k.any_event), None)
    if found is None:
        raise UsageError(f"no source reads {name!r} events")
    return found


def identity_kinds() -> list[str]:
    """Identity kinds the sources bring (account names), beside email, name and the trackers' own."""
    return [k.identity for k in every_kind() if k.identity]


def person_fields() -> list[tuple[str, str, str]]:
    """(field, identity kind, label) of the kinds whose account is a field of its own on a person."""
    return [(k.person_field, str(k.identity), k.label) for k in every_kind() if k.person_field]


def account_of(email: str | None) -> tuple[str, str] | None:
    """(identity kind, account name) a private commit address names (`123+alice@users.noreply.github.com`)."""
    if not email or "noreply" not in email:
        return None
    for k in every_kind():
        if k.noreply is not None and (match := k.noreply.match(email.strip())):
            return str(k.identity), match.group(1).lower()
    return None


def hosting(cfg: Config | None, url: str) -> tuple[str, str] | None:
    """(kind, locator) of the service a clone's remote URL points at, if a kind knows it."""
    for k in kinds():
        if url and (locator := k.hosted(cfg, url)):
            return k.kind, locator
    return None


def parse_repo_arg(value: str, branches: list[str] | None = None) -> Target:
    """A `--repo` value as a target of the first kind that claims it."""
    for k in kinds():
        if k.claims(value):
            return Target(k.kind, k.named(value), list(branches or []))
    raise UsageError(f"--repo {value!r} names no repository: give a local path or a GitHub owner/name")


def repo_value(rc: RepoConfig, key: str) -> str | None:
    """What a `[[repos]]` entry sets for a kind's key (kept aside as the file was read)."""
    return rc.keys.get(key) or None


def configured_target(cfg: Config, rc: RepoConfig, branches: list[str] | None = None) -> Target:
    """A `[[repos]]` entry as a target: its kind is the one whose key it sets."""
    for k in kinds():
        value = repo_value(rc, k.config_key)
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
