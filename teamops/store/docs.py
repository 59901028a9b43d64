"""The docs table, written only here: every document written, and where it was published."""

from __future__ import annotations

from typing import TYPE_CHECKING

from teamops.clock import now_iso
from teamops.store.database import transaction

if TYPE_CHECKING:
    from sqlite_utils import Database

    from teamops.store.reader import Reader


def save_doc(
    db: Database,
    *,
    kind: str,
    title: str,
    since: str,
    until: str,
    repo: str | None,
    content: str,
    model: str,
    tokens_in: int,
    tokens_out: int,
    cost_usd: float,
) -> int:
    with transaction(db):
        cur = db.execute(
            "INSERT INTO docs (kind, title, range_since, range_until, repo, content, model, tokens_in, tokens_out, "
            "cost_usd, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [kind, title, since, until, repo, content, model, tokens_in, tokens_out, cost_usd, now_iso()],
        )
    return int(cur.lastrowid or 0)


def save_published(db: Database, row_id: int, doc_id: str, page_id: str, url: str) -> None:
    with transaction(db):
        db.execute(
            "UPDATE docs SET clickup_doc_id = ?, clickup_page_id = ?, url = ?, published_at = ? WHERE id = ?",
            [doc_id, page_id, url, now_iso(), row_id],
        )


def last_clickup_doc(db: Reader) -> str | None:
    """The ClickUp doc that holds the pages published last."""
    row = db.execute(
        "SELECT clickup_doc_id FROM docs WHERE clickup_doc_id IS NOT NULL ORDER BY id DESC LIMIT 1"
    ).fetchone()
    return row[0] if row else None


def page_of(db: Reader, title: str, doc_id: str) -> str | None:
    """The page a title was published to in a doc, to update it in place."""
    row = db.execute(
        "SELECT clickup_page_id FROM docs WHERE title = ? AND clickup_doc_id = ? AND clickup_page_id IS NOT NULL "
        "ORDER BY id DESC LIMIT 1",
        [title, doc_id],
    ).fetchone()
    return row[0] if row else None
