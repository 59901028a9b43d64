"""Checks beyond types: bounds, shapes of names, required pairs, references between tables."""

from __future__ import annotations

import re
import shlex
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from teamops.config.schema import (
    CHANNEL_KINDS,
    HANDLE_RE,
    MESSAGE_KINDS,
    WEEKDAYS,
    Config,
    NotifyConfig,
    is_pattern,
)

if TYPE_CHECKING:
    from teamops.config.load import Loader


# An organisation's login on GitHub: letters, digits and single hyphens, at most 39.
OWNER_RE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,37}[A-Za-z0-9])?$")

# The same bounds as the command-line options for the same settings; a value outside is exit 3.
BOUNDS: dict[str, tuple[float, float]] = {
    "github.max_wait_s": (1, 86_400),
    "github.timeout_s": (1, 600),
    "github.max_retries": (0, 20),
    "github.copilot_days": (1, 365),
    "github.copilot_max_mb": (1, 2_048),
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
    "dora.hotfix_hours": (0, 24 * 30),
}


def is_http_url(value: str) -> bool:
    """An http(s) URL with a host and no spaces: every base URL teamops is given (config or flag)."""
    try:
        parts = urlsplit(value.strip())
        host = parts.hostname  # raises on a malformed port
        _ = parts.port
    except ValueError:  # "http://[::1": an unclosed IPv6 bracket
        return False
    return parts.scheme in ("http", "https") and bool(host) and not any(c.isspace() for c in value.strip())


def _check_bounds(cfg: Config, loader: Loader) -> None:
    for key, (low, high) in BOUNDS.items():
        section, name = key.split(".")
        value = getattr(getattr(cfg, section), name)
        if not low <= value <= high:
            where = f"TEAMOPS_{section}_{name}".upper() if cfg.origins.get(key) == "env" else key
            raise loader.fail(where, f"must be from {low:g} to {high:,g}, got {value!r}")


