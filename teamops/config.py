"""Load teamops.toml, .env and the environment into typed settings, with precedence and redaction."""

from __future__ import annotations

import dataclasses
import difflib
import math
import os
import re
import types
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Union, get_args, get_origin, get_type_hints
from urllib.parse import urlsplit

from teamops.errors import ConfigError
from teamops.runtime import OTHER_VARIABLES

CONFIG_ENV = "TEAMOPS_CONFIG"
DB_ENV = "TEAMOPS_DB"
DEFAULT_CONFIG_NAME = "teamops.toml"
DEFAULT_DB_NAME = "teamops.db"
GITHUB_REPO_RE = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
HANDLE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass
class StoreConfig:
    """Where the one SQLite file lives."""

    path: str = DEFAULT_DB_NAME


@dataclass
class RepoConfig:
    """One repository to pull commits from: a local clone (`path`) or GitHub (`github`)."""

    path: str | None = None
    github: str | None = None
    branches: list[str] = field(default_factory=list)
    name: str | None = None


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


@dataclass
class GithubConfig:
    """GitHub or GitHub Enterprise: where the API is and which variable holds the token."""

    api_url: str = "https://api.github.com"
    token_env: str = "GITHUB_TOKEN"
    max_wait_s: int = 900
    timeout_s: int = 30
    max_retries: int = 5


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
    send_when_empty: bool = True
    checkin_prompt: str = "What did you finish today, what is next, and is anything in your way?"
    team_channels: dict[str, list[str]] = field(default_factory=dict)


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
    jobs: dict[str, JobConfig] = field(default_factory=dict)
    kpi: KpiConfig = field(default_factory=KpiConfig)
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

    def repo_path(self, repo: RepoConfig) -> Path:
        """A configured local repository path, resolved against the config file's folder."""
        assert repo.path is not None
        raw = Path(repo.path).expanduser()
        return raw if raw.is_absolute() else self.base_dir / raw


def _type_name(tp: Any) -> str:
    origin = get_origin(tp)
    if origin in (Union, types.UnionType):
        return " or ".join(_type_name(a) for a in get_args(tp) if a is not type(None))
    if origin is list:
        return f"a list of {_PLURAL.get(get_args(tp)[0], 'tables')}"
    if dataclasses.is_dataclass(tp):
        return "a table"
    return {str: "a string", int: "an integer", float: "a number", bool: "true or false"}.get(tp, str(tp))


_PLURAL = {str: "strings", int: "integers", float: "numbers", bool: "booleans"}


class _Loader:
    """Builds dataclasses from TOML data, naming the file and key in every error."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, key: str, problem: str) -> ConfigError:
        return ConfigError(f"{self.source}: {key} {problem}")

    def value(self, tp: Any, raw: Any, key: str) -> Any:
        origin = get_origin(tp)
        if origin in (Union, types.UnionType):
            inner = [a for a in get_args(tp) if a is not type(None)]
            return self.value(inner[0], raw, key)
        if origin is list:
            if not isinstance(raw, list):
                raise self.fail(key, f"must be {_type_name(tp)}, got {raw!r}")
            (item,) = get_args(tp)
            return [self.value(item, v, f"{key}[{i}]") for i, v in enumerate(raw)]
        if origin is dict:
            if not isinstance(raw, dict):
                raise self.fail(key, f"must be a table, got {raw!r}")
            _, item = get_args(tp)
            return {k: self.value(item, v, f"{key}.{k}") for k, v in raw.items()}
        if dataclasses.is_dataclass(tp):
            if not isinstance(raw, dict):
                raise self.fail(key, f"must be a table, got {raw!r}")
            return self.table(tp, raw, key)
        if tp is bool:
            if not isinstance(raw, bool):
                raise self.fail(key, f"must be true or false, got {raw!r}")
            return raw
        if tp is int:
            if isinstance(raw, bool) or not isinstance(raw, int):
                raise self.fail(key, f"must be an integer, got {raw!r}")
            return raw
        if tp is float:
            if isinstance(raw, bool) or not isinstance(raw, int | float):
                raise self.fail(key, f"must be a number, got {raw!r}")
            if not math.isfinite(raw):
                raise self.fail(key, f"must be a finite number, got {raw!r}")
            return float(raw)
        if tp is str:
            # ClickUp ids are often written as numbers; accept them as text.
            leaf = key.rsplit(".", 1)[-1].split("[", 1)[0]
            numeric_id = leaf.endswith(("id", "ids")) or key.startswith("clickup.docs_parent.")
            if isinstance(raw, int) and not isinstance(raw, bool) and numeric_id:
                return str(raw)
            if not isinstance(raw, str):
                raise self.fail(key, f"must be a string, got {raw!r}")
            return raw
        raise self.fail(key, f"has an unsupported type {tp!r}")  # pragma: no cover

    def table(self, cls: Any, raw: Mapping[str, Any], prefix: str) -> Any:
        hints = get_type_hints(cls)
        known = {f.name: f for f in dataclasses.fields(cls) if not f.metadata.get("internal")}
        kwargs: dict[str, Any] = {}
        for key, val in raw.items():
            where = f"{prefix}.{key}" if prefix else key
            if key not in known:
                choices = ", ".join(sorted(known))
                raise self.fail(where, f"is not a known key (known here: {choices})")
            kwargs[key] = self.value(hints[key], val, where)
        return cls(**kwargs)


def _parse_env_value(tp: Any, raw: str, var: str) -> Any:
    """Environment values are strings: convert them to the key's type or say which variable is bad."""
    origin = get_origin(tp)
    if origin in (Union, types.UnionType):
        tp = next(a for a in get_args(tp) if a is not type(None))
        origin = get_origin(tp)
    try:
        if origin is list:
            return [part.strip() for part in raw.split(",") if part.strip()]
        if tp is bool:
            low = raw.strip().lower()
            if low in ("1", "true", "yes", "on"):
                return True
            if low in ("0", "false", "no", "off"):
                return False
            raise ValueError(raw)
        if tp is int:
            return int(raw)
        if tp is float:
            value = float(raw)
            if not math.isfinite(value):
                raise ValueError(raw)
            return value
    except ValueError:
        raise ConfigError(f"environment variable {var} must be {_type_name(tp)}, got {raw!r}") from None
    return raw


