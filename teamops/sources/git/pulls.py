"""Pull requests a clone's history names: merge commits and squash subjects, marked inferred (a service's own
record of the same pull request always wins over one of these)."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import TYPE_CHECKING

from teamops.delivery.commit_graph import CommitGraph
from teamops.records import PullRecord
from teamops.store.database import transaction
from teamops.store.pulls import known_numbers, save_pulls_in
from teamops.store.sync_state import load_state, save_state
from teamops.sync.pulls import PullSync

if TYPE_CHECKING:
    from sqlite_utils import Database

MERGE_SUBJECT = re.compile(r"^Merge pull request #(\d+) from (\S+)")
SQUASH_SUBJECT = re.compile(r"^(.*\S)\s*\(#(\d+)\)$")  # "Subject (#12)", also "Subject(#12)"
PULL_REF = re.compile(r"\bpull/(\d+)(?:/(?:head|merge))?\b")  # "Merge branch 'pull/12/head'", "origin/pull/12"
PLAIN_MERGE = re.compile(r"^Merge (?:branch|remote-tracking branch|commit|tag|\S+ of )|^Merge https?://")
MENTION = re.compile(r"(?<![\w/])#(\d+)\b")
BRANCH_LIMIT = 500  # commits kept per inferred pull request
INFER_BATCH = 2000  # commits read, and pull requests written, at a time


def inferred_number(subject: str, body: str, is_merge: bool) -> tuple[int, str, str | None] | None:
    """(number, title, head branch) a commit's message names as its pull request, or None.

    GitHub's merge subject, a squash subject `Title (#N)` (on a merge too, when its title was edited),
    a merge of a `pull/N` ref, or a merge with its own subject whose body names one `#N`.
    """
    if is_merge and (merged := MERGE_SUBJECT.match(subject)):
        return int(merged.group(1)), body.strip().split("\n", 1)[0] or subject, merged.group(2).split("/", 1)[-1]
    if squashed := SQUASH_SUBJECT.match(subject):
        return int(squashed.group(2)), squashed.group(1), None
    if not is_merge:
        return None
    if ref := PULL_REF.search(subject):
        return int(ref.group(1)), subject, f"pull/{ref.group(1)}"
    named = set(MENTION.findall(body))
    if len(named) == 1 and not PLAIN_MERGE.match(subject):
        return int(named.pop()), subject, None
    return None


def infer_pulls(db: Database, repo_id: int, graph: Callable[[], CommitGraph] | None = None) -> PullSync | None:
    """Pull requests a clone's history names (see `inferred_number`), marked inferred (GitHub's own record
    always wins). Only commits stored since the last pass are read; the graph (the sync's own, when it
    passes one) is read once, and only when a merge needs it."""
    state = load_state(db, f"pulls-inferred:{repo_id}")
    top = db.execute("SELECT COALESCE(MAX(id), 0) FROM commits WHERE repo_id = ?", [repo_id]).fetchone()[0]
    if state.cursor == str(top):
        return None
    since = int(state.cursor or 0)
    found = db.execute(
        "SELECT sha, message, committed_at, is_merge FROM commits WHERE repo_id = ? AND id > ? "
        "AND (is_merge = 1 OR message LIKE '%(#%)%') ORDER BY committed_at",
        [repo_id, since],
    )
    known = known_numbers(db, repo_id)
    graph = graph or functools.cache(lambda: CommitGraph.stored(db, repo_id))
    inferred = 0
    while rows := found.fetchmany(INFER_BATCH):  # a batch at a time: memory stays flat however long the history
        pulls: dict[int, PullRecord] = {}
        for sha, message, at, is_merge in rows:
            subject, _, body = str(message).partition("\n")
            named = inferred_number(subject, body, bool(is_merge))
            if named is None or named[0] in known or named[0] in pulls:
                continue
            number, title, head = named
            commits = graph().brought_by(sha, BRANCH_LIMIT) if is_merge else [sha]
            pulls[number] = PullRecord(
                source="git",
                number=number,
                title=title,
                author=None,
                author_kind="user",
                state="merged",
                draft=False,
                created_at=None,
                merged_at=at,
                closed_at=at,
                head_branch=head,
                merge_commit_sha=sha,
                commits=commits,
                inferred=True,
            )
        if pulls:
            with transaction(db):
                save_pulls_in(db, repo_id, list(pulls.values()))
            known.update(pulls)
            inferred += len(pulls)
    with transaction(db):
        state.cursor, state.status = str(top), "complete"
        save_state(db, state)
    return PullSync(inferred=inferred) if inferred else None
