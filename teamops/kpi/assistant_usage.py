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
from teamops.store.assistant_usage import COUNTS, active_count, active_days, active_people, scope_days, usage_groups

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
    """The window's first day and the day after its last (the window ends before `until`)."""
    return since[:10], ((parse_iso(until) - timedelta(microseconds=1)).date() + timedelta(days=1)).isoformat()


def assistant_usage(db: Reader, since: str, until: str, by: str = "week") -> Usage:
    """The reports' account-days in the window, grouped by `by` (docs/kpi.md, "The assistants' own reports"):
    summed in SQL; only who was active which week is gathered here."""
    first, end = _days(since, until)
    result = Usage(by)
    groups: dict[tuple[str, str], list[Any]] = {}
    people: dict[tuple[str, str], set[str]] = defaultdict(set)
    everyone: set[str] = set()
    reported: set[str] = set()
    if by == "week":  # who was active which week (people in two weeks count once in all)
        for when, assistant, who in active_people(db, first, end):
            everyone.add(who)
            reported.add(when)
            people[(iso_week_of(when), assistant)].add(who)
    else:
        reported = active_days(db, first, end)
    for group, assistant, n, days, agent, *sums in usage_groups(db, first, end, "day" if by == "week" else by):
        key = (iso_week_of(group), assistant) if by == "week" else (str(group), str(assistant))
        found = groups.setdefault(key, [0, 0, 0, *(0 for _ in COUNTS)])
        found[0] = len(people[key]) if by == "week" else n
        for i, value in enumerate((days, agent, *sums), 1):
            found[i] += int(value or 0)
    scopes = scope_days(db, first, end)
    pulls: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    for day in scopes:
        week = pulls[(iso_week_of(str(day["day"])), str(day["assistant"]))]
        week[0] += int(day["prs_created_by_assistant"] or 0)
        week[1] += int(day["prs_merged_by_assistant"] or 0)
    keys = sorted(groups)
    if by == "week" and (groups or scopes):
        named = sorted({a for _, a in groups} | {str(d["assistant"]) for d in scopes})
        keys = [(w, a) for w in iso_weeks(f"{first}T00:00:00Z", f"{end}T00:00:00Z") for a in named]
    for key in keys:
        n, days, agent, *sums = groups.get(key) or [0, 0, 0, *(0 for _ in COUNTS)]
        c = dict(zip(COUNTS, sums, strict=True))
        p = pulls.get(key) if by == "week" else None
        result.rows.append(
            UsageRow(
                key[0],
                key[1],
                n,
                days,
                c["prompts"],
                c["generations"],
                c["acceptances"],
                rounded(c["acceptances"] / c["generations"], 3) if c["generations"] else None,
                c["lines_suggested"],
                c["lines_added"],
                c["lines_deleted"],
                c["agent_lines"],
                agent,
                p[0] if p else (0 if by == "week" else None),
                p[1] if p else (0 if by == "week" else None),
            )
        )
    result.people = len(everyone) if by == "week" else active_count(db, first, end)
    active = {r.assistant for r in result.rows if r.active_days}
    result.assistants = sorted(active | {str(d["assistant"]) for d in scopes})
    result.lines_added = sum(r.lines_added for r in result.rows)
    generations = sum(r.generations for r in result.rows)
    accepted = sum(r.acceptances for r in result.rows)
    result.acceptance_rate = rounded(accepted / generations, 3) if generations else None
    result.days = len(reported | {str(d["day"]) for d in scopes})
    return result
