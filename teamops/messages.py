"""A notification as teamops means it, before any channel's format (kept free of HTTP imports)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Message:
    """A notification as teamops means it, before any channel's format."""

    kind: str
    key: str
    title: str
    text: str
    fields: dict[str, str] = field(default_factory=dict)
    url: str | None = None
    people: list[str] = field(default_factory=list)
    severity: str = "info"
    created_at: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "key": self.key,
            "title": self.title,
            "text": self.text,
            "fields": self.fields,
            "url": self.url,
            "people": self.people,
            "severity": self.severity,
            "created_at": self.created_at,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Message:
        return cls(
            str(data.get("kind") or ""),
            str(data.get("key") or ""),
            str(data.get("title") or ""),
            str(data.get("text") or ""),
            fields=dict(data.get("fields") or {}),
            url=data.get("url"),
            people=list(data.get("people") or []),
            severity=data.get("severity") or "info",
            created_at=data.get("created_at") or "",
        )
