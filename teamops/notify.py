"""The outbox: messages queued once under an idempotency key, delivered at most once when marked sent."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from teamops.config import Config, NotifyConfig
from teamops.errors import ConfigError
from teamops.integrations.webhooks import render
from teamops.messages import Message
from teamops.store.database import now_iso, transaction

if TYPE_CHECKING:
    from sqlite_utils import Database

    from teamops.store.reader import Reader

PACING_S = {"slack": 1.0, "discord": 0.5}  # Slack allows about one message a second per webhook
LONGEST_INLINE_WAIT_S = 60.0


@dataclass
class Channel:
    """A configured channel with its URL resolved from the environment (never stored or printed)."""

    name: str
    kind: str
    url: str = field(repr=False)
    secret: str | None = field(default=None, repr=False)


def resolve_channel(notify: NotifyConfig, name: str) -> Channel:
    if name not in notify.channels:
        raise ConfigError(f"no channel {name!r} in [notify.channels]", f"known: {', '.join(notify.channels) or 'none'}")
    ch = notify.channels[name]
    url = ch.url or os.environ.get(ch.url_env, "").strip()
    if not url:
        raise ConfigError(f"${ch.url_env} is not set: channel {name!r} has no URL")
    secret = os.environ.get(ch.secret_env) if ch.secret_env else None
    if ch.secret_env and not secret:
        raise ConfigError(f"${ch.secret_env} is not set: channel {name!r} signs its messages")
    return Channel(name, ch.kind, url, secret)


def queue(db: Database, notify: NotifyConfig, msg: Message, channels: list[str] | None = None) -> list[int]:
    """Write a message for each routed channel before any delivery; the same key twice is a no-op."""
    targets = channels if channels is not None else notify.routes.get(msg.kind, [])
    with transaction(db):
        return queue_rows(db, msg, targets)


def queue_rows(db: Database, msg: Message, channels: list[str]) -> list[int]:
    """The outbox rows of one message, inside the caller's transaction; returns the ids of new rows."""
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


