"""The `gitlab` kind: a project on gitlab.com or a self-managed GitLab (`group/project`, `group/*` with its
subgroups): commits, merge requests with their reviews, deployments; webhooks too.

Everything GitLab is in this folder: its settings (`[gitlab]`), client, records, sync and webhooks.
"""

from __future__ import annotations

import fnmatch
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar
from urllib.parse import urlsplit

from teamops.sources import EventOutcome, Files, Kind, Progress, SyncOptions, Target, register

if TYPE_CHECKING:
    from sqlite_utils import Database

    from teamops.config import Config
    from teamops.sources.gitlab.client import GitLabClient
    from teamops.store.reader import Reader
    from teamops.sync.result import SyncResult

PREFIX = "gitlab:"
# group/project, subgroups between (group/sub/project), or a glob as the last part (group/*).
PROJECT_RE = re.compile(r"^[A-Za-z0-9_.][A-Za-z0-9_.-]*(?:/[A-Za-z0-9_.][A-Za-z0-9_.-]*)*/[A-Za-z0-9_.*?!\[\]-]+$")


@dataclass
class GitLabConfig:
    """GitLab.com or a self-managed instance: where, which token, what counts as a deployment."""

    # The instance (env TEAMOPS_GITLAB_URL); the API is under /api/v4.
    url: str = "https://gitlab.com"
    # The variable holding a personal, group or project access token with the read_api scope.
    token_env: str = "GITLAB_TOKEN"
    # The variable holding the secret token of the project's webhook (its X-Gitlab-Token header).
    webhook_token_env: str = "GITLAB_WEBHOOK_TOKEN"
    # The environment whose deployments are production; empty: [dora] environment.
    environment: str = ""
    # Merge requests, their notes (review requests, approvals, comments) with every sync.
    merge_requests: bool = True
    max_wait_s: int = 900
    timeout_s: int = 30
    max_retries: int = 5
    # The most a webhook payload (--event) may hold.
    event_max_mb: int = 25