def find_config_file(flag: str | None, env: Mapping[str, str]) -> Path | None:
    """Config discovery: --config, else TEAMOPS_CONFIG, else ./teamops.toml when present."""
    if flag:
        path = Path(flag).expanduser()
        if not path.is_file():
            raise ConfigError(f"config file {flag} does not exist")
        return path
    if env.get(CONFIG_ENV):
        path = Path(env[CONFIG_ENV]).expanduser()
        if not path.is_file():
            raise ConfigError(f"config file {path} (from {CONFIG_ENV}) does not exist")
        return path
    local = Path.cwd() / DEFAULT_CONFIG_NAME
    return local if local.is_file() else None


def load_config(
    config_flag: str | None = None,
    db_flag: str | None = None,
    env: Mapping[str, str] | None = None,
) -> Config:
    """The effective configuration; raises ConfigError with the file and key on any mistake."""
    env = os.environ if env is None else env
    path = find_config_file(config_flag, env)
    data: dict[str, Any] = {}
    if path is not None:
        import tomllib

        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: not valid TOML: {exc}") from None
        except RecursionError:
            raise ConfigError(f"{path}: not valid TOML: nested too deeply") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path}: cannot be read: {exc}") from None
    loader = _Loader(str(path) if path else "configuration")
    cfg: Config = loader.table(Config, data, "")
    cfg.file = path
    origins = cfg.origins
    _record_origins(data, "", origins)
    _apply_env(cfg, env)
    if db_flag:
        cfg.store.path = db_flag
        origins["store.path"] = "flag"
    _validate(cfg, loader)
    return cfg


def _record_origins(data: Any, prefix: str, origins: dict[str, str]) -> None:
    """Every key the file sets, by its full path (`notify.channels.team.kind`, `repos[0].path`)."""
    if isinstance(data, dict):
        for key, value in data.items():
            _record_origins(value, f"{prefix}.{key}" if prefix else str(key), origins)
    elif isinstance(data, list) and data and all(isinstance(item, dict) for item in data):
        for i, item in enumerate(data):
            _record_origins(item, f"{prefix}[{i}]", origins)
    else:
        origins[prefix] = "file"


def known_variables() -> list[str]:
    """Every TEAMOPS_* variable teamops reads."""
    names = list(OTHER_VARIABLES)
    for f in dataclasses.fields(Config):
        tp = get_type_hints(Config)[f.name]
        if f.metadata.get("internal") or not dataclasses.is_dataclass(tp):
            continue
        hints = get_type_hints(tp)
        names += [
            f"TEAMOPS_{f.name}_{sf.name}".upper()
            for sf in dataclasses.fields(tp)
            if get_origin(hints[sf.name]) is not dict
        ]
    return names


