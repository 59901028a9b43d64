"""`doctor`'s checks: the config, the database, git, each repository, and each configured service."""

from __future__ import annotations

import functools
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from teamops.clients import model_key
from teamops.config import Config, RepoConfig
from teamops.errors import ConfigError, TeamopsError
from teamops.integrations.git_local import GIT, GitError
from teamops.integrations.llm import check_model
from teamops.messages.notify import resolve_channel
from teamops.sources import Target, Tracker, configured_target, kind, kinds, parse_repo_arg, trackers
from teamops.sources.runner import Sources
from teamops.store.database import counts
from teamops.wording import count

if TYPE_CHECKING:
    from teamops.store.reader import Reader


@dataclass
class Check:
    """One line of the doctor's report."""

    check: str
    ok: bool
    detail: str


def run_checks(cfg: Config, open_db: Callable[[], Reader], *, offline: bool) -> list[Check]:
    """Every check in order; a failing check is reported and the rest still run."""
    checks: list[Check] = []

    def check(name: str, fn: Callable[[], str]) -> None:
        try:
            checks.append(Check(name, True, fn()))
        except TeamopsError as exc:
            checks.append(Check(name, False, str(exc)))

    check("database", lambda: _database(cfg, open_db))
    check(GIT, _git)
    targets = [configured_target(cfg, rc) for rc in cfg.repos] or [parse_repo_arg(str(Path.cwd()))]
    sources = Sources(cfg)
    named: list[RepoConfig | None] = list(cfg.repos) or [None]
    for rc, target in zip(named, targets, strict=True):
        shown = (rc.name or next(iter(rc.keys.values()))) if rc else "."
        if target.pattern and not (kind(target.kind).remote and offline):  # --offline lists no service
            check(f"repos {shown}", functools.partial(_pattern, sources, target))
        else:
            check(f"repo {shown}", functools.partial(_repo, sources, target, offline))
    for plugin in kinds():
        for owner in plugin.owners(cfg):
            check(f"{plugin.kind} {owner}", functools.partial(_owner, sources, plugin.kind, owner, offline))
    for tracker in trackers():
        if tracker.checked(cfg):
            check(tracker.kind, functools.partial(_tracker, tracker(cfg), offline))
    if cfg.ai.model != "heuristic":
        check(f"model {cfg.ai.model}", lambda: _model(cfg))
    for name in cfg.notify.channels:
        check(f"channel {name}", functools.partial(_channel, cfg, name))
    return checks


def _database(cfg: Config, open_db: Callable[[], Reader]) -> str:
    if not cfg.db_path().exists():
        return f"{cfg.db_path()}: none yet (the first sync or `teamops init` creates it)"
    n, commits, merges = counts(open_db())
    return f"{cfg.db_path()} ({count(n, 'migration')}, {count(commits, 'commit')}, {count(merges, 'merge')})"


def _git() -> str:

    found = shutil.which(GIT)
    if not found:
        raise GitError("git is not on PATH", "install git (e.g. apt-get install git)")
    return found


def _repo(sources: Sources, target: Target, offline: bool) -> str:
    """The kind's own check of one repository (a clone opens; a service answers, or its token is set)."""
    return sources.get(target.kind).check(target, offline)


def _owner(sources: Sources, name: str, owner: str, offline: bool) -> str:
    """An account's own streams answer (an organisation's usage reports)."""
    return sources.get(name).check_owner(owner, offline)


def _pattern(sources: Sources, target: Target) -> str:
    """What a pattern names now (a service: one listing of the owner), without syncing or marking anything."""
    found = sources.get(target.kind).expand(None, target)
    if not found:
        raise ConfigError(f"{target.locator} names no repository", "check the pattern and its include/exclude")
    names = ", ".join(t.locator.rsplit("/", 1)[-1] for t in found[:5]) + (", ..." if len(found) > 5 else "")
    return f"{count(len(found), 'repository', 'repositories')}: {names}"


def _tracker(tracker: Tracker, offline: bool) -> str:
    """The tracker's own check (its token; online, that it answers)."""
    return tracker.check(offline)


def _model(cfg: Config) -> str:

    key_env, key = model_key(cfg)
    check_model(cfg.ai.model, cfg.ai.api_base, key, key_env)
    return "the key is set (no call made: a call costs money)"


def _channel(cfg: Config, name: str) -> str:

    channel = resolve_channel(cfg.notify, name)
    return f"{channel.kind}, URL set (`teamops notify test {name}` sends a message)"
