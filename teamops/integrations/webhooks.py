"""Render a message for Make.com, Slack, Discord or a generic webhook, and POST it once."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from teamops.integrations.formatting import discord_escape, discord_markdown, safe_url, slack_escape, slack_mrkdwn
from teamops.messages.message import Message

if TYPE_CHECKING:
    import httpx

SLACK_PERMANENT = {
    "invalid_payload",
    "invalid_token",
    "no_service",
    "no_service_id",
    "no_team",
    "team_disabled",
    "channel_not_found",
    "channel_is_archived",
    "action_prohibited",
    "posting_to_general_channel_denied",
    "no_active_hooks",
    "invalid_blocks",
    "invalid_blocks_format",
    "too_many_attachments",
    "user_not_found",
}
DISCORD_COLORS = {"info": 0x3B82F6, "warning": 0xF59E0B, "critical": 0xDC2626, "ok": 0x16A34A}


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def render(kind: str, msg: Message) -> dict[str, Any]:
    """The JSON body for a channel kind, within that service's documented limits and text rules."""
    if kind == "slack":
        return _slack(msg)
    if kind == "discord":
        return _discord(msg)
    if kind == "make":
        return {
            "kind": msg.kind,
            "key": msg.key,
            "title": msg.title,
            "text": msg.text,
            "url": msg.url,
            "severity": msg.severity,
            "people": msg.people,
            "created_at": msg.created_at,
            **{"fields": msg.fields},
        }
    return {
        "version": 1,
        "id": msg.key,
        "kind": msg.kind,
        "created_at": msg.created_at,
        "message": {
            "title": msg.title,
            "text": msg.text,
            "fields": msg.fields,
            "url": msg.url,
            "people": msg.people,
            "severity": msg.severity,
        },
    }


def _slack(msg: Message) -> dict[str, Any]:
    """Blocks and the fallback text, with every value from data escaped (Slack decodes the entities)."""
    title, body = slack_escape(msg.title), slack_mrkdwn(msg.spans)
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": _cut(title, 150), "emoji": True}},
        {"type": "section", "text": {"type": "mrkdwn", "text": _cut(body, 3000)}},
    ]
    if msg.fields:
        fields = [
            {"type": "mrkdwn", "text": _cut(f"*{slack_escape(k)}*\n{slack_escape(v)}", 2000)}
            for k, v in list(msg.fields.items())[:10]
        ]
        blocks.append({"type": "section", "fields": fields})
    url = safe_url(msg.url)
    if url and len(url) <= 3000:
        button = {"type": "button", "text": {"type": "plain_text", "text": "Open"}, "url": url}
        blocks.append({"type": "actions", "elements": [button]})
    kind = slack_escape(msg.kind)
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": f"teamops · {kind}"}]})
    return {"text": _cut(f"{title}: {body}", 4000), "blocks": blocks}


def _discord(msg: Message) -> dict[str, Any]:
    """One embed; data escaped so it never formats, links or mentions, and mentions disabled outright."""
    embed: dict[str, Any] = {
        "title": _cut(discord_escape(msg.title), 256),
        "description": _cut(discord_markdown(msg.spans), 4096),
        "color": DISCORD_COLORS.get(msg.severity, DISCORD_COLORS["info"]),
        "fields": [
            {"name": _cut(discord_escape(k), 256), "value": _cut(discord_escape(v) or "-", 1024), "inline": len(v) < 40}
            for k, v in list(msg.fields.items())[:25]
        ],
        "footer": {"text": f"teamops · {msg.kind}"},
    }
    if url := safe_url(msg.url):
        embed["url"] = url
    _fit_embed(embed)
    return {"content": _cut(discord_escape(msg.title), 2000), "embeds": [embed], "allowed_mentions": {"parse": []}}


def _fit_embed(embed: dict[str, Any]) -> None:
    """Discord refuses embeds over 6,000 characters in all: drop fields, then shorten the text."""

    def size() -> int:
        return (
            len(embed["title"])
            + len(embed["description"])
            + len(embed["footer"]["text"])
            + sum(len(f["name"]) + len(f["value"]) for f in embed["fields"])
        )

    while size() > 6000 and embed["fields"]:
        embed["fields"].pop()
    if size() > 6000:
        embed["description"] = _cut(embed["description"], max(1, len(embed["description"]) - (size() - 6000)))


@dataclass
class Delivery:
    """How one POST went: sent, or failed permanently, or worth retrying (maybe after a wait)."""

    ok: bool
    permanent: bool = False
    retry_after: float | None = None
    error: str = ""


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def post(
    kind: str,
    url: str,
    payload: dict[str, Any],
    key: str,
    *,
    secret: str | None = None,
    timeout_s: float = 10,
    client: httpx.Client | None = None,
) -> Delivery:
    """POST once; errors are described without the URL or the secret."""
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    headers = {"Content-Type": "application/json", "User-Agent": "teamops", "Idempotency-Key": key}
    if kind == "webhook":
        headers["X-Teamops-Event"] = payload.get("kind", "")
        if secret:
            headers["X-Teamops-Signature-256"] = signature(secret, body)
    import httpx

    try:
        if client is not None:
            response = client.post(url, content=body, headers=headers, timeout=timeout_s)
        else:
            response = httpx.post(url, content=body, headers=headers, timeout=timeout_s)
    except httpx.TimeoutException:
        return Delivery(False, error=f"no answer within {timeout_s:g} s")
    except httpx.HTTPError as exc:
        return Delivery(False, error=f"network error ({type(exc).__name__})")
    return classify_response(kind, response.status_code, response.headers, response.text)


def classify_response(kind: str, status: int, headers: Any, text: str) -> Delivery:
    """Each service's way of saying sent, slow down, try later, or never."""
    snippet = " ".join(text.split())[:120]
    if 200 <= status < 300:
        if kind == "slack" and text.strip() not in ("", "ok"):
            return Delivery(False, permanent=True, error=f"Slack answered {snippet!r}")
        return Delivery(True)
    if status == 429:
        wait = _float(headers.get("retry-after"))
        if kind == "discord":
            with contextlib.suppress(ValueError, AttributeError, TypeError):
                wait = float(json.loads(text).get("retry_after", wait or 1.0))
        return Delivery(False, retry_after=wait if wait is not None else 1.0, error="429 rate limited")
    if status >= 500 or status == 408:
        return Delivery(False, error=f"HTTP {status} {snippet}".strip())
    if kind == "slack" and (text.strip() in SLACK_PERMANENT or status in (400, 403, 404, 410)):
        return Delivery(False, permanent=True, error=f"Slack refused: HTTP {status} {snippet}".strip())
    if kind == "discord" and status == 404:
        return Delivery(False, permanent=True, error="Discord: unknown webhook (404); was it deleted?")
    return Delivery(False, permanent=True, error=f"HTTP {status} {snippet}".strip())


def _float(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None