@register
class GitLabSource(Kind):
    """Projects through REST v4; one client per worker thread, one rate budget for all."""

    kind: ClassVar[str] = "gitlab"
    config_key: ClassVar[str] = "gitlab"
    example: ClassVar[str] = 'gitlab = "group/project"'
    label: ClassVar[str] = "GitLab"
    order: ClassVar[int] = -1  # its `gitlab:` prefix is explicit: it wins over a path that looks the same
    streams: ClassVar[tuple[str, ...]] = ("commits", "pulls", "reviews", "deployments", "releases")
    settings: ClassVar[type | None] = GitLabConfig
    identity: ClassVar[str | None] = "gitlab"
    # GitLab's private commit address: ID-username@users.noreply.gitlab.com, or on a self-managed instance
    # ID-username@users.noreply.<its host>; gitlab.com's older ones have no ID. GitHub's (ID+login@...) is not one.
    noreply: ClassVar[re.Pattern[str] | None] = re.compile(
        r"^(?:\d+-(?=[^@]+@users\.noreply\.(?!github\.com$))|(?=[^@]+@users\.noreply\.gitlab\.com$))"
        r"([^@]+)@users\.noreply\.[^@]+$",
        re.I,
    )
    events: ClassVar[tuple[str, ...]] = ("Push Hook", "Merge Request Hook", "Deployment Hook")

    def __init__(self, cfg: Config) -> None:
        from teamops.integrations.http import RateBudget

        self.cfg = cfg
        self.settings_ = settings(cfg)
        self.budget = RateBudget()
        self._local = threading.local()

    @classmethod
    def claims(cls, value: str) -> bool:
        return value.lower().startswith(PREFIX)

    @classmethod
    def named(cls, value: str) -> str:
        return value[len(PREFIX) :] if value.lower().startswith(PREFIX) else value

    @classmethod
    def locate(cls, cfg: Config, value: str) -> str:
        return cls.named(value)

    @classmethod
    def arg(cls, locator: str) -> str:
        return PREFIX + locator

    @classmethod
    def shape(cls, value: str) -> str | None:
        if value.isdigit() or (PROJECT_RE.match(value) and "*" not in value.rsplit("/", 1)[0]):
            return None
        return f'must look like "group/project", "group/sub/project", "group/*" or a project id, got {value!r}'

    @classmethod
    def validate(cls, cfg: Config, fail: Callable[[str, str], Exception]) -> None:
        from teamops.config.validate import is_http_url

        gl = settings(cfg)
        if not is_http_url(gl.url):
            raise fail("url", f"must be an http(s) URL, got {gl.url!r}")
        for key, low, high in (("max_wait_s", 1, 86_400), ("timeout_s", 1, 600), ("max_retries", 0, 20)):
            if not low <= getattr(gl, key) <= high:
                raise fail(key, f"must be from {low} to {high:,}, got {getattr(gl, key)!r}")
        if not 1 <= gl.event_max_mb <= 1024:
            raise fail("event_max_mb", "must be between 1 and 1024 (MB)")

    @classmethod
    def hosted(cls, cfg: Config | None, url: str) -> str | None:
        """group/project of a remote on gitlab.com or on the configured instance (https or ssh)."""
        hosts = {"gitlab.com"}
        if cfg is not None:
            hosts.add((urlsplit(settings(cfg).url).hostname or "").lower())
        match = re.match(r"^(?:https?://(?:[^@/]+@)?|ssh://git@|git@)([^/:]+)(?::\d+)?[:/](.+?)(?:\.git)?/?$", url)
        if not match or match.group(1).lower() not in hosts or "/" not in match.group(2):
            return None
        return match.group(2)

    def client(self) -> GitLabClient:
        """This thread's client, with the token from `[gitlab] token_env` (exit 3 when it is not set)."""
        found: GitLabClient | None = getattr(self._local, "client", None)
        if found is None:
            from teamops.clients import secret
            from teamops.errors import ConfigError
            from teamops.sources.gitlab.client import GitLabClient

            gl = self.settings_
            token = secret(gl.token_env)
            if not token:
                raise ConfigError(
                    f"${gl.token_env} is not set: GitLab's API needs a token",
                    "create one with the read_api scope and export it; see docs/gitlab.md",
                )
            found = GitLabClient(
                gl.url,
                token,
                token_env=gl.token_env,
                timeout_s=gl.timeout_s,
                max_wait_s=gl.max_wait_s,
                max_retries=gl.max_retries,
                budget=self.budget,
            )
            self._local.client = found
        return found

    def expand(self, db: Database | None, target: Target) -> list[Target]:
        """A group's projects (subgroups included; archived and forks only when asked); those stored before
        and no longer listed are marked missing, never deleted."""
        if not target.pattern:
            return [target]
        from teamops.sources.gitlab.client import group_path
        from teamops.store.commits import mark_missing, repos_of_kind

        group, pattern = target.locator.rsplit("/", 1)
        params: dict[str, object] = {"include_subgroups": "true", "order_by": "id", "sort": "asc"}
        if not target.archived:
            params["archived"] = "false"
        listed = []
        for page in self.client().pages(f"{group_path(group)}/projects", params, f"the projects of {group}"):
            listed += [p for p in page if isinstance(p, dict) and isinstance(p.get("path_with_namespace"), str)]
        prefix = group.lower() + "/"
        names = {str(p["path_with_namespace"]).lower() for p in listed}
        if db is not None:
            gone = [
                rid
                for rid, locator, since in repos_of_kind(db, self.kind)
                if locator.lower().startswith(prefix)
                and fnmatch.fnmatchcase(locator.lower().rsplit("/", 1)[-1], pattern.lower())
                and locator.lower() not in names
                and since is None
            ]
            mark_missing(db, gone, f"no longer listed by {group}")
        found = []
        for p in listed:
            full = str(p["path_with_namespace"])
            short = full.rsplit("/", 1)[-1]
            if not fnmatch.fnmatchcase(short.lower(), pattern.lower()) or not target.wanted(short):
                continue
            if (p.get("archived") is True and not target.archived) or (
                p.get("forked_from_project") and not target.forks
            ):
                continue
            if p.get("empty_repo") is True or not isinstance(p.get("default_branch"), str):
                continue
            found.append(target.member(full, default_branch=p["default_branch"]))
        return found

    def sync(self, db: Database, target: Target, opts: SyncOptions, progress: Progress | None) -> SyncResult:
        from teamops.sources.gitlab.sync import sync_project

        return sync_project(db, self, target, opts, progress)

    def diff(self, db: Reader, repo_id: int, locator: str, sha: str) -> Files:
        from teamops.sources.gitlab.client import project_path

        data = self.client().get(
            f"{project_path(locator)}/repository/commits/{sha}/diff", {"per_page": 100}, f"the diff of {sha[:10]}"
        )
        return [
            (str(d.get("new_path") or d.get("old_path")), str(d.get("diff") or "")) for d in data if isinstance(d, dict)
        ]

    def repository(self, db: Database, target: Target) -> tuple[int, str]:
        from teamops.sources.gitlab.sync import project_repo_id

        return project_repo_id(db, target.locator), target.locator

    def check(self, target: Target, offline: bool) -> str:
        """The token is set and (online) the project answers."""
        gl = self.settings_
        if offline:
            from teamops.clients import secret
            from teamops.errors import ConfigError

            if not secret(gl.token_env):
                raise ConfigError(f"${gl.token_env} is not set: GitLab needs a token")
            return f"{target.locator} on {gl.url} (token set; not contacted: --offline)"
        from teamops.sources.gitlab.client import project_path

        client = self.client()
        project = client.get(project_path(target.locator), None, f"the project {target.locator}")
        left = f", {client.rate_remaining:,} requests left" if client.rate_remaining is not None else ""
        return f"{target.locator} answers (default branch {project.get('default_branch') or 'none'}{left})"

    def ingest(
        self, db: Database, body: bytes, name: str | None, token: str | None, env: Mapping[str, str], repos: list[str]
    ) -> EventOutcome:
        from teamops.sources.gitlab.events import ingest

        return ingest(db, self.cfg, body, str(name), token)


def settings(cfg: Config) -> GitLabConfig:
    """This kind's section of the configuration."""
    found: GitLabConfig = cfg.section("gitlab")
    return found
