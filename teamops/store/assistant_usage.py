"""The assistant_days and assistant_users tables: an AI assistant's own usage reports, written only here."""

from __future__ import annotations

from dataclasses import astuple
from typing import TYPE_CHECKING, Any

from teamops.records import UsageCounts
from teamops.store.database import now_iso

if TYPE_CHECKING:
    from sqlite_utils import Database

    from teamops.records import UsageDay, UsageUser
    from teamops.store.reader import Reader

COUNTS = tuple(UsageCounts.__slots__)
DAY_EXTRA = (
    "active_users",
    "weekly_active_users",
    "monthly_active_users",
    "prs_created",
    "prs_created_by_assistant",
    "prs_merged",
    "prs_merged_by_assistant",
    "prs_reviewed_by_assistant",
)


def _upsert(
    db: Database, table: str, keys: tuple[str, ...], values: tuple[str, ...], rows: list[tuple[Any, ...]]
) -> None:
    columns = (*keys, *values, "synced_at")
    updates = ", ".join(f"{c} = excluded.{c}" for c in (*values, "synced_at"))
    db.conn.executemany(
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)}) "
        f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {updates}",
        rows,
    )


def save_usage(
    db: Database, assistant: str, scope: str, account_kind: str, days: list[UsageDay], users: list[UsageUser]
) -> None:
    """A report's days and accounts; a day reported again replaces what was stored (reports are reprocessed),
    and the accounts of each day reported are the report's alone."""
    stamp = now_iso()
    _upsert(
        db,
        "assistant_days",
        ("assistant", "scope", "day"),
        (*COUNTS, *DAY_EXTRA),
        [(assistant, scope, d.day, *astuple(d.counts), *(getattr(d, c) for c in DAY_EXTRA), stamp) for d in days],
    )
    for day in sorted({u.day for u in users}):
        db.execute("DELETE FROM assistant_users WHERE assistant = ? AND scope = ? AND day = ?", [assistant, scope, day])
    _upsert(
        db,
        "assistant_users",
        ("assistant", "scope", "day", "login"),
        ("account_kind", *COUNTS, "used_agent", "used_chat", "used_cli"),
        [(assistant, scope, u.day, u.login, account_kind, *astuple(u.counts), *_used(u), stamp) for u in users],
    )


def _used(u: UsageUser) -> tuple[int, int, int]:
    return int(u.used_agent), int(u.used_chat), int(u.used_cli)


def stored_days(db: Reader, assistant: str, scope: str) -> set[str]:
    """The days of a scope's report already stored."""
    rows = db.execute("SELECT day FROM assistant_days WHERE assistant = ? AND scope = ?", [assistant, scope])
    return {str(day) for (day,) in rows}


def any_usage(db: Reader) -> bool:
    return db.execute("SELECT 1 FROM assistant_users LIMIT 1").fetchone() is not None or (
        db.execute("SELECT 1 FROM assistant_days LIMIT 1").fetchone() is not None
    )


PERSON = "coalesce(p.handle, u.login || ' (unmapped)')"  # a login a person's identity names is that person
ACCOUNTS = (
    "FROM assistant_users u LEFT JOIN identities i ON i.kind = u.account_kind AND i.value = lower(u.login) "
    "LEFT JOIN people p ON p.id = i.person_id WHERE u.day >= ? AND u.day < ?"
)


def usage_groups(db: Reader, since: str, until: str, by: str) -> list[tuple[Any, ...]]:
    """Account-days in [since, until) (days as `YYYY-MM-DD`) summed per group and assistant: (group, assistant,
    people, active days, agent days, *COUNTS); `by` is `day` (people then count per day), `person` or `team`."""
    key = {"day": "u.day", "person": PERSON, "team": "coalesce(p.team, '(no team)')"}[by]
    sums = ", ".join(f"sum(u.{c})" for c in COUNTS)
    return db.execute(
        f"SELECT {key} AS g, u.assistant, count(DISTINCT {PERSON}), count(*), sum(u.used_agent), {sums} "
        f"{ACCOUNTS} GROUP BY g, u.assistant ORDER BY g, u.assistant",
        [since, until],
    ).fetchall()


def active_people(db: Reader, since: str, until: str) -> list[tuple[str, str, str]]:
    """(day, assistant, person) for each account-day in [since, until): who was active when."""
    return db.execute(f"SELECT u.day, u.assistant, {PERSON} {ACCOUNTS}", [since, until]).fetchall()


def active_count(db: Reader, since: str, until: str) -> int:
    """How many people (or unmapped accounts) were active in [since, until)."""
    return int(db.execute(f"SELECT count(DISTINCT {PERSON}) {ACCOUNTS}", [since, until]).fetchone()[0])


def active_days(db: Reader, since: str, until: str) -> set[str]:
    """The days in [since, until) some account was active."""
    rows = db.execute("SELECT DISTINCT day FROM assistant_users WHERE day >= ? AND day < ?", [since, until])
    return {str(day) for (day,) in rows}


def scope_days(db: Reader, since: str, until: str) -> list[dict[str, Any]]:
    """The scopes' day totals in [since, until)."""
    names = ("assistant", "scope", "day", *COUNTS, *DAY_EXTRA)
    rows = db.execute(
        f"SELECT {', '.join(names)} FROM assistant_days WHERE day >= ? AND day < ? ORDER BY day, scope",
        [since, until],
    )
    return [dict(zip(names, r, strict=True)) for r in rows]
