"""Slack's and Discord's text rules: data escaped so it can never ping, link or format; our own markup kept."""

from __future__ import annotations

import re
from urllib.parse import quote, urlsplit

from teamops.messages.message import Span

# Slack parses &, < and > in every text object (mentions, links, dates); it decodes only these three.
_SLACK = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
# Discord markdown: emphasis, code, spoilers, quotes, headings, lists, masked links, mentions, escapes.
_DISCORD = re.compile(r"([\\*_~`|\[\]()<@])")
# Headings, quotes, bullets and numbered lists only count at the start of a line.
_DISCORD_LINE = re.compile(r"^(\s*)(?:([#>\-+])|(\d+)\.)", re.MULTILINE)
# Characters that would end or split a link in either markup are percent-encoded.
_URL_SAFE = ":/?#@!$&'*+,;=%~-._"


def slack_escape(text: str) -> str:
    return text.translate(_SLACK)


def discord_escape(text: str) -> str:
    escaped = _DISCORD.sub(r"\\\1", text)
    return _DISCORD_LINE.sub(lambda m: m[1] + (f"\\{m[2]}" if m[2] else f"{m[3]}\\."), escaped)


def safe_url(url: str | None) -> str | None:
    """An http(s) URL with nothing in it that could break out of a link; anything else is no link at all."""
    if not url or any(c in url for c in "\r\n\t"):
        return None
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return quote(url.strip(), safe=_URL_SAFE)


def _code(text: str) -> str:
    # Neither service has an escape inside inline code: a backtick would end it.
    return "`" + (text.replace("`", "'") or " ") + "`"


def slack_mrkdwn(spans: tuple[Span, ...]) -> str:
    """A body as Slack mrkdwn: every piece escaped, teamops' bold, code and links added around data."""
    out = []
    for s in spans:
        text = slack_escape(s.text)
        if s.how == "strong" and s.text.strip():
            out.append(f"*{text.strip()}*")
        elif s.how == "code":
            out.append(_code(text))
        elif s.how == "link" and (url := safe_url(s.url)):
            out.append(f"<{url}|{text or url}>")
        elif s.how == "link" and s.text.strip():
            out.append(f"*{text.strip()}*")
        else:
            out.append(text)
    return "".join(out)


def discord_markdown(spans: tuple[Span, ...]) -> str:
    """A body as Discord markdown: data escaped, teamops' own words as written, bold, code and links added."""
    out = []
    for s in spans:
        if s.how == "ours":
            out.append(s.text)
            continue
        text = discord_escape(s.text)
        if s.how == "strong" and s.text.strip():
            out.append(f"**{discord_escape(s.text.strip())}**")
        elif s.how == "code":
            out.append(_code(s.text))
        elif s.how == "link" and (url := safe_url(s.url)):
            out.append(f"[{text or url}]({url})")
        elif s.how == "link" and s.text.strip():
            out.append(f"**{discord_escape(s.text.strip())}**")
        else:
            out.append(text)
    return "".join(out)
