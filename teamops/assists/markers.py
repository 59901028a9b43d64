"""The marks coding assistants leave in a history, each with the assistant it names and where it comes from.

A mark is matched case-insensitively where the tools vary. Trailer marks match the value of a
`Co-authored-by:` line by the assistant's own address (a person named Claude or Devin has another one);
author marks match the author's name, email or login; body marks match the assistant's own footer. None of
them names dependabot, renovate or github-actions: automation that writes no code for a person is no
assistant. docs/kpi.md ("AI-assisted work") lists them with their sources.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

TRAILER = "trailer"
AUTHOR = "author"
BODY = "body"
LABEL = "label"
CONFIG = "config pattern"


@dataclass(frozen=True)
class Marker:
    """One mark: the assistant, how it is recognised, what matches, and where the mark comes from."""

    assistant: str
    how: str
    pattern: re.Pattern[str]
    source: str


def _m(assistant: str, how: str, pattern: str, source: str) -> Marker:
    return Marker(assistant, how, re.compile(pattern, re.IGNORECASE), source)


NOREPLY = r"@users\.noreply\.github\.com"
# `Co-authored-by:` values (`Name <email>`), matched by the assistant's own address.
TRAILERS = (
    _m(
        "Claude Code",
        TRAILER,
        r"<noreply@anthropic\.com>",
        "Claude Code's commit trailer, model names inside since 2025",
    ),
    _m("Claude Code", TRAILER, r"\bclaude\[bot\]", "the Claude GitHub app"),
    _m(
        "GitHub Copilot",
        TRAILER,
        r"<\d+\+copilot" + NOREPLY + ">",
        "Copilot: suggestions applied on GitHub, the coding agent",
    ),
    _m("GitHub Copilot", TRAILER, r"\bcopilot-swe-agent\[bot\]", "Copilot coding agent"),
    _m("Cursor", TRAILER, r"<cursoragent@cursor\.com>", "Cursor's agent and editor trailer"),
    _m("aider", TRAILER, r"<noreply@aider\.chat>", "aider's co-author trailer (the model in the name)"),
    _m("OpenAI Codex", TRAILER, r"<(?:noreply|codex)@openai\.com>", "Codex CLI's trailer"),
    _m("Devin", TRAILER, r"devin-ai-integration\[bot\]", "Devin's GitHub app"),
    _m("Jules", TRAILER, r"google-labs-jules\[bot\]", "Google Jules' GitHub app"),
    _m(
        "Gemini",
        TRAILER,
        r"gemini-code-assist\[bot\]|<gemini@google\.com>",
        "Gemini Code Assist suggestions, Gemini CLI",
    ),
    _m("Amp", TRAILER, r"<amp@ampcode\.com>", "Sourcegraph Amp's trailer"),
    _m("opencode", TRAILER, r"<noreply@opencode\.ai>", "opencode's trailer"),
    _m("OpenHands", TRAILER, r"<openhands@all-hands\.dev>", "OpenHands' trailer"),
    _m("Windsurf", TRAILER, r"<noreply@codeium\.com>", "Windsurf (Codeium)"),
    _m("Replit Agent", TRAILER, r"<agent@replit\.com>", "Replit Agent"),
)
# Other trailer lines an assistant adds beside (or instead of) a co-author.
OTHER_TRAILERS = (
    _m("Cursor", TRAILER, r"^made-with:\s*cursor\b", "Cursor's `Made-with: Cursor` line"),
    _m("Claude Code", TRAILER, r"^claude-session:\s*https://claude\.ai/", "Claude Code on the web's session line"),
    _m("Amp", TRAILER, r"^amp-thread(?:-id)?:\s*https://ampcode\.com/", "Amp's thread line"),
)
# An author (`name <email>`, and a login when GitHub gives one).
AUTHORS = (
    _m("GitHub Copilot", AUTHOR, r"^copilot-swe-agent\[bot\]|<\d+\+copilot" + NOREPLY + ">", "Copilot coding agent"),
    _m("Cursor", AUTHOR, r"<cursoragent@cursor\.com>", "Cursor's background agents commit as Cursor Agent"),
    _m("aider", AUTHOR, r"\(aider\)\s*<", "aider appends (aider) to the author's name"),
    _m("Devin", AUTHOR, r"devin-ai-integration\[bot\]", "Devin's GitHub app"),
    _m("Jules", AUTHOR, r"google-labs-jules\[bot\]", "Google Jules' GitHub app"),
    _m("Claude Code", AUTHOR, r"^claude\[bot\]|\+claude\[bot\]" + NOREPLY, "the Claude GitHub app"),
    _m("OpenHands", AUTHOR, r"^openhands(?:-agent)?\s*<|<openhands@all-hands\.dev>", "OpenHands' agent account"),
    _m("Replit Agent", AUTHOR, r"<agent@replit\.com>", "Replit Agent"),
)
# Footers and prefixes in a commit message.
BODIES = (
    _m(
        "Claude Code",
        BODY,
        r"generated with \[?claude code\]?",
        "Claude Code's footer (claude.ai/code, then claude.com)",
    ),
    _m("OpenAI Codex", BODY, r"generated with \[?codex\]?\b", "Codex's footer"),
    _m("aider", BODY, r"\Aaider: ", "aider's message prefix before its co-author trailer (until 2024)"),
)
# Pull-request authors that are apps (GitHub gives a bot's login without `[bot]`; a person's login never counts:
# a developer may well be called claude or devin).
PULL_AUTHORS = (
    _m(
        "GitHub Copilot",
        AUTHOR,
        r"^(?:app/)?copilot(?:-swe-agent)?(?:\[bot\])?$",
        "Copilot coding agent's pull requests",
    ),
    _m("Devin", AUTHOR, r"^(?:app/)?devin-ai-integration(?:\[bot\])?$", "Devin"),
    _m("Jules", AUTHOR, r"^(?:app/)?google-labs-jules(?:\[bot\])?$", "Google Jules"),
    _m("Claude Code", AUTHOR, r"^(?:app/)?claude(?:\[bot\])?$", "the Claude GitHub app"),
    _m("OpenAI Codex", AUTHOR, r"^(?:app/)?chatgpt-codex-connector(?:\[bot\])?$", "Codex cloud"),
    _m("OpenHands", AUTHOR, r"^(?:app/)?openhands(?:-agent)?(?:\[bot\])?$", "OpenHands"),
)
BUILTIN = (*TRAILERS, *OTHER_TRAILERS, *AUTHORS, *BODIES, *PULL_AUTHORS)