def validate(cfg: Config, loader: Loader) -> None:
    """Checks that go beyond types: shapes of names, required pairs, duplicates."""
    _check_bounds(cfg, loader)
    if cfg.repos or cfg.sections:
        _validate_repos(cfg, loader)
    if not 1 <= cfg.github.concurrency <= 64:
        raise loader.fail("github.concurrency", f"must be from 1 to 64, got {cfg.github.concurrency!r}")
    api = cfg.github.api_url
    if not is_http_url(api):
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
    if ai.api_base and not is_http_url(ai.api_base):
        raise loader.fail("ai.api_base", f"must be an http(s) URL, got {ai.api_base!r}")
    if not ai.model.strip():
        raise loader.fail("ai.model", 'must name a model ("heuristic" or a litellm model string)')
    _validate_notify(cfg.notify, loader)
    _validate_tasks(cfg, loader)
    _validate_clickup(cfg, loader)
    if not 1 <= cfg.github.event_max_mb <= 1024:
        raise loader.fail("github.event_max_mb", "must be between 1 and 1024 (MB)")
    if not 1 <= cfg.github.event_max_commits <= 1_000_000:
        raise loader.fail("github.event_max_commits", "must be between 1 and 1000000")
    for org in cfg.github.copilot_orgs:
        if not isinstance(org, str) or not OWNER_RE.match(org):
            raise loader.fail("github.copilot_orgs", f"must list organisation names (letters, digits, -), got {org!r}")
    if not 1 <= cfg.store.state_max_mb <= 1 << 20:
        raise loader.fail("store.state_max_mb", "must be between 1 and 1048576 (MiB)")
    for key in ("tag_pattern", "incident_pattern", "release_line"):
        try:
            compiled = re.compile(getattr(cfg.dora, key))
        except re.error as exc:
            raise loader.fail(f"dora.{key}", f"is not a regular expression ({exc})") from None
        if key == "release_line" and cfg.dora.release_line and compiled.groups < 1:
            raise loader.fail(
                "dora.release_line", "needs a group that captures the release line, e.g. '^v?(\\d+\\.\\d+)'"
            )
    check_timezone(cfg.reminders.default_timezone, lambda msg: loader.fail("reminders.default_timezone", msg))
    after = cfg.reminders.eod_after
    if after and not (re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", after)):
        raise loader.fail("reminders.eod_after", f'must be a local time as HH:MM (e.g. "17:30"), got {after!r}')
    rv = cfg.reviews
    for key in ("work_starts", "work_ends"):
        value = getattr(rv, key)
        if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", value):
            raise loader.fail(f"reviews.{key}", f'must be a local time as HH:MM (e.g. "09:00"), got {value!r}')
    if rv.work_starts >= rv.work_ends:
        raise loader.fail("reviews.work_ends", "must be after reviews.work_starts")
    if not 0 <= rv.sla <= 10_000:
        raise loader.fail("reviews.sla", f"must be from 0 to 10,000 working hours, got {rv.sla!r}")
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
            try:
                words = shlex.split(step)
            except ValueError as exc:  # an unterminated quote: found now, not when cron runs the job
                raise loader.fail(f"jobs.{name}.steps", f"{step!r} cannot be read as a command line ({exc})") from None
            if not words:
                raise loader.fail(f"jobs.{name}.steps", "has an empty step")
            if words[:2] == ["job", "run"] or words[0] == "teamops":
                raise loader.fail(
                    f"jobs.{name}.steps", f"{step!r}: give the command without 'teamops', and no 'job run'"
                )
    names: set[str] = set()
    for i, service in enumerate(cfg.services):
        if not service.name.strip() or service.name.lower() in names:
            raise loader.fail(f"services[{i}].name", "must name the service, once")
        names.add(service.name.lower())
        if not all(p.strip() for p in [*service.paths, *service.workflows]):
            raise loader.fail(f"services[{i}]", "has an empty entry in its paths or workflows")
        if not service.paths and not service.workflows:
            raise loader.fail(
                f"services[{i}].paths", 'must list its paths, e.g. ["services/api/**"], or its deploy workflows'
            )
    for name, rx in cfg.ai_assist.patterns.items():
        try:
            re.compile(rx)
        except re.error as exc:
            raise loader.fail(f"ai_assist.patterns.{name}", f"is not a regular expression ({exc})") from None
    if cfg.ai_assist.min_sample < 1:
        raise loader.fail("ai_assist.min_sample", "must be at least 1")
    if cfg.kpi.velocity_sprints < 1:
        raise loader.fail("kpi.velocity_sprints", "must be at least 1")
    for day in cfg.kpi.working_days:
        if day.lower() not in WEEKDAYS:
            raise loader.fail("kpi.working_days", f"has {day!r}; use {', '.join(WEEKDAYS)}")


def _validate_repos(cfg: Config, loader: Loader) -> None:
    """Each `[[repos]]` entry names one repository of one kind, in the shape that kind reads."""
    from teamops.sources import every_kind, kinds

    known = kinds()
    for i, repo in enumerate(cfg.repos):
        key = f"repos[{i}]"
        if len([v for v in repo.keys.values() if v]) != 1:
            choices = [k.example for k in known]
            raise loader.fail(key, f"needs exactly one of {', '.join(choices[:-1])} or {choices[-1]}")
        ((name, value),) = ((k, v) for k, v in repo.keys.items() if v)
        found = next(k for k in known if k.config_key == name)
        problem = found.shape(value)
        if problem:
            raise loader.fail(f"{key}.{name}", problem)
        narrowed = repo.include or repo.exclude or repo.archived or repo.forks
        if narrowed and not is_pattern(value):
            raise loader.fail(key, 'include, exclude, archived and forks apply to a pattern ("owner/*", "../*")')
    for k in every_kind():
        if k.settings is not None and k.kind in cfg.sections:
            section = k.kind

            def fail(where: str, problem: str, section: str = section) -> Exception:
                return loader.fail(f"{section}.{where}", problem)

            k.validate(cfg, fail)


def _validate_notify(notify: NotifyConfig, loader: Loader) -> None:
    for name, ch in notify.channels.items():
        key = f"notify.channels.{name}"
        if ch.kind not in CHANNEL_KINDS:
            raise loader.fail(f"{key}.kind", f"must be one of {', '.join(CHANNEL_KINDS)}, got {ch.kind!r}")
        if bool(ch.url_env) == bool(ch.url):
            raise loader.fail(key, "needs exactly one of url_env (the variable holding a secret URL) or url")
        if ch.url and not is_http_url(ch.url):
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


def _validate_tasks(cfg: Config, loader: Loader) -> None:
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
    for pattern in t.link_patterns:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise loader.fail("tasks.link_patterns", f"{pattern!r} is not a regular expression ({exc})") from None
    r = cfg.raci
    if r.escalate_after_hours <= 0 or r.second_level_after_hours <= r.escalate_after_hours:
        raise loader.fail("raci", "needs 0 < escalate_after_hours < second_level_after_hours")
    for status, roles in r.required_roles.items():
        if status not in t.statuses:
            raise loader.fail(f"raci.required_roles.{status}", "is not a status in tasks.statuses")
        for role in roles:
            if role not in ("R", "A", "C", "I"):
                raise loader.fail(f"raci.required_roles.{status}", f"has {role!r}; roles are R, A, C, I")


def _validate_clickup(cfg: Config, loader: Loader) -> None:
    cu = cfg.clickup
    if not is_http_url(cu.api_url):
        raise loader.fail("clickup.api_url", f"must be an http(s) URL, got {cu.api_url!r}")
    for source, target in cu.status_map.items():
        if target not in cfg.tasks.statuses:
            raise loader.fail(f"clickup.status_map.{source}", f"maps to {target!r}, which tasks.statuses lacks")
    if cu.docs_parent and not {"id", "type"} <= set(cu.docs_parent):
        raise loader.fail("clickup.docs_parent", "needs id and type, e.g. { id = 90120000, type = 4 }")
    # ClickUp's ids are numbers (its spec types them so); anything else would land in a URL path.
    ids = {"clickup.team_id": [cu.team_id] if cu.team_id else []}
    ids |= {"clickup.list_ids": cu.list_ids, "clickup.sprint_folder_ids": cu.sprint_folder_ids}
    ids["clickup.docs_parent"] = [str(cu.docs_parent.get(k, "0")) for k in ("id", "type")] if cu.docs_parent else []
    for key, values in ids.items():
        for value in values:
            if not str(value).isdigit() or not str(value).isascii():
                raise loader.fail(key, f"has {value!r}: ClickUp ids are numbers, e.g. 901234567")
    for role in cu.raci_fields:
        if role not in ("responsible", "accountable", "consulted", "informed"):
            raise loader.fail(f"clickup.raci_fields.{role}", "must be responsible, accountable, consulted or informed")


def check_timezone(name: str, fail: Any) -> None:
    """Timezones must be IANA names, since reminders depend on a person's local date."""
    if name == "UTC":
        return  # the default; spares loading the timezone database on every run
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise fail(f"is not a known IANA timezone: {name!r} (e.g. Europe/Berlin)") from None
