"""Story points suggested from the team's own finished tasks: the most similar ones, and a model learned per
team and chosen by measured error, never more confident than the team's median has earned.

The learner (scikit-learn: TF-IDF of title and description, then the median of the nearest finished
tasks, or a linear model under an absolute-error loss) is picked on the newest quarter of the history
held out, and kept only when it beats the team's median there; otherwise the median is the answer.
What was chosen is stored with a digest of the tasks it learned from (`point_models`), and chosen
again only when that history changes. Imported only by `task suggest` (and `task add`'s hint).
"""

from __future__ import annotations

import hashlib
import itertools
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from teamops.errors import ConfigError, InvalidInput
from teamops.store.suggestions import save_choice, save_suggestions, stored_choice

if TYPE_CHECKING:
    from sqlite_utils import Database

    from teamops.config import Config
    from teamops.store.reader import Reader

MIN_HISTORY = 30
KS = (10, 20, 40, 80)
GUARD = 0.97  # a model is kept only when its held-out error is at most 97% of the median's, in every fold
FOLDS = 4  # time-ordered held-out slices of the history's newer half
TEXT_CHARS = 2000  # of a description: the start says what the task is


@dataclass
class Similar:
    """A finished task like the one suggested for."""

    key: str
    title: str
    points: float
    similarity: float


@dataclass
class Suggestion:
    """Points for one task, a likely range, and why."""

    key: str
    title: str
    points: float
    low: float
    high: float
    method: str
    similar: list[Similar] = field(default_factory=list)


@dataclass
class Choice:
    """What was learned from a history: the method, its setting, and how it did on the held-out quarter."""

    method: str  # "median", "knn" or "linear"
    k: int = 0
    held_out_mae: float | None = None
    median_mae: float | None = None
    tasks: int = 0
    digest: str = ""


def _text(title: str, description: str | None) -> str:
    return f"{title}\n{(description or '')[:TEXT_CHARS]}"


def _finished(cfg: Config) -> tuple[str, list[str]]:
    """The WHERE of what suggestions learn from: finished tasks with points."""
    done = cfg.tasks.done_statuses
    return f"points IS NOT NULL AND removed_at IS NULL AND status IN ({','.join('?' * len(done))})", list(done)


def history(db: Reader, cfg: Config) -> list[tuple[str, str, str | None, float]]:
    """Finished tasks with points, oldest first: (key, title, description, points)."""
    where, params = _finished(cfg)
    rows = db.execute(
        f"SELECT key, title, description, points FROM tasks WHERE {where} ORDER BY COALESCE(done_at, created_at), id",
        params,
    ).fetchall()
    return [(str(k), str(t), d, float(p)) for k, t, d, p in rows]


def finished_with_points(db: Reader, cfg: Config) -> int:
    """How many finished tasks with points there are to learn from (one count, no model loaded)."""
    where, params = _finished(cfg)
    return int(db.execute(f"SELECT COUNT(*) FROM tasks WHERE {where}", params).fetchone()[0])


def _digest(rows: list[tuple[str, str, str | None, float]]) -> str:
    h = hashlib.sha256()
    for key, title, desc, pts in rows:
        h.update(f"{key}\x1f{title}\x1f{len(desc or '')}\x1f{pts}\x1e".encode())
    return h.hexdigest()[:16]


Predicted = tuple[float, float, float, list[tuple[int, float]]]


