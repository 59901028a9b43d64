"""Points from a model, shown the team's most similar finished tasks as examples (search-based few-shot):
cached per task, model, prompt and examples, priced and kept within a budget like `analyze`."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from teamops.errors import InvalidInput, ServiceError
from teamops.estimation.suggest import Learner, _text, history, open_unpointed
from teamops.store.suggestions import cached_suggestion, save_suggestions

if TYPE_CHECKING:
    from sqlite_utils import Database

    from teamops.config import Config
    from teamops.estimation.estimate import Pricing

PROMPT_VERSION = "s1"
EXAMPLES = 8
SYSTEM = (
    "You estimate story points for one open task of a software team, on the team's own scale: its "
    "finished tasks most like this one are given with the points they took. Answer only with JSON: "
    '{"points": <number>, "rationale": "<one sentence>"}.'
)
SCHEMA = {
    "type": "object",
    "properties": {"points": {"type": "number"}, "rationale": {"type": "string"}},
    "required": ["points", "rationale"],
    "additionalProperties": False,
}


@dataclass
class ModelSuggestion:
    """A model's points for a task, and whether they came from the cache."""

    key: str
    title: str
    points: float
    rationale: str
    examples: list[str]
    cached: bool


@dataclass
class ModelRun:
    """What a model run did and spent."""

    suggestions: list[ModelSuggestion] = field(default_factory=list)
    calls: int = 0
    cached: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    cost_usd: float = 0.0
    estimated_usd: float = 0.0
    stopped: str = ""


def messages_for(title: str, description: str | None, examples: list[tuple[str, float]]) -> list[dict[str, str]]:
    """The prompt: the examples (title and points), then the task (its description's start)."""
    shown = "\n".join(f"- {t[:200]} → {p:g} points" for t, p in examples)
    task = f"{title}\n{(description or '')[:2000]}".strip()
    return [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": f"Finished tasks like it:\n{shown}\n\nThe open task:\n{task}"},
    ]


def parse(text: str) -> tuple[float, str]:
    """(points, rationale) from the answer; anything else is refused."""
    try:
        data = json.loads(text.strip().removeprefix("```json").removesuffix("```"))
        points = float(data["points"])
    except (ValueError, KeyError, TypeError):
        raise InvalidInput(f"the model's answer is not the JSON asked for: {text[:80]!r}") from None
    if not 0 <= points <= 10_000:
        raise InvalidInput(f"the model answered {points:g} points")
    return points, str(data.get("rationale") or "")[:500]


def suggest_with_model(
    db: Database,
    cfg: Config,
    keys: list[str],
    model: str,
    client_factory: Callable[[], Any],
    budget_usd: float,
    pricing: Pricing | None = None,
) -> ModelRun:
    """Each task's examples found by similarity, then one call per task not cached; with `pricing`, a dry
    run: tokens and cost estimated, nothing sent."""
    rows = history(db, cfg)
    if not rows:
        raise InvalidInput("no finished task with points to show the model", "import a history: teamops task import")
    todo = open_unpointed(db, cfg, keys)
    run = ModelRun()
    if not todo:
        return run
    from teamops.estimation.suggest import Choice

    learner = Learner(Choice("knn", EXAMPLES), [_text(t, d) for _, t, d, _ in rows], [p for *_, p in rows])
    near = learner.predict([_text(t, d) for _, t, d in todo], neighbours=EXAMPLES)
    client = None
    for (key, title, desc), (_, _, _, similar) in zip(todo, near, strict=True):
        examples = [(rows[j][1], rows[j][3]) for j, _ in similar] or [(t, p) for _, t, _, p in rows[-EXAMPLES:]]
        digest = hashlib.sha256(json.dumps(examples).encode()).hexdigest()[:16]
        hit = cached_suggestion(db, key, model, PROMPT_VERSION, digest)
        shown = [t for t, _ in examples]
        if hit:
            run.cached += 1
            run.suggestions.append(ModelSuggestion(key, title, hit[0], hit[1], shown, True))
            continue
        messages = messages_for(title, desc, examples)
        if pricing is not None:
            tokens = sum(pricing.count_tokens(m["content"]) for m in messages)
            price_in, price_out = pricing.prices()
            run.tokens_in += tokens
            run.estimated_usd += tokens * price_in + cfg.ai.max_output_tokens * price_out
            continue
        if run.cost_usd >= budget_usd > 0:
            run.stopped = f"stopped at the budget of ${budget_usd:g} (--budget-usd)"
            break
        client = client or client_factory()
        answer = client.complete(messages, SCHEMA)
        run.calls += 1
        run.tokens_in += answer.tokens_in
        run.tokens_out += answer.tokens_out
        run.cost_usd += answer.cost_usd
        try:
            points, why = parse(answer.text)
        except InvalidInput as exc:
            raise ServiceError(
                f"{model}: {exc.message}", "run again: answers are not cached until they parse"
            ) from None
        row = (key, digest, points, why, answer.tokens_in, answer.tokens_out, answer.cost_usd)
        save_suggestions(db, model, PROMPT_VERSION, [row])
        run.suggestions.append(ModelSuggestion(key, title, points, why, shown, False))
    return run
