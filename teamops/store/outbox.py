"""The outbox table, written only here: messages queued under a key, claimed before delivery."""

from __future__ import annotations

import json
import os
import socket
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from teamops.clock import now_iso
from teamops.messages.message import Message
from teamops.store.database import transaction
from teamops.store.filters import Where

if TYPE_CHECKING:
    from sqlite_utils import Database

    from teamops.store.reader import Reader


def save_message(db: Database, msg: Message, channels: list[str]) -> list[int]:
    """The outbox rows of one message, inside the caller's transaction; the same key twice is a no-op.

    Returns the ids of the rows that are new.
    """
    msg.created_at = msg.created_at or now_iso()
    payload = json.dumps(msg.to_json(), ensure_ascii=False, sort_keys=True)
    ids: list[int] = []
    for name in channels:
        cur = db.execute(
            "INSERT INTO outbox (kind, idempotency_key, channel, payload, created_at) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT (idempotency_key, channel) DO NOTHING",
            [msg.kind, msg.key, name, payload, msg.created_at],
        )
        if cur.rowcount:
            ids.append(int(cur.lastrowid or 0))
    return ids


def pending(db: Reader, only_ids: list[int] | None, due_by: str) -> list[tuple[int, str, str, str, str]]:
    """(id, kind, key, channel, payload) of pending messages: these ids, or all due by a moment."""
    where = Where("status = 'pending'")
    if only_ids is not None:
        where.within("id", only_ids)
    else:
        where.add("(next_attempt_at IS NULL OR next_attempt_at <= ?)", due_by)
    return db.execute(
        f"SELECT id, kind, idempotency_key, channel, payload FROM outbox WHERE {where.sql} ORDER BY id", where.params
    ).fetchall()


def save_error(db: Database, row_id: int, error: str) -> None:
    with transaction(db):
        db.execute("UPDATE outbox SET last_error = ? WHERE id = ?", [error, row_id])


class Claims:
    """The messages one delivery pass holds: claimed in one UPDATE each, renewed on every attempt.

    Leases follow the wall clock (`clock`), never a pinned TEAMOPS_NOW.
    """

    def __init__(self, db: Database, lease_s: float, clock: Callable[[], float]) -> None:
        self.db, self.lease_s, self.clock = db, lease_s, clock
        self.me = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.held: set[int] = set()

    def take(self, row_id: int) -> bool:
        """The message is ours until the lease ends, unless another sender holds a live claim on it."""
        now = self.clock()
        with transaction(self.db):
            cur = self.db.execute(
                "UPDATE outbox SET claimed_by = ?, claimed_until = ? WHERE id = ? AND status = 'pending' "
                "AND (claimed_until IS NULL OR claimed_until < ?)",
                [self.me, now + self.lease_s, row_id, now],
            )
        if cur.rowcount:
            self.held.add(row_id)
        return bool(cur.rowcount)

    def attempt(self, row_id: int) -> int | None:
        """Count an attempt and renew the lease, before the POST; None when the claim was lost."""
        with transaction(self.db):
            cur = self.db.execute(
                "UPDATE outbox SET attempts = attempts + 1, claimed_until = ? WHERE id = ? AND claimed_by = ? "
                "AND status = 'pending'",
                [self.clock() + self.lease_s, row_id, self.me],
            )
            row = self.db.execute("SELECT attempts FROM outbox WHERE id = ?", [row_id]).fetchone()
        return int(row[0]) if cur.rowcount else None

    def renew(self, row_id: int) -> None:
        with transaction(self.db):
            self.db.execute(
                "UPDATE outbox SET claimed_until = ? WHERE id = ? AND claimed_by = ?",
                [self.clock() + self.lease_s, row_id, self.me],
            )

    def finish(self, row_id: int, status: str, error: str | None, next_attempt_at: str | None = None) -> None:
        """Record the outcome and give the claim up."""
        with transaction(self.db):
            self.db.execute(
                "UPDATE outbox SET status = ?, claimed_by = NULL, claimed_until = NULL, "
                "next_attempt_at = COALESCE(?, next_attempt_at), last_error = COALESCE(?, last_error), sent_at = ? "
                "WHERE id = ? AND claimed_by = ?",
                [status, next_attempt_at, error, now_iso() if status == "sent" else None, row_id, self.me],
            )
        self.held.discard(row_id)

    def release_all(self) -> None:
        """An interrupted pass hands its claims back at once, so the next run need not wait for the lease."""
        if not self.held:
            return
        with transaction(self.db):
            for row_id in self.held:
                self.db.execute(
                    "UPDATE outbox SET claimed_by = NULL, claimed_until = NULL WHERE id = ? AND claimed_by = ?",
                    [row_id, self.me],
                )
        self.held.clear()


def _where(status: str | None, kind: str | None) -> Where:
    return Where().add("status = ?", status, when=status).add("kind = ?", kind, when=kind)


def count_messages(db: Reader, status: str | None = None, kind: str | None = None) -> int:
    where = _where(status, kind)
    return int(db.execute(f"SELECT COUNT(*) FROM outbox WHERE {where.sql}", where.params).fetchone()[0])


def messages(db: Reader, status: str | None = None, kind: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
    """The newest messages first (limit 0: all), for `notify list`."""
    where = _where(status, kind)
    rows = db.execute(
        "SELECT id, kind, idempotency_key, channel, status, attempts, created_at, sent_at, last_error, "
        f"payload FROM outbox WHERE {where.sql} ORDER BY id DESC LIMIT ?",
        [*where.params, limit or -1],
    ).fetchall()
    keys = ("id", "kind", "key", "channel", "status", "attempts", "created_at", "sent_at", "last_error")
    return [{**dict(zip(keys, r[:9], strict=True)), "title": json.loads(r[9]).get("title")} for r in rows]


def statuses_of(db: Reader, key: str) -> dict[str, str | None]:
    """status → sent_at of the rows queued under one key (one per channel)."""
    return {s: at for s, at in db.execute("SELECT status, sent_at FROM outbox WHERE idempotency_key = ?", [key])}