class Learner:
    """A fitted model over a history's texts and points."""

    points: Any  # numpy array
    median: float
    vectorizer: Any
    matrix: Any

    def __init__(self, choice: Choice, texts: list[str], points: list[float], like: Learner | None = None) -> None:
        """Fit on the history; `like` (a learner of the same history) lends its vectorised texts."""
        import numpy as np

        self.choice = choice
        self.np = np
        if like is not None:
            self.points, self.median = like.points, like.median
            self.vectorizer, self.matrix = like.vectorizer, like.matrix
        else:
            from sklearn.feature_extraction.text import TfidfVectorizer

            self.points = np.array(points, dtype=float)
            self.median = float(np.median(self.points))
            min_df = 2 if len(texts) >= 50 else 1
            self.vectorizer = TfidfVectorizer(sublinear_tf=True, min_df=min_df, ngram_range=(1, 2))
            self.matrix = self.vectorizer.fit_transform(texts)
        self.linear: Any = None
        if choice.method == "linear":
            from sklearn.svm import LinearSVR

            self.linear = LinearSVR(epsilon=0.0, C=0.1, max_iter=5000, dual=True, random_state=0)
            self.linear.fit(self.matrix, self.points - self.median)

    def predict(
        self, texts: list[str], neighbours: int = 3, query: Any = None
    ) -> list[tuple[float, float, float, list[tuple[int, float]]]]:
        """(points, low, high, [(history index, similarity)]) for each text (`query`: the texts already
        vectorised by this learner's vectorizer)."""
        np = self.np
        query = self.vectorizer.transform(texts) if query is None else query
        sims = (query @ self.matrix.T).toarray()
        k = self.choice.k or 40
        order = np.argsort(-sims, axis=1)
        out = []
        linear = self.linear.predict(query) + self.median if self.linear is not None else None
        for i in range(len(texts)):
            near = order[i, :k]
            near_points = self.points[near]
            if self.choice.method == "knn" and sims[i, near[0]] > 0:
                value = float(np.median(near_points))
            elif linear is not None:
                value = float(max(0.0, linear[i]))
            else:
                value = self.median
            low, high = (
                float(x) for x in np.percentile(near_points if sims[i, near[0]] > 0 else self.points, [25, 75])
            )
            shown = [(int(j), float(sims[i, j])) for j in order[i, :neighbours] if sims[i, j] > 0]
            out.append((value, min(low, value), max(high, value), shown))
        return out


def choose(rows: list[tuple[str, str, str | None, float]]) -> Choice:
    """The method with the least mean absolute error over time-ordered folds (fitted on everything before
    each fold, tested on it), kept only when it beats the team's median in every fold by the guard: a
    method that helps in one quarter and hurts in the next is not kept."""
    import numpy as np

    texts = [_text(t, d) for _, t, d, _ in rows]
    points = [p for *_, p in rows]
    folds = _folds(len(rows))
    median_maes = []
    for cut, end in folds:
        truth = np.array(points[cut:end])
        median_maes.append(float(np.mean(np.abs(truth - np.median(points[:cut])))))
    median_mae = float(np.mean(median_maes))
    best = Choice("median", held_out_mae=median_mae, median_mae=median_mae)
    trials = [Choice("knn", k) for k in KS] + [Choice("linear", 40)]
    maes: dict[int, list[float]] = {i: [] for i in range(len(trials))}  # only trials never worse than the median
    for (cut, end), baseline in zip(folds, median_maes, strict=True):
        truth = np.array(points[cut:end])
        fitted = Learner(Choice("median"), texts[:cut], points[:cut])  # the texts vectorised once per fold
        query = fitted.vectorizer.transform(texts[cut:end])
        for i in list(maes):
            learner = Learner(trials[i], texts[:cut], points[:cut], like=fitted)
            pred = np.array([p for p, *_ in learner.predict(texts[cut:end], query=query)])
            mae = float(np.mean(np.abs(truth - pred)))
            if mae <= GUARD * baseline:
                maes[i].append(mae)
            else:  # worse than the median in this fold: not kept, whatever the others say
                del maes[i]
    for i, found in maes.items():
        mae = float(np.mean(found))
        if best.held_out_mae is None or mae < best.held_out_mae:
            best = Choice(trials[i].method, trials[i].k, mae, median_mae)
    best.tasks = len(rows)
    best.digest = _digest(rows)
    return best


