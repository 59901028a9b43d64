"""The `github` kind: owner/name on GitHub or GitHub Enterprise, or `owner/*` for every repository an
organisation or user owns; releases and deployments become deployments."""

from __future__ import annotations

import fnmatch
import re
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, ClassVar

from teamops.errors import Refused
from teamops.sources import EventOutcome, Files, Kind, Progress, SyncOptions, Target, register

# A configured GitHub target: owner/name, or owner/glob for the owner's repositories.
GITHUB_TARGET_RE = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.*?!\[\]-]+$")
# A clone's remote on github.com: https, ssh or git@ form, `.git` or not.
GITHUB_REMOTE_RE = re.compile(r"^(?:https?://(?:[^@/]+@)?|ssh://git@|git@)github\.com[:/]([^/]+)/([^/]+?)(?:\.git)?/?$")

if TYPE_CHECKING:
    from sqlite_utils import Database

    from teamops.config import Config
    from teamops.sources.github.client import GitHubClient
    from teamops.store.reader import Reader
    from teamops.sync.result import SyncResult


@register
class GitHubSource(Kind):
    """Commits through GraphQL history pages; one client per worker thread, one rate budget for all."""

    kind: ClassVar[str] = "github"
    config_key: ClassVar[str] = "github"
    example: ClassVar[str] = 'github = "owner/name"'
    label: ClassVar[str] = "GitHub"
    events: ClassVar[tuple[str, ...]] = (
        "push",
        "pull_request",
        "pull_request_review",
        "workflow_run",
        "deployment_status",
        "issues",
    )
    any_event: ClassVar[bool] = True  # GitHub Actions hands its event under $GITHUB_EVENT_NAME
    order: ClassVar[int] = 1
    streams: ClassVar[tuple[str, ...]] = ("commits", "pulls", "reviews", "deployments", "releases")
    identity: ClassVar[str | None] = "github"
    person_field: ClassVar[str | None] = "github"  # `[[people]] github =`, `people add --github`
    noreply: ClassVar[re.Pattern[str] | None] = re.compile(r"^(?:\d+\+)?([^@]+)@users\.noreply\.github\.com$", re.I)

    def __init__(self, cfg: Config) -> None:
        from teamops.integrations.http import RateBudget

        self.cfg = cfg
        self.budget = RateBudget()
        self._local = threading.local()
        self._clients: list[GitHubClient] = []
        self._lock = threading.Lock()

    @classmethod
    def claims(cls, value: str) -> bool:
        return bool(GITHUB_TARGET_RE.match(value))

    @classmethod
    def locate(cls, cfg: Config, value: str) -> str:
        return value

    @classmethod
    def shape(cls, value: str) -> str | None:
        return None if GITHUB_TARGET_RE.match(value) else f'must look like "owner/name" or "owner/*", got {value!r}'

    @classmethod
    def hosted(cls, cfg: Config | None, url: str) -> str | None:
        match = GITHUB_REMOTE_RE.match(url.strip())
        return f"{match.group(1)}/{match.group(2)}" if match else None

    def client(self) -> GitHubClient:
        """This thread's client (PyGithub's requester keeps one connection and is not shared)."""
        found: GitHubClient | None = getattr(self._local, "client", None)
        if found is None:
            from teamops.sources.github.client import github_client

            found = github_client(self.cfg, budget=self.budget)
            assert found is not None
            self._local.client = found
            with self._lock:
                self._clients.append(found)
        return found

    @property
    def requests(self) -> int:
        with self._lock:
            return sum(c.requests for c in self._clients)

    def expand(self, db: Database | None, target: Target) -> list[Target]:
        """An owner's repositories matching the pattern (archived and forks only when asked); those stored
        before and no longer listed are marked missing, never deleted."""
        if not target.pattern:
            return [target]
        from teamops.store.commits import mark_missing, repos_of_kind

        owner, pattern = target.locator.split("/", 1)
        listed = self.client().owner_repositories(owner)
        names = {r.name.lower() for r in listed}
        prefix = owner.lower() + "/"
        if db is not None:
            gone = [
                rid
                for rid, locator, since in repos_of_kind(db, self.kind)
                if locator.lower().startswith(prefix)
                and fnmatch.fnmatchcase(locator.lower()[len(prefix) :], pattern.lower())
                and locator.lower() not in names
                and since is None
            ]
            mark_missing(db, gone, f"no longer listed by {owner}")
        found = []
        for r in listed:
            short = r.name.split("/", 1)[1]
            if not fnmatch.fnmatchcase(short.lower(), pattern.lower()) or not target.wanted(short):
                continue
            if (r.archived and not target.archived) or (r.fork and not target.forks) or r.default_branch is None:
                continue
            found.append(target.member(r.name, default_branch=r.default_branch, size=r.commits))
        return found

    def sync(self, db: Database, target: Target, opts: SyncOptions, progress: Progress | None) -> SyncResult:
        from teamops.sources.github.commits import github_repo_id, sync_github_repo
        from teamops.sources.github.delivery import sync_github_delivery
        from teamops.store.commits import mark_missing, save_default_branch

        client = self.client()
        repo_id = github_repo_id(db, target.locator)
        if target.default_branch and not target.branches:
            save_default_branch(db, repo_id, target.default_branch, only_if_unknown=True)
        try:
            result = sync_github_repo(
                db,
                client,
                target.locator,
                target.branches or None,
                since=opts.since,
                until=opts.until,
                full=opts.full,
                progress=progress,
            )
        except Refused as exc:
            mark_missing(db, [repo_id], exc.message)
            raise
        before = client.requests
        delivered = sync_github_delivery(db, opts.cfg, client, target.locator, repo_id)
        if delivered is not None:
            result.deployments = delivered.added + delivered.changed
            result.details.append(delivered.line(result.repo))
            result.warnings += delivered.warnings
        if opts.cfg.dora.deploy_workflows:
            from teamops.sources.github.runs import sync_workflow_runs
            from teamops.store.commits import default_branch

            branch = (
                opts.cfg.dora.production_branch or default_branch(db, repo_id) or client.default_branch(target.locator)
            )
            ran = sync_workflow_runs(db, opts.cfg, client, target.locator, repo_id, branch)
            if ran is not None:
                result.deployments += ran.added + ran.changed
                result.details.append(ran.line(result.repo).replace("deployments of", "deploy runs of", 1))
        if opts.cfg.incidents.labels:
            from teamops.sources.github.issues import sync_incident_issues

            filed = sync_incident_issues(db, opts.cfg, client, target.locator, repo_id)
            if filed:
                result.details.append(f"incidents of {result.repo}: {filed} new or changed")
        if opts.cfg.github.pulls:
            from teamops.sources.github.pulls import sync_github_pulls

            pulled = sync_github_pulls(db, client, target.locator, repo_id)
            if pulled is not None:
                result.pulls = pulled.saved
                result.details.append(pulled.line(result.repo))
        result.requests = (result.requests or 0) + client.requests - before
        result.rate_limit_remaining = client.rate_remaining
        return result

    @classmethod
    def owners(cls, cfg: Config) -> list[str]:
        return list(cfg.github.copilot_orgs)

    def sync_owner(self, db: Database, owner: str, opts: SyncOptions) -> SyncResult:
        """An organisation's GitHub Copilot usage reports (`[github] copilot_orgs`)."""
        from teamops.clock import now
        from teamops.sources.github.copilot import sync_copilot

        return sync_copilot(db, opts.cfg, self.client(), owner, self.kind, now().date())

    def check_owner(self, owner: str, offline: bool) -> str:
        """The organisation's Copilot reports answer (one request, no file read)."""
        if offline:
            return f"Copilot usage reports of {owner} (not contacted: --offline)"
        found = self.client().copilot_report(owner, "organization")
        if found is None:
            return f"Copilot usage reports of {owner}: none yet"
        return f"Copilot usage reports of {owner} answer (to {found.get('report_end_day')})"

    def repository(self, db: Database, target: Target) -> tuple[int, str]:
        from teamops.sources.github.commits import github_repo_id

        return github_repo_id(db, target.locator), target.locator

    def check(self, target: Target, offline: bool) -> str:
        """The token is set and (online) the repository answers, with what is left of the hour."""
        from teamops.clients import secret
        from teamops.errors import ConfigError

        gh = self.cfg.github
        if offline:
            if not secret(gh.token_env):
                raise ConfigError(f"${gh.token_env} is not set: GitHub needs a token")
            return f"{target.locator} on {gh.api_url} (token set; not contacted: --offline)"
        client = self.client()
        branch = client.default_branch(target.locator)
        left = f", {client.rate_remaining:,} requests left this hour" if client.rate_remaining is not None else ""
        return f"{target.locator} answers (default branch {branch}{left})"

    def ingest(
        self, db: Database, body: bytes, name: str | None, token: str | None, env: Mapping[str, str], repos: list[str]
    ) -> EventOutcome:
        from teamops.sources.github.push import ingest

        return ingest(db, self.cfg, body, name, token, env, repos)

    def diff(self, db: Reader, repo_id: int, locator: str, sha: str) -> Files:
        from teamops.store.commits import files_total

        files: Files = self.client().commit_files(locator, sha, files_total(db, repo_id, sha))
        return files