def unknown_variables(env: Mapping[str, str]) -> list[str]:
    """A warning for each TEAMOPS_* variable teamops does not read, with the closest known name."""
    candidates = [v for v in env if v.startswith("TEAMOPS_") and v not in OTHER_VARIABLES]
    if not candidates:
        return []

    known = known_variables()
    warnings = []
    for var in sorted(v for v in candidates if v not in known):
        close = difflib.get_close_matches(var, known, n=1, cutoff=0.8)
        hint = f"; did you mean {close[0]}?" if close else "; see teamops.toml.example for the names"
        warnings.append(f"{var} is not a teamops setting and is ignored{hint}")
    return warnings


def _apply_env(cfg: Config, env: Mapping[str, str]) -> None:
    """TEAMOPS_<SECTION>_<KEY> overrides any scalar key of a top-level table; TEAMOPS_DB the path."""
    for f in dataclasses.fields(cfg):
        section = getattr(cfg, f.name)
        if not dataclasses.is_dataclass(section) or f.metadata.get("internal"):
            continue
        hints = get_type_hints(type(section))
        for sf in dataclasses.fields(section):
            if get_origin(hints[sf.name]) is dict:
                continue  # tables (channels, routes) come from the file only
            var = f"TEAMOPS_{f.name}_{sf.name}".upper()
            if var in env and env[var] != "":
                setattr(section, sf.name, _parse_env_value(hints[sf.name], env[var], var))
                cfg.origins[f"{f.name}.{sf.name}"] = "env"
    if env.get(DB_ENV):
        cfg.store.path = env[DB_ENV]
        cfg.origins["store.path"] = "env"


# The same bounds as the command-line options for the same settings; a value outside is exit 3.
BOUNDS: dict[str, tuple[float, float]] = {
    "github.max_wait_s": (1, 86_400),
    "github.timeout_s": (1, 600),
    "github.max_retries": (0, 20),
    "ai.concurrency": (1, 64),
    "ai.timeout_s": (1, 3_600),
    "ai.num_retries": (0, 10),
    "ai.max_diff_tokens": (1, 1_000_000),
    "ai.max_output_tokens": (1, 100_000),
    "ai.budget_usd": (0, 1_000_000),
    "ai.input_cost_per_mtok": (0, 10_000),
    "ai.output_cost_per_mtok": (0, 10_000),
    "notify.max_attempts": (1, 100),
    "notify.timeout_s": (1, 600),
    "notify.lease_s": (3, 86_400),
    "clickup.full_every_hours": (0, 24 * 365),
    "clickup.overlap_s": (0, 86_400),
    "clickup.max_wait_s": (1, 86_400),
    "clickup.timeout_s": (1, 600),
    "raci.escalate_after_hours": (0, 100_000),
    "raci.second_level_after_hours": (0, 100_000),
    "kpi.velocity_sprints": (1, 100),
}


def _check_bounds(cfg: Config, loader: _Loader) -> None:
    for key, (low, high) in BOUNDS.items():
        section, name = key.split(".")
        value = getattr(getattr(cfg, section), name)
        if not low <= value <= high:
            where = f"TEAMOPS_{section}_{name}".upper() if cfg.origins.get(key) == "env" else key
            raise loader.fail(where, f"must be from {low:g} to {high:,g}, got {value!r}")