def _folds(n: int) -> list[tuple[int, int]]:
    """(cut, end) of each held-out fold: the history's last half in FOLDS time-ordered slices, each tested
    after learning from everything before it (a short history gets fewer, never one under 5 tasks)."""
    parts = FOLDS if n >= FOLDS * 20 else 1
    start = n // 2 if parts > 1 else (n * 3) // 4
    bounds = [start + (n - start) * i // parts for i in range(parts + 1)]
    return [(a, b) for a, b in itertools.pairwise(bounds) if b - a >= 5] or [((n * 3) // 4, n)]


def can_learn() -> bool:
    """Whether the `suggest` extra (scikit-learn, with NumPy and SciPy: ~270 MB) is installed."""
    try:
        import sklearn  # noqa: F401
    except ImportError:
        return False
    return True


def learned(db: Database, cfg: Config) -> tuple[Learner | None, Choice, list[tuple[str, str, str | None, float]]]:
    """The team's learner (None below MIN_HISTORY finished tasks), chosen again only when the history changed."""
    rows = history(db, cfg)
    if len(rows) < MIN_HISTORY:
        return None, Choice("median", tasks=len(rows)), rows
    if not can_learn():
        raise ConfigError(
            "task suggest learns from the team's history with scikit-learn, which is not installed",
            "install the extra: pip install 'teamops[suggest]'",
        )
    digest = _digest(rows)
    stored = stored_choice(db, digest)
    choice = Choice(*stored) if stored else choose(rows)
    if stored is None:
        save_choice(db, (choice.method, choice.k, choice.held_out_mae, choice.median_mae, choice.tasks, choice.digest))
    return Learner(choice, [_text(t, d) for _, t, d, _ in rows], [p for *_, p in rows]), choice, rows


def open_unpointed(db: Reader, cfg: Config, keys: list[str]) -> list[tuple[str, str, str | None]]:
    """The tasks to suggest for: those named (by key or #id), else every open task without points."""
    if keys:
        out = []
        for ref in keys:
            row = db.execute(
                "SELECT key, title, description FROM tasks WHERE key = ? OR id = ? OR key = ?",
                [ref, ref.lstrip("#") if ref.lstrip("#").isdigit() else -1, f"T-{ref.lstrip('#')}"],
            ).fetchone()
            if row is None:
                raise InvalidInput(f"no task {ref!r}", "see `teamops task list`")
            out.append((str(row[0]), str(row[1]), row[2]))
        return out
    done = cfg.tasks.done_statuses
    rows = db.execute(
        f"SELECT key, title, description FROM tasks WHERE points IS NULL AND removed_at IS NULL "
        f"AND status NOT IN ({','.join('?' * len(done))}) ORDER BY id",
        done,
    ).fetchall()
    return [(str(k), str(t), d) for k, t, d in rows]


def suggest(db: Database, cfg: Config, keys: list[str]) -> tuple[list[Suggestion], Choice]:
    """Points for the tasks named (or every open one without points), with the three most similar finished tasks."""
    todo = open_unpointed(db, cfg, keys)
    learner, choice, rows = learned(db, cfg)
    if learner is None:
        if not rows:
            return [], choice
        import statistics

        pts = sorted(p for *_, p in rows)
        med = float(statistics.median(pts))
        quart = statistics.quantiles(pts, n=4) if len(pts) > 1 else [med, med, med]
        return [Suggestion(k, t, med, min(quart[0], med), max(quart[2], med), "median") for k, t, _ in todo], choice
    out = []
    for (key, title, _), (value, low, high, near) in zip(
        todo, learner.predict([_text(t, d) for _, t, d in todo]), strict=True
    ):
        similar = [Similar(rows[j][0], rows[j][1], rows[j][3], round(s, 3)) for j, s in near]
        out.append(Suggestion(key, title, round(value, 1), round(low, 1), round(high, 1), choice.method, similar))
    # what was suggested, for `kpi estimates` to hold against the points given later
    said = [(s.key, choice.digest, s.points, None, 0, 0, 0.0) for s in out]
    save_suggestions(db, f"history:{choice.method}", "h1", said)
    return out, choice


def as_json(s: Suggestion) -> dict[str, Any]:
    return {**{k: v for k, v in vars(s).items() if k != "similar"}, "similar": [vars(x) for x in s.similar]}


def describe(choice: Choice) -> str:
    """How the suggestions were made, in one line."""
    if choice.tasks < MIN_HISTORY:
        return (
            f"only {choice.tasks} finished tasks with points (a model needs {MIN_HISTORY}): "
            "the suggestion is the team's median"
        )
    held = f"{choice.held_out_mae:.2f}" if choice.held_out_mae is not None else "n/a"
    med = f"{choice.median_mae:.2f}" if choice.median_mae is not None else "n/a"
    how = {
        "median": "the team's median",
        "knn": f"the median of the {choice.k} most similar",
        "linear": "a linear model",
    }
    return (
        f"learned from {choice.tasks:,} finished tasks: {how[choice.method]} "
        f"(error on the newest quarter held out {held} points; the median's {med})"
    )
