"""The people, identities and tracker_users tables, written only here, and the lookups over them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from teamops.clock import now_iso
from teamops.store.filters import Where

if TYPE_CHECKING:
    from sqlite_utils import Database

    from teamops.store.reader import Reader


@dataclass
class PersonRow:
    """A person's profile as stored."""

    id: int
    handle: str
    name: str | None
    timezone: str | None
    team: str | None
    lead: bool
    active: bool


SELECT = "SELECT id, handle, given_name, timezone, team, is_lead, active FROM people"


def _person(row: Any) -> PersonRow:
    return PersonRow(int(row[0]), row[1], row[2], row[3], row[4], bool(row[5]), bool(row[6]))


def person_by_handle(db: Reader, handle: str) -> PersonRow | None:
    row = db.execute(f"{SELECT} WHERE handle = ?", [handle]).fetchone()
    return _person(row) if row else None


def people(
    db: Reader, *, active: bool | None = None, team: str | None = None, handle: str | None = None
) -> list[PersonRow]:
    """People by handle, optionally only active ones, of a team, or one handle."""
    where = Where().add("active = ?", int(bool(active)), when=active is not None).add("team = ?", team, when=team)
    where.add("handle = ?", handle, when=handle)
    return [_person(r) for r in db.execute(f"{SELECT} WHERE {where.sql} ORDER BY handle", where.params)]


def team_exists(db: Reader, team: str) -> bool:
    return db.execute("SELECT 1 FROM people WHERE team = ? LIMIT 1", [team]).fetchone() is not None


def leads(db: Reader) -> list[tuple[str, str | None]]:
    """(handle, team) of the active team leads."""
    return [
        (r[0], r[1])
        for r in db.execute("SELECT handle, team FROM people WHERE is_lead = 1 AND active = 1 ORDER BY handle")
    ]


def teams_of(db: Reader, handles: list[str]) -> set[str]:
    if not handles:
        return set()
    where = Where("team IS NOT NULL").within("handle", handles)
    return {r[0] for r in db.execute(f"SELECT team FROM people WHERE {where.sql}", where.params)}


def save_person(
    db: Database,
    handle: str,
    *,
    name: str | None,
    timezone: str | None,
    team: str | None,
    lead: bool,
    active: bool,
    source: str,
) -> int:
    """Insert a person, or update the profile of the one with this handle; returns the id."""
    now = now_iso()
    values = [name, timezone, team, int(lead), int(active), now]
    row = db.execute("SELECT id FROM people WHERE handle = ?", [handle]).fetchone()
    if row is not None:
        db.execute(
            "UPDATE people SET given_name = ?, timezone = ?, team = ?, is_lead = ?, active = ?, updated_at = ? "
            "WHERE id = ?",
            [*values, row[0]],
        )
        return int(row[0])
    cur = db.execute(
        "INSERT INTO people (given_name, timezone, team, is_lead, active, updated_at, handle, source, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [*values, handle, source, now],
    )
    return int(cur.lastrowid or 0)


def save_profile(db: Database, person_id: int, changes: dict[str, Any]) -> None:
    """Set some profile columns (name, timezone, team, is_lead, active, handle)."""
    sets = {**changes, "updated_at": now_iso()}
    db.execute(f"UPDATE people SET {', '.join(f'{k} = ?' for k in sets)} WHERE id = ?", [*sets.values(), person_id])


def delete_person(db: Database, person_id: int) -> None:
    db.execute("DELETE FROM people WHERE id = ?", [person_id])


def handle_taken(db: Reader, handle: str, other_than: int | None = None) -> bool:
    return (
        db.execute("SELECT 1 FROM people WHERE handle = ? AND id IS NOT ?", [handle, other_than]).fetchone() is not None
    )


# -- identities -------------------------------------------------------------------------------------


