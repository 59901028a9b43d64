"""What an assistant's own usage reports say (GitHub Copilot's): active people, prompts, editor lines and the
share of its suggestions accepted, per week, person or team. Read beside the history's marks, never mixed in."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from teamops.clock import parse_iso
from teamops.dates import iso_week_of, iso_weeks
from teamops.kpi.flow import rounded
from teamops.records import ReportRow
from teamops.store.assistant_usage import COUNTS, scope_days, user_days

if TYPE_CHECKING:
    from teamops.store.reader import Reader

USAGE_BY = ("week", "person", "team")


@dataclass
class UsageRow(ReportRow):
    """One group's use of the assistants, as their reports count it."""

    group: str
    assistant: str
    people: int
    active_days: int
    prompts: int
    generations: int
    acceptances: int
    acceptance_rate: float | None  # acceptances per generation
    lines_suggested: int
    lines_added: int
    lines_deleted: int
    agent_lines: int
    agent_days: int  # person-days with the agent used
    prs_by_assistant: int | None  # pull requests the assistant opened (per week, from the scope's days)
    prs_merged_by_assistant: int | None


@dataclass
class Usage:
    """The rows, and the window's totals across them."""

    by: str
    rows: list[UsageRow] = field(default_factory=list)
    people: int = 0
    assistants: list[str] = field(default_factory=list)
    lines_added: int = 0
    acceptance_rate: float | None = None
    days: int = 0  # days reported in the window


def _days(since: str, until: str) -> tuple[str, str]:
    """The window's first and last day (the window ends before `until`)."""
    return since[:10], (parse_iso(until) - timedelta(microseconds=1)).date().isoformat()


def _key(row: dict[str, Any], by: str) -> str:
    if by == "week":
        return iso_week_of(str(row["day"]))
    if by == "team":
        return str(row["team"] or "(no team)")
    return str(row["handle"] or f"{row['login']} (unmapped)")


def assistant_usage(db: Reader, since: str, until: str, by: str = "week") -> Usage:
    """The reports' account-days in the window, grouped by `by` (docs/kpi.md, "The assistants' own reports")."""
    first, last = _days(since, until)
    end = (parse_iso(last + "T00:00:00Z") + timedelta(days=1)).date().isoformat()
    users = user_days(db, first, end)
    scopes = scope_days(db, first, end)
    result = Usage(by)
    groups: dict[tuple[str, str], dict[str, Any]] = defaultdict(
        lambda: {"people": set(), "days": 0, "agent": 0, **{c: 0 for c in COUNTS}}
    )
    everyone: set[tuple[str, str]] = set()
    for row in users:
        g = groups[(_key(row, by), str(row["assistant"]))]
        g["people"].add(row["handle"] or row["login"])
        everyone.add((str(row["assistant"]), str(row["handle"] or row["login"])))
        g["days"] += 1
        g["agent"] += bool(row["used_agent"])
        for c in COUNTS:
            g[c] += int(row[c])
    pulls: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    reported: set[str] = set()
    for day in scopes:
        reported.add(str(day["day"]))
        if by == "week":
            week = pulls[(iso_week_of(str(day["day"])), str(day["assistant"]))]
            week[0] += int(day["prs_created_by_assistant"] or 0)
            week[1] += int(day["prs_merged_by_assistant"] or 0)
    keys = sorted(groups)
    if by == "week" and (users or scopes):
        named = sorted({a for _, a in groups} | {str(d["assistant"]) for d in scopes})
        keys = [(w, a) for w in iso_weeks(f"{first}T00:00:00Z", f"{end}T00:00:00Z") for a in named]
    for key in keys:
        g = groups.get(key) or {"people": set(), "days": 0, "agent": 0, **{c: 0 for c in COUNTS}}
        p = pulls.get(key) if by == "week" else None
        result.rows.append(
            UsageRow(
                key[0],
                key[1],
                len(g["people"]),
                g["days"],
                g["prompts"],
                g["generations"],
                g["acceptances"],
                rounded(g["acceptances"] / g["generations"], 3) if g["generations"] else None,
                g["lines_suggested"],
                g["lines_added"],
                g["lines_deleted"],
                g["agent_lines"],
                g["agent"],
                p[0] if p else (0 if by == "week" else None),
                p[1] if p else (0 if by == "week" else None),
            )
        )
    result.people = len(everyone)
    result.assistants = sorted({a for a, _ in everyone} | {str(d["assistant"]) for d in scopes})
    result.lines_added = sum(int(r["lines_added"]) for r in users)
    generations = sum(int(r["generations"]) for r in users)
    accepted = sum(int(r["acceptances"]) for r in users)
    result.acceptance_rate = rounded(accepted / generations, 3) if generations else None
    result.days = len(reported | {str(r["day"]) for r in users})
    return result