def _validate(cfg: Config, loader: _Loader) -> None:
    """Checks that go beyond types: shapes of names, required pairs, duplicates."""
    _check_bounds(cfg, loader)
    for i, repo in enumerate(cfg.repos):
        key = f"repos[{i}]"
        if bool(repo.path) == bool(repo.github):
            raise loader.fail(key, 'needs exactly one of path = "DIR" or github = "owner/name"')
        if repo.github and not GITHUB_REPO_RE.match(repo.github):
            raise loader.fail(f"{key}.github", f'must look like "owner/name", got {repo.github!r}')
    api = cfg.github.api_url
    if not api.startswith(("https://", "http://")):
        where = "TEAMOPS_GITHUB_API_URL" if cfg.origins.get("github.api_url") == "env" else "github.api_url"
        raise loader.fail(where, f"must be an http(s) URL, got {api!r}")
    for key in ("max_wait_s", "timeout_s"):
        if getattr(cfg.github, key) <= 0:
            raise loader.fail(f"github.{key}", "must be greater than 0")
    seen: set[str] = set()
    for i, person in enumerate(cfg.people):
        key = f"people[{i}]"
        if not person.handle:
            raise loader.fail(f"{key}.handle", "is required")
        if not HANDLE_RE.match(person.handle):
            raise loader.fail(f"{key}.handle", "must be letters, digits, '.', '_' or '-' (at most 64)")
        if person.handle.lower() in seen:
            raise loader.fail(f"{key}.handle", f"{person.handle!r} appears twice")
        seen.add(person.handle.lower())
        if person.timezone:
            check_timezone(person.timezone, lambda msg, k=key: loader.fail(f"{k}.timezone", msg))
    ai = cfg.ai
    for key in ("concurrency", "timeout_s", "max_diff_tokens", "max_output_tokens"):
        if getattr(ai, key) <= 0:
            raise loader.fail(f"ai.{key}", "must be greater than 0")
    for key in ("budget_usd", "input_cost_per_mtok", "output_cost_per_mtok", "num_retries"):
        if getattr(ai, key) < 0:
            raise loader.fail(f"ai.{key}", "must not be negative")
    if ai.api_base and not ai.api_base.startswith(("http://", "https://")):
        raise loader.fail("ai.api_base", f"must be an http(s) URL, got {ai.api_base!r}")
    if not ai.model.strip():
        raise loader.fail("ai.model", 'must name a model ("heuristic" or a litellm model string)')
    _validate_notify(cfg.notify, loader)
    _validate_tasks(cfg, loader)
    _validate_clickup(cfg, loader)
    check_timezone(cfg.reminders.default_timezone, lambda msg: loader.fail("reminders.default_timezone", msg))
    for team, channels in cfg.reminders.team_channels.items():
        for name in channels:
            if name not in cfg.notify.channels:
                raise loader.fail(
                    f"reminders.team_channels.{team}", f"names channel {name!r}, which [notify.channels] lacks"
                )
    for name, job in cfg.jobs.items():
        if not job.steps:
            raise loader.fail(f"jobs.{name}.steps", "must list at least one teamops command")
        for step in job.steps:
            if step.split()[:2] == ["job", "run"] or step.startswith("teamops "):
                raise loader.fail(
                    f"jobs.{name}.steps", f"{step!r}: give the command without 'teamops', and no 'job run'"
                )
    if cfg.kpi.velocity_sprints < 1:
        raise loader.fail("kpi.velocity_sprints", "must be at least 1")
    for day in cfg.kpi.working_days:
        if day.lower() not in WEEKDAYS:
            raise loader.fail("kpi.working_days", f"has {day!r}; use {', '.join(WEEKDAYS)}")


def _validate_notify(notify: NotifyConfig, loader: _Loader) -> None:
    for name, ch in notify.channels.items():
        key = f"notify.channels.{name}"
        if ch.kind not in CHANNEL_KINDS:
            raise loader.fail(f"{key}.kind", f"must be one of {', '.join(CHANNEL_KINDS)}, got {ch.kind!r}")
        if bool(ch.url_env) == bool(ch.url):
            raise loader.fail(key, "needs exactly one of url_env (the variable holding a secret URL) or url")
        if ch.url and not ch.url.startswith(("https://", "http://")):
            raise loader.fail(f"{key}.url", "must be an http(s) URL")
        if ch.secret_env and ch.kind != "webhook":
            raise loader.fail(f"{key}.secret_env", 'signs generic webhooks only (kind = "webhook")')
    for kind, channels in notify.routes.items():
        if kind not in MESSAGE_KINDS:
            raise loader.fail(f"notify.routes.{kind}", f"is not a message kind ({', '.join(MESSAGE_KINDS)})")
        for target in channels:
            if target not in notify.channels:
                raise loader.fail(f"notify.routes.{kind}", f"names channel {target!r}, which [notify.channels] lacks")
    if notify.max_attempts < 1 or notify.timeout_s <= 0:
        raise loader.fail("notify", "max_attempts and timeout_s must be greater than 0")
    if notify.lease_s < notify.timeout_s + 2:
        raise loader.fail("notify.lease_s", f"must be at least timeout_s + 2 ({notify.timeout_s + 2}) seconds")


