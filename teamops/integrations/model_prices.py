"""Prices and token counts for a dry run, read from litellm's bundled files without importing litellm.

Importing litellm takes seconds; pricing a run needs only its price list (a JSON file it ships) and
a tokenizer (tiktoken's cl100k_base, whose file litellm also ships, so nothing is fetched).
"""

from __future__ import annotations

import importlib.util
import json
import os
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

PRICES_FILE = "model_prices_and_context_window_backup.json"
MAX_PRICES_BYTES = 64 * 2**20


def _litellm_dir() -> Path | None:
    spec = importlib.util.find_spec("litellm")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


@cache
def price_list() -> dict[str, Any]:
    """litellm's bundled price list (the one it uses offline); empty when it cannot be read."""
    root = _litellm_dir()
    path = root / PRICES_FILE if root else None
    try:
        if path is None or path.stat().st_size > MAX_PRICES_BYTES:
            return {}
        data = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def prices(model: str) -> tuple[float, float] | None:
    """USD per input and output token, by the full name or without its provider prefix; None when unknown."""
    table = price_list()
    info = table.get(model) or table.get(model.split("/", 1)[-1])
    if not isinstance(info, dict):
        return None
    try:
        return float(info.get("input_cost_per_token") or 0), float(info.get("output_cost_per_token") or 0)
    except (TypeError, ValueError):
        return None


@cache
def token_counter() -> Callable[[str], int]:
    """cl100k_base from the tokenizer file litellm ships; about 4 characters a token without it."""
    root = _litellm_dir()
    try:
        if root is None:
            raise ImportError
        os.environ["TIKTOKEN_CACHE_DIR"] = str(root / "litellm_core_utils" / "tokenizers")  # never a download
        import tiktoken

        encoding = tiktoken.get_encoding("cl100k_base")
    except Exception:  # no tiktoken, or its file is missing: never fetch it
        return lambda text: max(1, len(text) // 4)
    return lambda text: len(encoding.encode(text, disallowed_special=()))


class PricingClient:
    """What a dry run asks of a model client, with no key, no network and no litellm import."""

    def __init__(self, model: str, max_output_tokens: int, input_cost_per_mtok: float, output_cost_per_mtok: float):
        self.model = model
        self.max_output_tokens = max_output_tokens
        self._configured = (input_cost_per_mtok / 1e6, output_cost_per_mtok / 1e6)

    def count_tokens(self, text: str) -> int:
        return token_counter()(text)

    def prices(self) -> tuple[float, float]:
        """USD per input and output token: from the config when set, else litellm's bundled price list."""
        if any(self._configured):
            return self._configured
        return prices(self.model) or (0.0, 0.0)
