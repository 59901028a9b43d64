"""The settings teamops reads, as typed dataclasses with their defaults."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CONFIG_ENV = "TEAMOPS_CONFIG"
DB_ENV = "TEAMOPS_DB"
DEFAULT_CONFIG_NAME = "teamops.toml"
DEFAULT_DB_NAME = "teamops.db"
GITHUB_REPO_RE = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
GLOB_CHARS = frozenset("*?[")


def is_pattern(value: str) -> bool:
    """Whether a repository value is a glob (`acme/*`, `../*`) that names many."""
    return any(ch in GLOB_CHARS for ch in value)


HANDLE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass
class StoreConfig:
    """Where the one SQLite file lives."""

    path: str = DEFAULT_DB_NAME
    # The most a restored state (`teamops state restore`) may expand to; a larger one is refused.
    state_max_mb: int = 4096


@dataclass
class RepoConfig:
    """Repositories to pull commits from: one key names the source kind and the repository (`path` for a
    local clone or a pattern such as "../*", `github` for owner/name or "owner/*", each kind its own)."""

    # {kind's key: value}, e.g. {"path": "../api"}: which keys there are is up to the registered kinds.
    keys: dict[str, str] = field(default_factory=dict, metadata={"internal": True})
    branches: list[str] = field(default_factory=list)
    name: str | None = None
    include: list[str] = field(default_factory=list)  # of a pattern: only names matching one of these globs
    exclude: list[str] = field(default_factory=list)  # of a pattern: names matching any of these left out
    archived: bool = False  # of a pattern: archived repositories too
    forks: bool = False  # of a pattern: forks too


@dataclass
class PersonConfig:
    """A person and the identities that map commits and tasks to them."""

    handle: str = ""
    name: str | None = None
    emails: list[str] = field(default_factory=list)
    github: str | None = None
    clickup_id: str | None = None
    timezone: str | None = None
    team: str | None = None
    lead: bool = False
    active: bool = True
    names: list[str] = field(default_factory=list)
    # Accounts on the services sources bring, by identity kind: { gitlab = "alice" }.
    accounts: dict[str, str] = field(default_factory=dict)


@dataclass
class GithubConfig:
    """GitHub or GitHub Enterprise: where the API is and which variable holds the token."""

    api_url: str = "https://api.github.com"
    token_env: str = "GITHUB_TOKEN"
    max_wait_s: int = 900
    timeout_s: int = 30
    max_retries: int = 5
    # Repositories synced side by side in one run (any kind), under one rate budget per token.
    concurrency: int = 4
    # Pull requests, their reviews and review requests with every sync (a free conditional request
    # when none changed).
    pulls: bool = True
    # The most a push event file (--event) may hold: GitHub caps webhook payloads at 25 MB and lists
    # at most 2,048 commits in a push; anything larger was not written by GitHub.
    event_max_mb: int = 25
    event_max_commits: int = 2048
    # Organisations whose GitHub Copilot usage reports each sync-commits reads (docs/github.md); their token
    # needs "Organization Copilot metrics" (read) or read:org. How many days a first sync reads (GitHub
    # keeps a year), and the most one report file may hold.
    copilot_orgs: list[str] = field(default_factory=list)
    copilot_days: int = 28
    copilot_max_mb: int = 200


@dataclass
class AiConfig:
    """Which estimator `analyze` uses: the offline heuristic, or any litellm model."""

    model: str = "heuristic"
    api_base: str = ""
    api_key_env: str = "OPENAI_API_KEY"
    concurrency: int = 4
    timeout_s: int = 60
    num_retries: int = 2
    max_diff_tokens: int = 6000
    max_output_tokens: int = 400
    budget_usd: float = 5.0
    input_cost_per_mtok: float = 0.0
    output_cost_per_mtok: float = 0.0


@dataclass
class ChannelConfig:
    """Where a notification channel delivers: a Make.com, Slack, Discord or generic webhook."""

    kind: str = ""
    url_env: str = ""
    url: str = ""
    secret_env: str = ""


MESSAGE_KINDS = (
    "task_created",
    "task_blocked",
    "escalation",
    "eod_reminder",
    "mastery_reminder",
    "doc_published",
    "job_failed",
    "review_reminder",
)
CHANNEL_KINDS = ("make", "slack", "discord", "webhook")


@dataclass
class NotifyConfig:
    """Channels, which message kinds go to which channels, and delivery limits."""

    channels: dict[str, ChannelConfig] = field(default_factory=dict)
    routes: dict[str, list[str]] = field(default_factory=dict)
    max_attempts: int = 5
    timeout_s: int = 10
    lease_s: int = 120


@dataclass
class ClickUpConfig:
    """Which ClickUp workspace and lists to mirror, and how their fields map onto tasks and RACI."""

    api_url: str = "https://api.clickup.com/api"
    token_env: str = "CLICKUP_TOKEN"
    team_id: str = ""
    list_ids: list[str] = field(default_factory=list)
    sprint_folder_ids: list[str] = field(default_factory=list)
    status_map: dict[str, str] = field(default_factory=dict)
    raci_fields: dict[str, str] = field(
        default_factory=lambda: {
            "responsible": "Responsible",
            "accountable": "Accountable",
            "consulted": "Consulted",
            "informed": "Informed",
        }
    )
    points_field: str = ""
    assignees_as_responsible: bool = True
    time_in_status: bool = True
    full_every_hours: float = 24.0
    overlap_s: int = 300
    max_wait_s: int = 900
    timeout_s: int = 30
    docs_workspace_id: str = ""
    docs_parent: dict[str, str] = field(default_factory=dict)
    docs_name: str = "Team updates"


@dataclass
class TasksConfig:
    """The statuses tasks move through, and which of them mean active, blocked and done."""

    statuses: list[str] = field(default_factory=lambda: ["todo", "in_progress", "review", "blocked", "done"])
    active_statuses: list[str] = field(default_factory=lambda: ["in_progress"])
    blocked_statuses: list[str] = field(default_factory=lambda: ["blocked"])
    done_statuses: list[str] = field(default_factory=lambda: ["done"])
    default_status: str = "todo"
    # How a commit names a task (its message, or its pull request's branch or title): regular
    # expressions whose first group is the task's key or tracker id (`kpi estimates`).
    link_patterns: list[str] = field(
        default_factory=lambda: [r"\bCU-([0-9a-z]+)\b", r"\b([A-Z][A-Z0-9]+-\d+)\b", r"(?<![\w&])#(\d+)\b"]
    )


@dataclass
class RaciConfig:
    """RACI rules beyond the fixed ones, and when blocked tasks escalate."""

    escalate_after_hours: float = 24.0
    second_level_after_hours: float = 48.0
    working_hours_only: bool = False
    responsible_may_be_accountable: bool = True
    required_roles: dict[str, list[str]] = field(default_factory=dict)


@dataclass
class RemindersConfig:
    """End-of-day and personal-mastery reminders: whose clock, what to ask, where to send."""

    default_timezone: str = "UTC"
    # "HH:MM": no end-of-day reminder before this local time, so an hourly schedule suits every zone.
    eod_after: str = ""
    send_when_empty: bool = True
    checkin_prompt: str = "What did you finish today, what is next, and is anything in your way?"
    team_channels: dict[str, list[str]] = field(default_factory=dict)


@dataclass
class ReviewsConfig:
    """When a requested review has waited too long, counted in the reviewer's working hours."""

    # Working hours a requested review may wait before `teamops remind reviews` nudges the reviewer.
    sla: float = 8.0
    # The working day, in the reviewer's own timezone, on [kpi] working_days.
    work_starts: str = "09:00"
    work_ends: str = "17:00"


