"""Read teamops.toml, .env and TEAMOPS_* into a Config, naming the file and key in every error."""

from __future__ import annotations

import dataclasses
import difflib
import math
import os
import types
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Union, get_args, get_origin, get_type_hints

from teamops.config.schema import CONFIG_ENV, DB_ENV, DEFAULT_CONFIG_NAME, Config, RepoConfig
from teamops.config.validate import validate
from teamops.errors import ConfigError
from teamops.runtime import OTHER_VARIABLES


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


class Loader:
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
    loader = Loader(str(path) if path else "configuration")
    origins: dict[str, str] = {}
    _record_origins(data, "", origins)
    repo_keys = _repo_keys(data, loader)
    sections = _sections(data, loader)
    cfg: Config = loader.table(Config, data, "")
    for rc, keys in zip(cfg.repos, repo_keys, strict=True):
        rc.keys = keys
    cfg.sections = sections
    cfg.file = path
    cfg.origins = origins
    _apply_env(cfg, env)
    if db_flag:
        cfg.store.path = db_flag
        origins["store.path"] = "flag"
    validate(cfg, loader)
    return cfg


def _repo_keys(data: dict[str, Any], loader: Loader) -> list[dict[str, str]]:
    """Take each `[[repos]]` entry's kind key (`path`, `github`, a plug-in's) out of the data, as text."""
    repos = data.get("repos")
    if not isinstance(repos, list) or not repos:
        return []  # none, or not a list (the loader names that)
    from teamops.sources import kinds

    names = {k.config_key for k in kinds()}
    found: list[dict[str, str]] = []
    for i, entry in enumerate(repos):
        keys: dict[str, str] = {}
        if isinstance(entry, dict):
            for key in [k for k in entry if k in names]:
                value = entry.pop(key)
                if not isinstance(value, str):
                    raise loader.fail(f"repos[{i}].{key}", f"must be a string, got {value!r}")
                keys[key] = value
            unknown = [k for k in entry if k not in _REPO_FIELDS]
            if unknown:
                known = ", ".join(sorted(names | _REPO_FIELDS))
                raise loader.fail(f"repos[{i}].{unknown[0]}", f"is not a known key (known here: {known})")
        found.append(keys)
    return found


_REPO_FIELDS = {f.name for f in dataclasses.fields(RepoConfig) if not f.metadata.get("internal")}
_TOP_FIELDS = {f.name for f in dataclasses.fields(Config) if not f.metadata.get("internal")}


def _sections(data: dict[str, Any], loader: Loader) -> dict[str, Any]:
    """Sections a source kind brings (`[gitlab]`), read into its settings and taken out of the data."""
    extra = [key for key in data if key not in _TOP_FIELDS]
    if not extra:
        return {}
    from teamops.sources import by_section

    sections: dict[str, Any] = {}
    for key in extra:
        found = by_section(key)
        if found is None or found.settings is None:
            continue  # left for the loader, which names it as unknown
        sections[key] = loader.value(found.settings, data.pop(key), key)
    return sections


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
    from teamops.sources import every_kind

    names = list(OTHER_VARIABLES)
    tables = [
        (f.name, get_type_hints(Config)[f.name]) for f in dataclasses.fields(Config) if not f.metadata.get("internal")
    ]
    tables += [(k.kind, k.settings) for k in every_kind() if k.settings is not None]
    for name, tp in tables:
        if not dataclasses.is_dataclass(tp):
            continue
        fields = get_type_hints(tp)
        names += [
            f"TEAMOPS_{name}_{sf.name}".upper()
            for sf in dataclasses.fields(tp)
            if get_origin(fields[sf.name]) is not dict
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


def _plugin_sections(cfg: Config, env: Mapping[str, str]) -> list[tuple[str, Any]]:
    """The sections source kinds bring, when some TEAMOPS_* variable is not one of the built-in ones."""
    built_in = tuple(f"TEAMOPS_{name}_".upper() for name in _TOP_FIELDS)
    if not any(v.startswith("TEAMOPS_") and not v.startswith(built_in) for v in env):
        return []
    from teamops.sources import every_kind

    return [(k.kind, cfg.section(k.kind)) for k in every_kind() if k.settings is not None]


def _apply_env(cfg: Config, env: Mapping[str, str]) -> None:
    """TEAMOPS_<SECTION>_<KEY> overrides any scalar key of a top-level table; TEAMOPS_DB the path."""
    tables = [(f.name, getattr(cfg, f.name)) for f in dataclasses.fields(cfg) if not f.metadata.get("internal")]
    for name, section in tables + _plugin_sections(cfg, env):
        if not dataclasses.is_dataclass(section):
            continue
        hints = get_type_hints(type(section))
        for sf in dataclasses.fields(section):
            if get_origin(hints[sf.name]) is dict:
                continue  # tables (channels, routes) come from the file only
            var = f"TEAMOPS_{name}_{sf.name}".upper()
            if var in env and env[var] != "":
                setattr(section, sf.name, _parse_env_value(hints[sf.name], env[var], var))
                cfg.origins[f"{name}.{sf.name}"] = "env"
    if env.get(DB_ENV):
        cfg.store.path = env[DB_ENV]
        cfg.origins["store.path"] = "env"
