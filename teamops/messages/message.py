"""A notification as teamops means it, before any channel's format (kept free of HTTP imports).

A message's body keeps teamops' own words apart from the values that come from data (task titles,
reasons, names, commit messages), so each channel can escape the data by its own rules and keep the
formatting and links teamops adds itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple

HOWS = ("ours", "data", "strong", "code", "link")


class Span(NamedTuple):
    """One piece of a body: teamops' words ("ours"), or a data value shown plain, bold, as code or as a link."""

    text: str
    how: str = "data"
    url: str = ""


def ours(text: str) -> Span:
    return Span(text, "ours")


def data(value: object) -> Span:
    return Span(str(value), "data")


def strong(value: object) -> Span:
    return Span(str(value), "strong")


def code(value: object) -> Span:
    return Span(str(value), "code")


def link(label: object, url: str | None) -> Span:
    """A link teamops makes itself; without a URL the label is shown bold."""
    return Span(str(label), "link", url) if url else strong(label)


def rich(*parts: str | Span) -> tuple[Span, ...]:
    """A body from teamops' own words (plain strings) and data spans, in reading order."""
    return tuple(ours(p) if isinstance(p, str) else p for p in parts)


def lines(*rows: tuple[Span, ...]) -> tuple[Span, ...]:
    """Bodies joined one per line."""
    out: list[Span] = []
    for i, row in enumerate(rows):
        if i:
            out.append(ours("\n"))
        out.extend(row)
    return tuple(out)


@dataclass
class Message:
    """A notification as teamops means it, before any channel's format.

    The title is data as a whole (it quotes task and doc titles); a plain-string body is data too,
    so only `rich()` bodies can carry teamops' own formatting.
    """

    kind: str
    key: str
    title: str
    body: tuple[Span, ...] | str = ()
    fields: dict[str, str] = field(default_factory=dict)
    url: str | None = None
    people: list[str] = field(default_factory=list)
    severity: str = "info"
    created_at: str = ""

    def __post_init__(self) -> None:
        if isinstance(self.body, str):
            self.body = (data(self.body),) if self.body else ()

    @property
    def spans(self) -> tuple[Span, ...]:
        return self.body if isinstance(self.body, tuple) else (data(self.body),)

    @property
    def text(self) -> str:
        """The body as plain text with the raw values: what Make, generic webhooks and the terminal get."""
        return "".join(s.text for s in self.spans)

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "key": self.key,
            "title": self.title,
            "text": self.text,
            "body": [list(s) for s in self.spans],
            "fields": self.fields,
            "url": self.url,
            "people": self.people,
            "severity": self.severity,
            "created_at": self.created_at,
        }

    @classmethod
    def from_json(cls, payload: dict[str, Any]) -> Message:
        """Read back a queued message; one queued before bodies had spans is all data."""
        return cls(
            str(payload.get("kind") or ""),
            str(payload.get("key") or ""),
            str(payload.get("title") or ""),
            _body(payload),
            fields={str(k): str(v) for k, v in dict(payload.get("fields") or {}).items()},
            url=payload.get("url"),
            people=list(payload.get("people") or []),
            severity=payload.get("severity") or "info",
            created_at=payload.get("created_at") or "",
        )


def _body(payload: dict[str, Any]) -> tuple[Span, ...] | str:
    spans = payload.get("body")
    if not isinstance(spans, list):
        return str(payload.get("text") or "")
    out = []
    for item in spans:
        text, how, url = ([*item, None, None][:3]) if isinstance(item, list) and item else (item, "data", None)
        out.append(Span(str(text or ""), how if how in HOWS else "data", str(url or "")))
    return tuple(out)