@dataclass
class SendResult:
    """What one delivery pass did."""

    sent: int = 0
    failed: int = 0
    deferred: int = 0
    skipped: int = 0  # held by another sender running at the same time
    previews: list[dict[str, Any]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def sender_id() -> str:
    """Who claims a message: this host and process, and a nonce for this delivery pass."""
    import socket
    import uuid

    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class _Claims:
    """The messages one delivery pass holds: claimed in one UPDATE each, renewed on every attempt."""

    def __init__(self, db: Database, lease_s: float, clock: Callable[[], float]) -> None:
        self.db, self.lease_s, self.clock = db, lease_s, clock
        self.me = sender_id()
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

    def finish(self, row_id: int, status: str, error: str | None, extra: dict[str, Any] | None = None) -> None:
        """Record the outcome and give the claim up."""
        sets = {"status": status, "claimed_by": None, "claimed_until": None, **(extra or {})}
        with transaction(self.db):
            self.db.execute(
                f"UPDATE outbox SET {', '.join(f'{k} = ?' for k in sets)}, last_error = COALESCE(?, last_error), "
                "sent_at = ? WHERE id = ? AND claimed_by = ?",
                [*sets.values(), error, now_iso() if status == "sent" else None, row_id, self.me],
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


def send_pending(
    db: Database,
    cfg: Config,
    *,
    only_ids: list[int] | None = None,
    dry_run: bool = False,
    sleep: Callable[[float], None] = time.sleep,
    post: Callable[..., Any] | None = None,
    clock: Callable[[], float] = time.time,
) -> SendResult:
    """Deliver pending messages in order, each at most once however many senders run at once.

    A message is claimed in one UPDATE before its POST; another sender skips it while the claim's
    lease lasts. Retries with backoff, Retry-After honoured, 4xx final. A sender killed after a POST
    and before recording it leaves a claim that expires: that one message is sent again, under the
    same Idempotency-Key, so receivers can drop the repeat.
    """
    from teamops.integrations import webhooks

    send = post or webhooks.post
    notify = cfg.notify
    result = SendResult()
    sql = "SELECT id, kind, idempotency_key, channel, payload FROM outbox WHERE status = 'pending'"
    params: list[Any] = []
    if only_ids is not None:
        if not only_ids:
            return result
        sql += f" AND id IN ({','.join('?' * len(only_ids))})"
        params += only_ids
    else:
        sql += " AND (next_attempt_at IS NULL OR next_attempt_at <= ?)"
        params.append(now_iso())
    rows = db.execute(sql + " ORDER BY id", params).fetchall()
    channels: dict[str, Channel] = {}
    last_post: dict[str, float] = {}
    claims = _Claims(db, notify.lease_s, clock)
    longest_wait = min(LONGEST_INLINE_WAIT_S, notify.lease_s - notify.timeout_s - 1)
    try:
        for row_id, kind, key, channel_name, payload in rows:
            msg = Message.from_json(json.loads(payload))
            if channel_name not in notify.channels:
                if not dry_run and claims.take(row_id):
                    claims.finish(row_id, "failed", f"channel {channel_name!r} is no longer configured")
                    result.failed += 1
                continue
            channel = channels.get(channel_name) or resolve_channel(notify, channel_name)
            channels[channel_name] = channel
            body = render(channel.kind, msg)
            if dry_run:
                result.previews.append(
                    {
                        "id": row_id,
                        "kind": kind,
                        "key": key,
                        "channel": channel_name,
                        "channel_kind": channel.kind,
                        "payload": body,
                    }
                )
                continue
            if not claims.take(row_id):
                result.skipped += 1  # another sender holds it (or just delivered it)
                continue
            while True:
                pace = PACING_S.get(channel.kind, 0.0) - (time.monotonic() - last_post.get(channel_name, -1e9))
                if pace > 0:
                    sleep(pace)
                # Counted and renewed before the POST: a crash after it repeats at most this one.
                attempts = claims.attempt(row_id)
                if attempts is None:
                    break
                outcome = send(channel.kind, channel.url, body, key, secret=channel.secret, timeout_s=notify.timeout_s)
                last_post[channel_name] = time.monotonic()
                if outcome.ok:
                    claims.finish(row_id, "sent", None)
                    result.sent += 1
                    break
                if outcome.permanent or attempts >= notify.max_attempts:
                    claims.finish(row_id, "failed", outcome.error)
                    result.failed += 1
                    result.errors.append(f"#{row_id} {channel_name}: {outcome.error}")
                    break
                wait = outcome.retry_after if outcome.retry_after is not None else min(2.0 ** (attempts - 1), 30.0)
                if wait > longest_wait:
                    claims.finish(row_id, "pending", outcome.error, {"next_attempt_at": _later(wait)})
                    result.deferred += 1
                    break
                with transaction(db):
                    db.execute("UPDATE outbox SET last_error = ? WHERE id = ?", [outcome.error, row_id])
                claims.renew(row_id)
                sleep(wait)
    finally:
        claims.release_all()
    return result


def _later(seconds: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + seconds))


def count_outbox(db: Reader, status: str | None = None, kind: str | None = None) -> int:
    """How many messages `list_outbox` would show without a limit."""
    where, params = ["1 = 1"], []
    if status:
        where.append("status = ?")
        params.append(status)
    if kind:
        where.append("kind = ?")
        params.append(kind)
    return int(db.execute(f"SELECT COUNT(*) FROM outbox WHERE {' AND '.join(where)}", params).fetchone()[0])


def list_outbox(
    db: Reader, status: str | None = None, kind: str | None = None, limit: int = 50
) -> list[dict[str, Any]]:
    """The newest messages first, for `notify list` (limit 0: all)."""
    where, params = ["1 = 1"], []
    if status:
        where.append("status = ?")
        params.append(status)
    if kind:
        where.append("kind = ?")
        params.append(kind)
    rows = db.execute(
        "SELECT id, kind, idempotency_key, channel, status, attempts, created_at, sent_at, last_error, "
        f"payload FROM outbox WHERE {' AND '.join(where)} ORDER BY id DESC LIMIT ?",
        [*params, limit or -1],
    ).fetchall()
    return [
        {
            "id": r[0],
            "kind": r[1],
            "key": r[2],
            "channel": r[3],
            "status": r[4],
            "attempts": r[5],
            "created_at": r[6],
            "sent_at": r[7],
            "last_error": r[8],
            "title": json.loads(r[9]).get("title"),
        }
        for r in rows
    ]


def queue_and_deliver(
    db: Database, cfg: Config, messages: list[Message], *, send: bool = True
) -> tuple[list[int], SendResult]:
    """What other commands do: queue their messages, then deliver those (unless --no-send)."""
    ids: list[int] = []
    for msg in messages:
        ids += queue(db, cfg.notify, msg)
    if not send:
        return ids, SendResult()
    return ids, send_pending(db, cfg, only_ids=ids)
