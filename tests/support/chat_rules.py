"""What Slack and Discord would act on in a text: their parsing rules, written from their formatting docs.

Slack treats every `<...>` in a text object as a control sequence (mention, channel, date, link) and
decodes only `&amp;`, `&lt;` and `&gt;`. Discord's markdown makes links from `[label](url)`, mentions
from `<@id>`, `<@&id>`, `<#id>`, `@everyone` and `@here`, and takes a backslash before any other
punctuation as "this character, literally".
"""

from __future__ import annotations

import re
from typing import Any

SLACK_ENTITIES = {"&lt;": "<", "&gt;": ">", "&amp;": "&"}


def slack_controls(text: str) -> list[str]:
    """The control sequences Slack would parse (each one pings, links or formats a date)."""
    return re.findall(r"<([^<>]*)>", text)


def slack_shown(text: str) -> str:
    """What a reader sees once Slack decodes its three entities (links shown as their label)."""
    text = re.sub(r"<[^<>|]*\|([^<>]*)>", r"\1", text)
    return re.sub(r"&(lt|gt|amp);", lambda m: SLACK_ENTITIES[m[0]], text)


def _unescaped(text: str) -> str:
    """Discord's text with each backslash escape replaced by placeholders of the same length."""
    return re.sub(r"\\[^\w\s]", "\x00\x00", text)


def discord_active(text: str) -> list[str]:
    """Masked links and mentions Discord would render from this markdown."""
    plain = _unescaped(text)
    rules = (r"\[[^\]]*\]\([^)]*\)", r"<(?:@[!&]?|#)\d+>|<t:\d+(?::\w)?>", r"(?<![\w\x00])@(?:everyone|here)\b")
    return [text[m.start() : m.end()] for rule in rules for m in re.finditer(rule, plain)]


def discord_shown(text: str) -> str:
    """The characters a reader sees: escapes removed, our bold markers dropped."""
    return re.sub(r"\\([^\w\s])", r"\1", text.replace("**", ""))


def texts_of(payload: Any) -> list[str]:
    """Every string in a payload except URLs and ids, where a channel would render text."""
    out: list[str] = []
    if isinstance(payload, dict):
        for key, value in payload.items():
            if key not in ("url", "type", "color", "inline", "emoji"):
                out += texts_of(value)
    elif isinstance(payload, list):
        for value in payload:
            out += texts_of(value)
    elif isinstance(payload, str):
        out.append(payload)
    return out
