"""The `jira` tracker: a Jira Cloud site's issues, story points, status and point history, sprints and people.

Everything Jira is in this folder: its settings (`[jira]`), client, records and sync; see docs/jira.md.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar
from urllib.parse import urlsplit

from teamops.sources import Progress, TaskSync, register_tracker

if TYPE_CHECKING:
    from collections.abc import Callable

    from sqlite_utils import Database

    from teamops.config import Config
    from teamops.sources.jira.client import JiraClient

PROJECT_RE = re.compile(r"^[A-Z][A-Z0-9_]{0,254}$")


@dataclass
class JiraConfig:
    """A Jira Cloud site: where, which account, which issues, which fields."""

    # The site (env TEAMOPS_JIRA_URL), e.g. "https://acme.atlassian.net".
    url: str = ""
    # The variables holding the account's email and an API token (id.atlassian.com → Security → API tokens).
    email_env: str = "JIRA_EMAIL"
    token_env: str = "JIRA_API_TOKEN"
    # Which issues: project keys, or a JQL query (without ORDER BY) instead.
    projects: list[str] = field(default_factory=list)
    jql: str = ""
    # Board ids whose sprints are read; empty: every board of the projects.
    boards: list[int] = field(default_factory=list)
    # The story-point field, by id or name; empty: "Story Points" (company-managed projects) and "Story point
    # estimate" (team-managed), whichever the site has (ids differ from site to site).
    points_field: str = ""
    # A user-picker field whose users are Accountable (the assignee is Responsible); empty: none.
    accountable_field: str = ""
    # Jira status name → teamops status; unmapped statuses go by their category (To Do, In Progress, Done).
    status_map: dict[str, str] = field(default_factory=dict)
    # Resolutions that close an issue without delivering it: the task is done and removed, its points not velocity.
    not_delivered: list[str] = field(
        default_factory=lambda: ["Won't Do", "Won't Fix", "Duplicate", "Cannot Reproduce", "Declined"]
    )
    # Search is eventually consistent (Atlassian's warning): each pass reads this much before the last one.
    overlap_minutes: int = 15
    # A whole pass this often finds deleted issues and those that left the query.
    full_every_hours: int = 168
    max_wait_s: int = 900
    timeout_s: int = 30
    max_retries: int = 5


def _settings(cfg: Config) -> JiraConfig:
    found = cfg.section("jira")
    return found if isinstance(found, JiraConfig) else JiraConfig()


def jira_client(cfg: Config) -> JiraClient:
    """A client for the configured site, with the account's email and token from the environment."""
    from teamops.errors import ConfigError
    from teamops.sources.jira.client import JiraClient

    s = _settings(cfg)
    email, token = os.environ.get(s.email_env, "").strip(), os.environ.get(s.token_env, "").strip()
    if not email or not token:
        missing = s.email_env if not email else s.token_env
        raise ConfigError(
            f"${missing} is not set: Jira needs the account's email and an API token",
            f"export {s.email_env}=you@example.com and {s.token_env}=<token from id.atlassian.com>",
        )
    return JiraClient(
        s.url,
        email,
        token,
        token_env=s.token_env,
        timeout_s=s.timeout_s,
        max_wait_s=s.max_wait_s,
        max_retries=s.max_retries,
    )


@register_tracker
class JiraTracker:
    """Jira Cloud's REST v3 and Agile APIs, page by page, each page stored with the token of the next."""

    kind: ClassVar[str] = "jira"
    label: ClassVar[str] = "Jira"
    settings: ClassVar[type | None] = JiraConfig
    identity: ClassVar[str | None] = "jira"  # accountIds; `accounts = { jira = "5b10ac8d82e05b22cc7d4ef5" }`
    person_field: ClassVar[str | None] = None
    noreply: ClassVar[re.Pattern[str] | None] = None

    def __init__(self, cfg: Config) -> None:
        self.cfg = cfg
        self.settings_ = _settings(cfg)

    @classmethod
    def configured(cls, cfg: Config) -> bool:
        return bool(_settings(cfg).url)

    @classmethod
    def checked(cls, cfg: Config) -> bool:
        return cls.configured(cfg)

    @classmethod
    def validate(cls, cfg: Config, fail: Callable[[str, str], Exception]) -> None:
        s = _settings(cfg)
        if not s.url:
            return
        parts = urlsplit(s.url)
        loopback = parts.hostname in ("127.0.0.1", "localhost", "::1")
        if (parts.scheme != "https" and not (parts.scheme == "http" and loopback)) or not parts.hostname:
            raise fail("jira.url", f"must be the site's https address, e.g. https://acme.atlassian.net (not {s.url!r})")
        if parts.path.strip("/") or parts.query:
            raise fail("jira.url", "must be the site alone, e.g. https://acme.atlassian.net (no path)")
        if not s.projects and not s.jql.strip():
            raise fail("jira.projects", 'must name the projects (["WEB"]), or set jira.jql')
        bad = [p for p in s.projects if not PROJECT_RE.match(p)]
        if bad:
            raise fail("jira.projects", f"{bad[0]!r} is not a project key (upper-case letters and digits: WEB)")
        if re.search(r"(?i)\border\s+by\b", s.jql):
            raise fail("jira.jql", "must not order: teamops reads oldest update first")
        statuses = set(cfg.tasks.statuses)
        wrong = [v for v in s.status_map.values() if v not in statuses]
        if wrong:
            raise fail("jira.status_map", f"maps onto {wrong[0]!r}, which is not one of [tasks] statuses")
        for key in ("overlap_minutes", "full_every_hours", "max_wait_s", "timeout_s"):
            if getattr(s, key) < 1:
                raise fail(f"jira.{key}", "must be at least 1")

    def sync_tasks(self, db: Database, full: bool, progress: Progress | None) -> TaskSync:
        from dataclasses import asdict

        from teamops.sources.jira.sync import sync_jira
        from teamops.wording import count

        client = jira_client(self.cfg)
        try:
            result = sync_jira(db, self.cfg, self.settings_, client, full=full, progress=progress)
        finally:
            client.close()
        line = (
            f"synced Jira: {count(result.issues, 'issue')} read, {result.added} added, {result.changed} changed, "
            f"{result.closed} closed, {result.removed} removed, {result.moved} moved; "
            f"{count(result.events, 'history event')}, {count(result.sprints, 'sprint')} in "
            f"{result.seconds:.1f} s ({count(result.requests, 'request')})"
        )
        return TaskSync(line, result.notes, {"report": "sync-tasks", "tracker": "jira", **asdict(result)})

    def check(self, offline: bool) -> str:
        """The credentials are set and (online) answer, and the story-point field is found."""
        from teamops.sources.jira.records import site_fields

        client = jira_client(self.cfg)
        try:
            if offline:
                return "credentials set; not contacted: --offline"
            me = client.get("/rest/api/3/myself", what="the account")
            fields = site_fields(
                client.get("/rest/api/3/field", what="the site's fields"),
                self.settings_.points_field,
                self.settings_.accountable_field,
            )
        finally:
            client.close()
        who = me.get("displayName") if isinstance(me, dict) else None
        points = ", ".join(fields.points) or "none found (set [jira] points_field)"
        return f"answers as {who or 'the account'}; story points: {points}; sprint field: {fields.sprint or 'none'}"
