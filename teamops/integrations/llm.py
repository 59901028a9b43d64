"""Chat completions through litellm, imported only here (it costs seconds to import)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from teamops.errors import ConfigError, ServiceError
from teamops.integrations.http import RetryPolicy, Verdict

_litellm: Any = None


def litellm_module() -> Any:
    """Import litellm once, offline: the local price list, and no banners on stdout."""
    global _litellm
    if _litellm is None:
        os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
        os.environ.setdefault("LITELLM_LOG", "ERROR")
        import litellm

        litellm.suppress_debug_info = True
        litellm.telemetry = False
        litellm.drop_params = True  # a provider that lacks response_format still answers
        _litellm = litellm
    return _litellm


def check_model(model: str, api_base: str, api_key: str | None, key_env: str | None) -> None:
    """Exit 3 before any call when a model run cannot work: an unknown provider, or its key unset.

    `key_env` is the variable the user named in `[ai] api_key_env` (None: the provider's own, as
    litellm reads it: OPENAI_API_KEY, ANTHROPIC_API_KEY, ...).
    """
    litellm = litellm_module()
    try:
        litellm.get_llm_provider(model=model, api_base=api_base or None)
    except Exception:
        raise ConfigError(
            f"litellm does not know the model {model!r}",
            "name it as provider/model, e.g. openai/gpt-4o-mini or ollama/llama3; see docs/analyze.md",
        ) from None
    if key_env:
        if not (api_key or "").strip():
            state = "is set but empty" if key_env in os.environ else "is not set"
            raise ConfigError(
                f"{model} needs an API key: ${key_env} ([ai] api_key_env) {state}",
                "export it before the run; a local server that needs no key takes any value",
            )
        return
    # A variable set to nothing counts as missing: litellm would send an empty key and fail later.
    empty = {name: value for name, value in os.environ.items() if not value.strip()}
    for name in empty:
        del os.environ[name]
    try:
        env = litellm.validate_environment(model=model, api_base=api_base or None)
    finally:
        os.environ.update(empty)
    missing = [str(name) for name in env.get("missing_keys") or []]
    if missing and not env.get("keys_in_environment"):
        names = " or ".join(f"${name}" for name in missing)
        state = "is set but empty" if any(name in empty for name in missing) else "is not set"
        raise ConfigError(
            f"{model} needs {'an API key' if 'KEY' in names else 'a setting'}: {names} {state}",
            "export it before the run (a local server that needs no key takes any value), "
            "or name another variable with [ai] api_key_env",
        )


@dataclass
class Completion:
    """The text of an answer and what it cost."""

    text: str
    tokens_in: int
    tokens_out: int
    cost_usd: float


class LLMError(ServiceError):
    """The model could not be reached or refused (after litellm's retries)."""


class AuthError(LLMError):
    """The API key was rejected: no point in trying other commits."""


class LLMClient:
    """One configured model: timeouts, retries, JSON output where the provider supports it."""

    def __init__(
        self,
        model: str,
        *,
        api_base: str = "",
        api_key: str | None = None,
        timeout_s: float = 60,
        num_retries: int = 2,
        max_output_tokens: int = 400,
        input_cost_per_mtok: float = 0.0,
        output_cost_per_mtok: float = 0.0,
    ) -> None:
        self.model = model
        self.api_base = api_base or None
        self._api_key = api_key
        self.timeout_s = timeout_s
        self.num_retries = num_retries
        self.max_output_tokens = max_output_tokens
        self.input_price = input_cost_per_mtok / 1e6
        self.output_price = output_cost_per_mtok / 1e6
        self.litellm = litellm_module()
        # Retries are ours: litellm's own wrap every error into a bare Exception.
        self.policy = RetryPolicy(model, attempts=num_retries, max_wait_s=600, base_s=0.5, cap_s=8.0, error=LLMError)

    def __repr__(self) -> str:  # never show the key
        return f"LLMClient({self.model!r}, api_base={self.api_base!r})"

    def count_tokens(self, text: str) -> int:
        """litellm's counter (its bundled tokenizers work offline); else about 4 characters a token."""
        try:
            return int(self.litellm.token_counter(model=self.model, text=text))
        except Exception:
            return max(1, len(text) // 4)

    def prices(self) -> tuple[float, float]:
        """USD per input and output token: from the config when set, else litellm's price list."""
        if self.input_price or self.output_price:
            return self.input_price, self.output_price
        info = self.litellm.model_cost.get(self.model) or self.litellm.model_cost.get(self.model.split("/", 1)[-1])
        if not info:
            return 0.0, 0.0
        return float(info.get("input_cost_per_token") or 0), float(info.get("output_cost_per_token") or 0)

    def response_format(self, schema: dict[str, Any]) -> dict[str, Any] | None:
        try:
            if self.litellm.supports_response_schema(model=self.model):
                return {
                    "type": "json_schema",
                    "json_schema": {"name": "estimate", "schema": schema, "strict": True},
                }
        except Exception:
            pass
        return None

    def complete(self, messages: list[dict[str, str]], schema: dict[str, Any] | None = None) -> Completion:
        """One completion; provider errors become LLMError (AuthError for a rejected key)."""
        kwargs: dict[str, Any] = {
            "model": self.model,
            "messages": messages,
            "timeout": self.timeout_s,
            # Retries are ours (below): litellm's own wrap every error into a bare Exception.
            "num_retries": 0,
            "max_retries": 0,
            "max_tokens": self.max_output_tokens,
            "temperature": 0,
        }
        if self.api_base:
            kwargs["api_base"] = self.api_base
        if self._api_key:
            kwargs["api_key"] = self._api_key
        if schema is not None:
            fmt = self.response_format(schema)
            if fmt is not None:
                kwargs["response_format"] = fmt
        response = self._call_with_retries(kwargs)
        try:
            text = response.choices[0].message.content or ""
        except (AttributeError, IndexError, KeyError):
            text = ""
        usage = getattr(response, "usage", None)
        tokens_in = int(getattr(usage, "prompt_tokens", 0) or 0)
        tokens_out = int(getattr(usage, "completion_tokens", 0) or 0)
        price_in, price_out = self.prices()
        cost = tokens_in * price_in + tokens_out * price_out
        return Completion(text, tokens_in, tokens_out, cost)

    def _call_with_retries(self, kwargs: dict[str, Any]) -> Any:
        """litellm.completion with `num_retries` retries on 429, 5xx, timeouts and dropped connections."""
        return self.policy.run(lambda attempt: self._attempt(kwargs), "a completion")

    def _attempt(self, kwargs: dict[str, Any]) -> Verdict[Any]:
        """One call, classified: an answer, worth retrying, or a failure that retrying cannot fix."""
        litellm = self.litellm
        retryable = (
            litellm.RateLimitError,
            litellm.InternalServerError,
            litellm.ServiceUnavailableError,
            litellm.APIConnectionError,
            litellm.Timeout,
        )
        try:
            return Verdict.done(litellm.completion(**kwargs))
        except litellm.AuthenticationError:
            raise AuthError(
                f"{self.model} rejected the API key (401)", "check the variable [ai] api_key_env names"
            ) from None
        except retryable as exc:
            if isinstance(exc, litellm.Timeout):
                return Verdict.again(f"did not answer within {self.timeout_s:g} s")
            return Verdict.again(_describe(exc))
        except Exception as exc:  # litellm maps provider errors to many classes; keep one line
            raise LLMError(f"{self.model} failed: {_describe(exc)}") from None


def _describe(exc: BaseException) -> str:
    status = getattr(exc, "status_code", None)
    return f"{type(exc).__name__}" + (f" (HTTP {status})" if status else "")
