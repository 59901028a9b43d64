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


def user_days(db: Reader, since: str, until: str) -> list[dict[str, Any]]:
    """Each account's days in [since, until) (days as `YYYY-MM-DD`), with the person an identity names."""
    cols = ", ".join(f"u.{c}" for c in COUNTS)
    rows = db.execute(
        f"SELECT u.assistant, u.scope, u.day, u.login, {cols}, u.used_agent, u.used_chat, u.used_cli, "
        "p.handle, p.team FROM assistant_users u "
        "LEFT JOIN identities i ON i.kind = u.account_kind AND i.value = lower(u.login) "
        "LEFT JOIN people p ON p.id = i.person_id "
        "WHERE u.day >= ? AND u.day < ? ORDER BY u.day, u.login",
        [since, until],
    )
    names = ("assistant", "scope", "day", "login", *COUNTS, "used_agent", "used_chat", "used_cli", "handle", "team")
    return [dict(zip(names, r, strict=True)) for r in rows]


def scope_days(db: Reader, since: str, until: str) -> list[dict[str, Any]]:
    """The scopes' day totals in [since, until)."""
    names = ("assistant", "scope", "day", *COUNTS, *DAY_EXTRA)
    rows = db.execute(
        f"SELECT {', '.join(names)} FROM assistant_days WHERE day >= ? AND day < ? ORDER BY day, scope",
        [since, until],
    )
    return [dict(zip(names, r, strict=True)) for r in rows]
