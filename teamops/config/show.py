"""What `config show` prints: every key with its value and source, secrets redacted."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from teamops.config.schema import Config

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
        try:
            parts = urlsplit(value)
            return f"{parts.scheme}://{parts.hostname}/***" if parts.hostname else "***"
        except ValueError:  # not a URL that can be split: show none of it
            return "***"
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
            val = getattr(obj, f.name)
            if f.name in ("keys", "sections") and f.metadata.get("internal"):
                # a repository's kind key, and the sections source kinds bring, as if they were fields
                for name, item in val.items():
                    key = f"{prefix}.{name}" if prefix else name
                    if dataclasses.is_dataclass(item):
                        walk(item, key)
                    else:
                        rows.append({"key": key, "value": redact(key, item, env), "source": source(key)})
                continue
            if f.metadata.get("internal"):
                continue
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
