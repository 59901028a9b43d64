"""Which commits and pull requests an assistant co-wrote, from what it left: trailers, authors, footers, labels.

Run after every `sync-commits` (and `merge`): commits not looked at yet, in id order (the first run reads the
whole stored history), then every pull request again (its labels and commits may have changed). Linear in
commits: one pass, no query per commit. A change of the markers (a new teamops, `[ai_assist]`) reads the
history again.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from teamops.assists.markers import (
    AUTHORS,
    BODIES,
    BODY,
    BUILTIN,
    CONFIG,
    LABEL,
    OTHER_TRAILERS,
    PULL_AUTHORS,
    TRAILERS,
    Marker,
)

if TYPE_CHECKING:
    from sqlite_utils import Database

    from teamops.config import Config

CO_AUTHOR = re.compile(r"^\s*co-authored-by:\s*(.+?)\s*$", re.IGNORECASE | re.MULTILINE)
LINE = re.compile(r"^\s*([A-Za-z][A-Za-z-]*:.*?)\s*$", re.MULTILINE)
TEXT_MAX = 20_000  # of a message: marks sit at its start or its end
BATCH = 5_000
# Every built-in mark holds one of these words: a commit with none of them (most of a history) is passed by one
# search, not by each mark's.
HINTS = (
    "co-authored-by",
    "generated with",
    "made-with",
    "claude-session",
    "amp-thread",
    "aider",
    "[bot]",
    "cursoragent",
    "openhands",
    "agent@replit",
    "+copilot@",
)
HINT = re.compile("|".join(re.escape(h) for h in HINTS), re.IGNORECASE)


@dataclass(frozen=True)
class Found:
    """One assistant recognised on a commit or a pull request, how, and the text that showed it."""

    assistant: str
    how: str
    evidence: str


def config_markers(cfg: Config) -> list[Marker]:
    """`[ai_assist] patterns`: an assistant → a regular expression over a commit's message and author."""
    return [Marker(name, CONFIG, re.compile(rx), "[ai_assist] patterns") for name, rx in cfg.ai_assist.patterns.items()]


def commit_assists(message: str, author: str, extra: list[Marker] | None = None) -> list[Found]:
    """The assistants a commit shows: `author` is `Name <email>` (and the login, when known, first)."""
    text = message[:TEXT_MAX] + ("\n" + message[-TEXT_MAX:] if len(message) > TEXT_MAX else "")
    if not extra and not HINT.search(text) and not HINT.search(author):
        return []
    found: dict[tuple[str, str], str] = {}

    def add(marker: Marker, evidence: str) -> None:
        found.setdefault((marker.assistant, marker.how), evidence.strip()[:200])

    for value in CO_AUTHOR.findall(text):
        for marker in TRAILERS:
            if marker.pattern.search(value):
                add(marker, f"Co-authored-by: {value}")
    for line in LINE.findall(text):
        for marker in OTHER_TRAILERS:
            if marker.pattern.search(line):
                add(marker, line)
    for marker in AUTHORS:
        if marker.pattern.search(author):
            add(marker, author)
    for marker in BODIES:
        if hit := marker.pattern.search(text):
            add(marker, hit.group(0))
    for marker in extra or []:
        if hit := marker.pattern.search(text) or marker.pattern.search(author):
            add(marker, hit.group(0))
    return [Found(a, how, ev) for (a, how), ev in found.items()]


def body_marks(text: object) -> list[list[str]] | None:
    """[assistant, evidence] of the marks in a pull request's description (its footer, a co-author line), found
    when it is synced; None when it has no description."""
    if not isinstance(text, str) or not text:
        return None
    return [[f.assistant, f.evidence] for f in commit_assists(text[:TEXT_MAX], "")]


def pull_assists(
    login: str | None, kind: str | None, labels: list[str], cfg: Config, marks: list[list[str]] | None = None
) -> list[Found]:
    """The assistants a pull request shows by itself: an assistant's app as its author, a label naming one, the
    marks its description holds."""
    found = [Found(str(m[0]), BODY, str(m[1])[:200]) for m in marks or [] if isinstance(m, list) and len(m) == 2]
    if login and kind == "bot":
        found += [Found(m.assistant, m.how, login) for m in PULL_AUTHORS if m.pattern.search(login)][:1]
    wanted = {k.lower(): v for k, v in cfg.ai_assist.labels.items()}
    found += [Found(wanted[name.lower()], LABEL, name) for name in labels if name.lower() in wanted]
    return found


def fingerprint(cfg: Config) -> str:
    """What the markers are: when it changes, the history is read again."""
    spec = {
        "builtin": [(m.assistant, m.how, m.pattern.pattern) for m in BUILTIN],
        "patterns": sorted(cfg.ai_assist.patterns.items()),
        "labels": sorted(cfg.ai_assist.labels.items()),
    }
    return hashlib.sha256(json.dumps(spec).encode()).hexdigest()[:16]


def detect(db: Database, cfg: Config) -> int:
    """Assists of the commits not looked at yet, and of every pull request when any changed since; the commits
    newly found assisted."""
    from teamops.store import assists as store
    from teamops.store.commits import forget_assisted, save_assisted
    from teamops.store.database import transaction
    from teamops.store.sync_state import load_state, save_state

    state = load_state(db, store.STATE)
    print_ = fingerprint(cfg)
    extra = config_markers(cfg)
    same_marks = state.details.get("markers") == print_
    after = int(state.cursor or 0) if same_marks else 0
    last = store.last_commit_id(db)
    pulls_now = store.pulls_signature(db)
    if same_marks and after >= last and state.details.get("pulls") == pulls_now:
        return 0  # no new commit, no pull request changed: nothing to read, nothing to write
    found = 0
    with transaction(db):
        if after == 0:
            store.forget_commits(db)
            forget_assisted(db)
        for batch in store.commits_after(db, after, BATCH, () if extra else HINTS):
            rows = []
            for _, repo_id, sha, message, name, email, login in batch:
                author = f"{login + ' ' if login else ''}{name or ''} <{email or ''}>"
                rows += [(repo_id, sha, f) for f in commit_assists(message or "", author, extra)]
            found += store.save_commit_assists(db, rows)
            save_assisted(db, sorted({(repo_id, sha) for repo_id, sha, _ in rows}))
        after = max(after, last)
        if not same_marks or state.details.get("pulls") != pulls_now:  # labels, descriptions, authors: all again
            pulls = [
                (r, n, f)
                for r, n, login, kind, labels, marks in store.pulls(db)
                for f in pull_assists(login, kind, labels, cfg, marks)
            ]
            store.save_pull_assists(db, pulls)
        state.cursor = str(after)
        state.details = {"markers": print_, "pulls": pulls_now}
        state.status = "complete"
        save_state(db, state)
    return found