@dataclass
class ReportConfig:
    """What the static site (`teamops report html`) leaves out: its pages may be read by anyone with the link."""

    # People (handle, name or email) or repositories (name) matching any of these globs get no page and
    # no row; team and repository totals still count their work.
    exclude: list[str] = field(default_factory=list)


@dataclass
class BotsConfig:
    """Accounts that are not people, beyond GitHub's own `[bot]` accounts: kept as data, left out of people figures.

    (`[people]` cannot hold them: it is the `[[people]]` list.)"""

    # Case-insensitive globs over an author's name, email and GitHub login.
    patterns: list[str] = field(default_factory=list)


@dataclass
class JobConfig:
    """A named job: teamops command lines run in order, in-process."""

    steps: list[str] = field(default_factory=list)


@dataclass
class KpiConfig:
    """How KPIs count time."""

    working_days: list[str] = field(default_factory=lambda: ["mon", "tue", "wed", "thu", "fri"])
    velocity_sprints: int = 3


@dataclass
class DoraConfig:
    """What counts as a production deployment, and as its failure, for the delivery (DORA) metrics."""

    # Release tags: version numbers such as v1.2.3 or 1.2; pre-releases (1.4rc1, v2.0.0-beta) do not match.
    tag_pattern: str = r"^v?\d+(\.\d+)+$"
    environment: str = "production"
    # A deployment is failed when a patch release of its own line that contains it follows within this many hours.
    hotfix_hours: float = 24.0
    # Its first group names a deployment's release line; empty: a version number's all but last part
    # (2.3.1 and 2.3 are the line 2.3, a shorter version padded with zeros to three numbers).
    release_line: str = ""
    # Tasks whose title matches, or whose status is one of these, are incidents (opened → done: restore time).
    incident_pattern: str = r"(?i)\b(incident|outage)\b"
    incident_statuses: list[str] = field(default_factory=list)
    # GitHub Actions workflows whose completed runs on the production branch are deployments: globs over the
    # workflow's file name ("deploy.yml") or its name ("Deploy*"); empty: none.
    deploy_workflows: list[str] = field(default_factory=list)
    # The branch production is deployed from; empty: the repository's default branch.
    production_branch: str = ""


