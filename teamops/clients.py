"""One factory per outside service, built from the config with its secret read from the environment.

The heavy clients (PyGithub, litellm) are imported inside their factory, so a command that never
talks to a service never loads them.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from teamops.config import Config
from teamops.errors import ConfigError

if TYPE_CHECKING:
    from teamops.integrations.clickup import ClickUpClient
    from teamops.integrations.llm import LLMClient


def secret(var: str) -> str | None:
    """A secret from the variable the config names (a .env beside the work is loaded at start-up)."""
    value = os.environ.get(var, "").strip() if var else ""
    return value or None


def clickup_client(cfg: Config, purpose: str = "ClickUp needs an API token") -> ClickUpClient:
    """A ClickUp client with the token from `[clickup] token_env`; exit 3 when it is not set."""
    cu = cfg.clickup
    token = secret(cu.token_env)
    if not token:
        raise ConfigError(f"${cu.token_env} is not set: {purpose}", "see docs/clickup.md")
    from teamops.integrations.clickup import ClickUpClient

    return ClickUpClient(cu.api_url, token, token_env=cu.token_env, timeout_s=cu.timeout_s, max_wait_s=cu.max_wait_s)


def model_key(cfg: Config) -> tuple[str | None, str | None]:
    """The variable `[ai] api_key_env` names and its value, when the user set one; else (None, None)
    and litellm reads the provider's own variable (OPENAI_API_KEY, ANTHROPIC_API_KEY, ...)."""
    if cfg.origins.get("ai.api_key_env", "default") == "default":
        return None, None
    return cfg.ai.api_key_env, secret(cfg.ai.api_key_env)


def llm_client(cfg: Config, model: str, api_base: str | None = None, max_output_tokens: int | None = None) -> LLMClient:
    """A model client, after checking it can work at all (exit 3 before any call when not)."""
    from teamops.integrations.llm import LLMClient, check_model

    ai = cfg.ai
    base = api_base or ai.api_base
    key_env, key = model_key(cfg)
    check_model(model, base, key, key_env)
    return LLMClient(
        model,
        api_base=base,
        api_key=key,
        timeout_s=ai.timeout_s,
        num_retries=ai.num_retries,
        max_output_tokens=max_output_tokens or ai.max_output_tokens,
        input_cost_per_mtok=ai.input_cost_per_mtok,
        output_cost_per_mtok=ai.output_cost_per_mtok,
    )