def identity_owner(db: Reader, kind: str, value: str) -> tuple[int, str] | None:
    """(person id, handle) of whoever holds an identity."""
    row = db.execute(
        "SELECT i.person_id, p.handle FROM identities i JOIN people p ON p.id = i.person_id "
        "WHERE i.kind = ? AND i.value = ?",
        [kind, value],
    ).fetchone()
    return (int(row[0]), row[1]) if row else None


def identities_of(db: Reader, person_id: int, kind: str) -> list[str]:
    """A person's identities of one kind (their emails, say), in the order they were added."""
    rows = db.execute("SELECT value FROM identities WHERE person_id = ? AND kind = ? ORDER BY id", [person_id, kind])
    return [value for (value,) in rows]


def save_identity(db: Database, person_id: int, kind: str, value: str, source: str) -> None:
    db.execute(
        "INSERT INTO identities (person_id, kind, value, source) VALUES (?, ?, ?, ?)", [person_id, kind, value, source]
    )


def delete_identities(
    db: Database, person_id: int, *, kind: str | None = None, source: str | None = None, value: str | None = None
) -> None:
    where = Where("person_id = ?").add("kind = ?", kind, when=kind).add("source = ?", source, when=source)
    where.add("value = ?", value, when=value)
    db.execute(f"DELETE FROM identities WHERE {where.sql}", [person_id, *where.params])


def identity_map(db: Reader, kind: str | None = None) -> list[tuple[str, str, int]]:
    """(kind, value, person id) of every identity (of one kind)."""
    where = Where().add("kind = ?", kind, when=kind)
    return [
        (r[0], r[1], int(r[2]))
        for r in db.execute(f"SELECT kind, value, person_id FROM identities WHERE {where.sql}", where.params)
    ]


def identities_by_person(db: Reader) -> dict[int, dict[str, list[str]]]:
    """Each person's identities by kind, leaving out the display names kept automatically."""
    out: dict[int, dict[str, list[str]]] = {}
    for pid, kind, value in db.execute(
        "SELECT person_id, kind, value FROM identities WHERE source != 'auto' ORDER BY kind, value"
    ):
        out.setdefault(pid, {}).setdefault(kind, []).append(value)
    return out


def handles_by_id(db: Reader) -> dict[int, tuple[str, str | None, str | None]]:
    """id → (handle, name, team) of everyone."""
    return {int(r[0]): (r[1], r[2], r[3]) for r in db.execute("SELECT id, handle, given_name, team FROM people")}


# -- a tracker's users ---------------------------------------------------------------------------------


def save_tracker_users(db: Database, kind: str, seen: dict[str, tuple[str | None, str | None]]) -> None:
    """Users a tracker named in tasks (id → username, email), for `people unmapped`."""
    stamp = now_iso()
    for uid, (username, email) in seen.items():
        db.execute(
            "INSERT INTO tracker_users (kind, id, username, email, last_seen) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (kind, id) DO UPDATE SET username = excluded.username, email = excluded.email, "
            "last_seen = excluded.last_seen",
            [kind, uid, username, email, stamp],
        )


def unmapped_tracker_users(db: Reader) -> list[dict[str, Any]]:
    """Trackers' users seen in tasks that match no person (a role they hold is `kind:id` until one does)."""
    rows = db.execute(
        """
        SELECT u.kind, u.id, u.username, u.email, u.last_seen,
            (SELECT COUNT(DISTINCT task_id) FROM task_roles r WHERE r.external_ref = u.kind || ':' || u.id)
        FROM tracker_users u
        WHERE NOT EXISTS (SELECT 1 FROM identities i WHERE i.kind = u.kind AND i.value = u.id)
          AND NOT EXISTS (SELECT 1 FROM identities i WHERE i.kind = 'email' AND i.value = u.email)
        ORDER BY u.username
        """
    ).fetchall()
    return [
        {
            "source": kind,
            "name": name,
            "email": email,
            "login": f"{kind}:{uid}",
            "commits": None,
            "tasks": n,
            "last_seen": seen,
        }
        for kind, uid, name, email, seen, n in rows
    ]