@dataclass
class ServiceConfig:
    """A service of a monorepo: a deployment belongs to it when its workflow names it, else when it ships
    changes under its paths."""

    name: str = ""
    paths: list[str] = field(default_factory=list)  # globs over file paths; `**` any depth
    # Globs over a deploy workflow's file or name (deploy-api.yml, "Deploy API*"); empty: a workflow whose
    # file or name has the service's name as a word (Deploy api, deploy-api.yml) deploys it.
    workflows: list[str] = field(default_factory=list)


@dataclass
class IncidentsConfig:
    """Which issues are incidents: a repository's issues with one of these labels (case-insensitive)."""

    # Empty: no issues are read. A `sev*` label of an incident is kept as its severity.
    labels: list[str] = field(default_factory=lambda: ["incident"])


@dataclass
class AiAssistConfig:
    """Which work an AI assistant co-wrote beyond the built-in marks, and when a comparison has too few."""

    # An assistant's name → a regular expression over a commit's message and author line.
    patterns: dict[str, str] = field(default_factory=dict)
    # A pull request's label → the assistant it names: { "ai-generated" = "AI (unnamed)" }.
    labels: dict[str, str] = field(default_factory=dict)
    # Fewer than this on either side of a comparison (assisted or not): "too few to compare".
    min_sample: int = 10


@dataclass
class Config:
    """The effective configuration: defaults < file < environment < flags."""

    store: StoreConfig = field(default_factory=StoreConfig)
    repos: list[RepoConfig] = field(default_factory=list)
    people: list[PersonConfig] = field(default_factory=list)
    github: GithubConfig = field(default_factory=GithubConfig)
    ai: AiConfig = field(default_factory=AiConfig)
    notify: NotifyConfig = field(default_factory=NotifyConfig)
    clickup: ClickUpConfig = field(default_factory=ClickUpConfig)
    tasks: TasksConfig = field(default_factory=TasksConfig)
    raci: RaciConfig = field(default_factory=RaciConfig)
    reminders: RemindersConfig = field(default_factory=RemindersConfig)
    reviews: ReviewsConfig = field(default_factory=ReviewsConfig)
    report: ReportConfig = field(default_factory=ReportConfig)
    bots: BotsConfig = field(default_factory=BotsConfig)
    jobs: dict[str, JobConfig] = field(default_factory=dict)
    kpi: KpiConfig = field(default_factory=KpiConfig)
    dora: DoraConfig = field(default_factory=DoraConfig)
    incidents: IncidentsConfig = field(default_factory=IncidentsConfig)
    services: list[ServiceConfig] = field(default_factory=list)
    ai_assist: AiAssistConfig = field(default_factory=AiAssistConfig)
    # The sections source kinds bring (`[gitlab]`), by name; a kind's defaults when the file has none.
    sections: dict[str, object] = field(default_factory=dict, metadata={"internal": True})
    # Bookkeeping, not keys of the file.
    file: Path | None = field(default=None, metadata={"internal": True})
    origins: dict[str, str] = field(default_factory=dict, metadata={"internal": True})

    @property
    def base_dir(self) -> Path:
        """Relative paths in the file are relative to the file, so cron can run from anywhere."""
        return self.file.parent if self.file else Path.cwd()

    def db_path(self) -> Path:
        """The database file, resolved against where its value came from."""
        raw = Path(self.store.path).expanduser()
        if raw.is_absolute() or self.origins.get("store.path") != "file":
            return raw
        return self.base_dir / raw

    def section(self, name: str) -> Any:
        """A source kind's section of settings (its defaults when the file has none); a section of the core's
        own (`[github]`) is the same table under its own name."""
        if name in {f.name for f in dataclasses.fields(self) if not f.metadata.get("internal")}:
            return getattr(self, name)
        if name not in self.sections:
            from teamops.sources import by_section

            found = by_section(name)
            if found is None or found.settings is None:
                raise KeyError(name)
            self.sections[name] = found.settings()
        return self.sections[name]


def people_digest(people: list[PersonConfig]) -> str:
    """What `[[people]]` looked like when last upserted; an unchanged digest means nothing to write."""
    import hashlib  # about 2 ms, and needed only when the file lists people
    import json

    return hashlib.sha256(json.dumps([dataclasses.asdict(p) for p in people], sort_keys=True).encode()).hexdigest()