def _validate_tasks(cfg: Config, loader: _Loader) -> None:
    t = cfg.tasks
    if not t.statuses or len(set(t.statuses)) != len(t.statuses):
        raise loader.fail("tasks.statuses", "must list each status once")
    for key in ("active_statuses", "blocked_statuses", "done_statuses"):
        for status in getattr(t, key):
            if status not in t.statuses:
                raise loader.fail(f"tasks.{key}", f"names {status!r}, which tasks.statuses lacks")
    if not t.done_statuses or not t.blocked_statuses:
        raise loader.fail("tasks", "needs at least one done status and one blocked status")
    if t.default_status not in t.statuses:
        raise loader.fail("tasks.default_status", f"{t.default_status!r} is not in tasks.statuses")
    r = cfg.raci
    if r.escalate_after_hours <= 0 or r.second_level_after_hours <= r.escalate_after_hours:
        raise loader.fail("raci", "needs 0 < escalate_after_hours < second_level_after_hours")
    for status, roles in r.required_roles.items():
        if status not in t.statuses:
            raise loader.fail(f"raci.required_roles.{status}", "is not a status in tasks.statuses")
        for role in roles:
            if role not in ("R", "A", "C", "I"):
                raise loader.fail(f"raci.required_roles.{status}", f"has {role!r}; roles are R, A, C, I")


def _validate_clickup(cfg: Config, loader: _Loader) -> None:
    cu = cfg.clickup
    if not cu.api_url.startswith(("https://", "http://")):
        raise loader.fail("clickup.api_url", f"must be an http(s) URL, got {cu.api_url!r}")
    for source, target in cu.status_map.items():
        if target not in cfg.tasks.statuses:
            raise loader.fail(f"clickup.status_map.{source}", f"maps to {target!r}, which tasks.statuses lacks")
    if cu.docs_parent and not {"id", "type"} <= set(cu.docs_parent):
        raise loader.fail("clickup.docs_parent", "needs id and type, e.g. { id = 90120000, type = 4 }")
    for role in cu.raci_fields:
        if role not in ("responsible", "accountable", "consulted", "informed"):
            raise loader.fail(f"clickup.raci_fields.{role}", "must be responsible, accountable, consulted or informed")


def people_digest(people: list[PersonConfig]) -> str:
    """What `[[people]]` looked like when last upserted; an unchanged digest means nothing to write."""
    import hashlib  # about 2 ms, and needed only when the file lists people
    import json

    return hashlib.sha256(json.dumps([dataclasses.asdict(p) for p in people], sort_keys=True).encode()).hexdigest()


def check_timezone(name: str, fail: Any) -> None:
    """Timezones must be IANA names, since reminders depend on a person's local date."""
    if name == "UTC":
        return  # the default; spares loading the timezone database on every run
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise fail(f"is not a known IANA timezone: {name!r} (e.g. Europe/Berlin)") from None


SECRET_KEY_NAMES = {"token", "secret", "password", "api_key", "key"}


def redact(key: str, value: Any, env: Mapping[str, str]) -> Any:
    """What `config show` may print for a key: never a secret, only where it comes from."""
    leaf = key.rsplit(".", 1)[-1]
    if leaf.endswith("_env") and isinstance(value, str):
        state = "set" if env.get(value) else "not set"
        return f"{value} ({state})"
    if leaf in SECRET_KEY_NAMES and value:
        return "***"
    if leaf == "url" and isinstance(value, str) and value:
        parts = urlsplit(value)
        return f"{parts.scheme}://{parts.hostname}/***" if parts.hostname else "***"
    return value


def flatten(cfg: Config, env: Mapping[str, str]) -> list[dict[str, Any]]:
    """Rows of key, value and source for `config show`, with secrets redacted."""
    rows: list[dict[str, Any]] = []

    def source(key: str) -> str:
        if key in cfg.origins:
            return cfg.origins[key]
        # A table value (routes, status_map) set in the file holds keys of its own.
        return "file" if any(k.startswith(f"{key}.") for k in cfg.origins) else "default"

    def walk(obj: Any, prefix: str) -> None:
        for f in dataclasses.fields(obj):
            if f.metadata.get("internal"):
                continue
            val = getattr(obj, f.name)
            key = f"{prefix}.{f.name}" if prefix else f.name
            if dataclasses.is_dataclass(val):
                walk(val, key)
            elif isinstance(val, dict) and val and dataclasses.is_dataclass(next(iter(val.values()))):
                for name, item in val.items():
                    walk(item, f"{key}.{name}")
            elif isinstance(val, list) and val and dataclasses.is_dataclass(val[0]):
                for i, item in enumerate(val):
                    walk(item, f"{key}[{i}]")
            else:
                rows.append({"key": key, "value": redact(key, val, env), "source": source(key)})

    walk(cfg, "")
    return rows
