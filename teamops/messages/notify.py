"""The outbox: messages queued once under an idempotency key, delivered at most once when marked sent."""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from teamops.clients import secret as secret_of
from teamops.clock import iso_after, now_iso
from teamops.config import Config, NotifyConfig
from teamops.errors import ConfigError
from teamops.integrations import webhooks
from teamops.integrations.http import RetryPolicy
from teamops.integrations.webhooks import render
from teamops.messages.message import Message
from teamops.store.database import transaction
from teamops.store.outbox import Claims, pending, save_error, save_message

if TYPE_CHECKING:
    from sqlite_utils import Database


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
    url = ch.url or secret_of(ch.url_env) or ""
    if not url:
        raise ConfigError(f"${ch.url_env} is not set: channel {name!r} has no URL")
    secret = secret_of(ch.secret_env) if ch.secret_env else None
    if ch.secret_env and not secret:
        raise ConfigError(f"${ch.secret_env} is not set: channel {name!r} signs its messages")
    return Channel(name, ch.kind, url, secret)


def queue(db: Database, notify: NotifyConfig, msg: Message, channels: list[str] | None = None) -> list[int]:
    """Write a message for each routed channel before any delivery; the same key twice is a no-op."""
    targets = channels if channels is not None else notify.routes.get(msg.kind, [])
    with transaction(db):
        return save_message(db, msg, targets)


@dataclass
class SendResult:
    """What one delivery pass did."""

    sent: int = 0
    failed: int = 0
    deferred: int = 0
    skipped: int = 0  # held by another sender running at the same time
    previews: list[dict[str, Any]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


@dataclass
class _Sender:
    """Posts one claimed message until it is sent, failed for good, or deferred past the lease."""

    db: Database
    notify: NotifyConfig
    claims: Claims
    policy: RetryPolicy
    send: Callable[..., Any]
    sleep: Callable[[float], None]
    longest_wait: float
    result: SendResult
    last_post: dict[str, float] = field(default_factory=dict)

    def deliver(self, row_id: int, channel_name: str, channel: Channel, body: Any, key: str) -> None:
        claims, result = self.claims, self.result
        while True:
            since_last = time.monotonic() - self.last_post.get(channel_name, -1e9)
            pace = PACING_S.get(channel.kind, 0.0) - since_last
            if pace > 0:
                self.sleep(pace)
            # Counted and renewed before the POST: a crash after it repeats at most this one.
            attempts = claims.attempt(row_id)
            if attempts is None:
                return
            outcome = self.send(
                channel.kind, channel.url, body, key, secret=channel.secret, timeout_s=self.notify.timeout_s
            )
            self.last_post[channel_name] = time.monotonic()
            if outcome.ok:
                claims.finish(row_id, "sent", None)
                result.sent += 1
                return
            if outcome.permanent or attempts >= self.notify.max_attempts:
                claims.finish(row_id, "failed", outcome.error)
                result.failed += 1
                result.errors.append(f"#{row_id} {channel_name}: {outcome.error}")
                return
            wait = outcome.retry_after if outcome.retry_after is not None else self.policy.backoff(attempts)
            if wait > self.longest_wait:
                claims.finish(row_id, "pending", outcome.error, iso_after(wait))
                result.deferred += 1
                return
            save_error(self.db, row_id, outcome.error)
            claims.renew(row_id)
            self.policy.wait(wait, key, outcome.error)


def send_pending(
    db: Database,
    cfg: Config,
    *,
    only_ids: list[int] | None = None,
    dry_run: bool = False,
    sleep: Callable[[float], None] = time.sleep,
    post: Callable[..., Any] | None = None,
    clock: Callable[[], float] = time.time,
    jitter: Callable[[], float] = random.random,
) -> SendResult:
    """Deliver pending messages in order, each at most once however many senders run at once.

    A message is claimed in one UPDATE before its POST; another sender skips it while the claim's
    lease lasts. Retries with backoff, Retry-After honoured, 4xx final. A sender killed after a POST
    and before recording it leaves a claim that expires: that one message is sent again, under the
    same Idempotency-Key, so receivers can drop the repeat.
    """

    send = post or webhooks.post
    notify = cfg.notify
    result = SendResult()
    if only_ids is not None and not only_ids:
        return result
    rows = pending(db, only_ids, now_iso())
    channels: dict[str, Channel] = {}
    claims = Claims(db, notify.lease_s, clock)
    longest_wait = min(LONGEST_INLINE_WAIT_S, notify.lease_s - notify.timeout_s - 1)
    policy = RetryPolicy("notify", attempts=notify.max_attempts, max_wait_s=longest_wait, sleep=sleep, jitter=jitter)
    sender = _Sender(db, notify, claims, policy, send, sleep, longest_wait, result)
    try:
        for row_id, kind, key, channel_name, payload in rows:
            msg = Message.from_json(json.loads(payload))
            if channel_name not in notify.channels:
                if not dry_run and claims.take(row_id):
                    claims.finish(row_id, "failed", f"channel {channel_name!r} is no longer configured")
                    result.failed += 1
                continue
            if dry_run:  # a preview needs the channel's kind, not its URL or secret
                channel = Channel(channel_name, notify.channels[channel_name].kind, "")
            else:
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
            sender.deliver(row_id, channel_name, channel, body, key)
    finally:
        claims.release_all()
    return result


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
