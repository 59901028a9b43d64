"""People and their identities: add, edit, remove, list, config upsert and unmapped authors."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from teamops.config import HANDLE_RE, PersonConfig, check_timezone
from teamops.errors import ConfigError, InvalidInput, TeamopsError
from teamops.identities import normalise, reattribute_commits
from teamops.store.database import now_iso, transaction
from teamops.store.reader import PEOPLE_STATE
from teamops.store.sync_state import load_state, save_state

if TYPE_CHECKING:
    from sqlite_utils import Database

    from teamops.store.reader import Reader


@dataclass
class PersonSpec:
    """What a person is: profile fields plus the identities that point at them."""

    handle: str
    name: str | None = None
    emails: list[str] = field(default_factory=list)
    github: str | None = None
    clickup_id: str | None = None
    timezone: str | None = None
    team: str | None = None
    lead: bool = False
    active: bool = True
    names: list[str] = field(default_factory=list)


def _check_spec(spec: PersonSpec, error: type[TeamopsError] = InvalidInput) -> None:
    if not HANDLE_RE.match(spec.handle):
        raise error(f"handle {spec.handle!r} must be letters, digits, '.', '_' or '-' (at most 64)")
    for email in spec.emails:
        if "@" not in email:
            raise error(f"{email!r} is not an email address")
    if spec.timezone:
        check_timezone(spec.timezone, lambda msg: error(f"timezone {msg}"))


def person_id(db: Reader, handle: str) -> int:
    """The id of a person by handle; an unknown handle is invalid input (exit 5)."""
    row = db.execute("SELECT id FROM people WHERE handle = ?", [handle]).fetchone()
    if row is None:
        raise InvalidInput(f"no person with handle {handle!r}", "see `teamops people list`")
    return int(row[0])


def _set_identity(db: Database, pid: int, kind: str, value: str, source: str, error: type[TeamopsError]) -> None:
    value = normalise(kind, value)
    if not value:
        return
    row = db.execute(
        "SELECT i.person_id, p.handle FROM identities i JOIN people p ON p.id = i.person_id "
        "WHERE i.kind = ? AND i.value = ?",
        [kind, value],
    ).fetchone()
    if row is not None:
        if row[0] == pid:
            return
        if source == "auto":
            return  # two people share a display name: neither gets it as an identity
        raise error(f"{kind} {value!r} already belongs to {row[1]!r}")
    db.execute(
        "INSERT INTO identities (person_id, kind, value, source) VALUES (?, ?, ?, ?)",
        [pid, kind, value, source],
    )


def _write_identities(db: Database, pid: int, spec: PersonSpec, source: str, error: type[TeamopsError]) -> None:
    for email in spec.emails:
        _set_identity(db, pid, "email", email, source, error)
    if spec.github:
        _set_identity(db, pid, "github", spec.github.lstrip("@"), source, error)
    if spec.clickup_id:
        _set_identity(db, pid, "clickup", str(spec.clickup_id), source, error)
    for name in spec.names:
        _set_identity(db, pid, "name", name, source, error)
    db.execute("DELETE FROM identities WHERE person_id = ? AND source = 'auto'", [pid])
    if spec.name:
        _set_identity(db, pid, "name", spec.name, "auto", error)


def add_person(db: Database, spec: PersonSpec, source: str = "cli") -> int:
    """Create a person with identities and attribute their existing commits to them."""
    _check_spec(spec)
    with transaction(db):
        if db.execute("SELECT 1 FROM people WHERE handle = ?", [spec.handle]).fetchone():
            raise InvalidInput(f"{spec.handle!r} already exists", "use `teamops people edit`")
        now = now_iso()
        cur = db.execute(
            "INSERT INTO people (handle, name, timezone, team, is_lead, active, source, "
            "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                spec.handle,
                spec.name,
                spec.timezone,
                spec.team,
                int(spec.lead),
                int(spec.active),
                source,
                now,
                now,
            ],
        )
        pid = int(cur.lastrowid or 0)
        _write_identities(db, pid, spec, source, InvalidInput)
        reattribute_commits(db)
    return pid


@dataclass
class PersonEdit:
    """Changes to a person; None means leave as it is."""

    name: str | None = None
    timezone: str | None = None
    team: str | None = None
    lead: bool | None = None
    active: bool | None = None
    github: str | None = None
    clickup_id: str | None = None
    add_emails: list[str] = field(default_factory=list)
    remove_emails: list[str] = field(default_factory=list)
    rename: str | None = None


def edit_person(db: Database, handle: str, edit: PersonEdit) -> None:
    """Apply changes; identity changes re-attribute stored commits."""
    pid = person_id(db, handle)
    if edit.timezone:
        check_timezone(edit.timezone, lambda msg: InvalidInput(f"timezone {msg}"))
    if edit.rename and not HANDLE_RE.match(edit.rename):
        raise InvalidInput(f"handle {edit.rename!r} must be letters, digits, '.', '_' or '-'")
    for email in edit.add_emails:
        if "@" not in email:
            raise InvalidInput(f"{email!r} is not an email address")
    with transaction(db):
        sets: dict[str, Any] = {}
        for col, val in (("name", edit.name), ("timezone", edit.timezone), ("team", edit.team)):
            if val is not None:
                sets[col] = val or None
        if edit.lead is not None:
            sets["is_lead"] = int(edit.lead)
        if edit.active is not None:
            sets["active"] = int(edit.active)
        if edit.rename:
            clash = db.execute("SELECT 1 FROM people WHERE handle = ? AND id != ?", [edit.rename, pid]).fetchone()
            if clash:
                raise InvalidInput(f"{edit.rename!r} already exists")
            sets["handle"] = edit.rename
        sets["updated_at"] = now_iso()
        db.execute(
            f"UPDATE people SET {', '.join(f'{c} = ?' for c in sets)} WHERE id = ?",
            [*sets.values(), pid],
        )
        for email in edit.remove_emails:
            db.execute(
                "DELETE FROM identities WHERE person_id = ? AND kind = 'email' AND value = ?",
                [pid, normalise("email", email)],
            )
        if edit.github is not None:
            db.execute("DELETE FROM identities WHERE person_id = ? AND kind = 'github'", [pid])
        if edit.clickup_id is not None:
            db.execute("DELETE FROM identities WHERE person_id = ? AND kind = 'clickup'", [pid])
        name = db.execute("SELECT name FROM people WHERE id = ?", [pid]).fetchone()[0]
        spec = PersonSpec(
            handle=edit.rename or handle,
            name=name,
            emails=edit.add_emails,
            github=edit.github or None,
            clickup_id=edit.clickup_id or None,
        )
        _write_identities(db, pid, spec, "cli", InvalidInput)
        reattribute_commits(db)


def remove_person(db: Database, handle: str) -> int:
    """Delete a person; their commits become unmapped again. Returns how many commits that was."""
    pid = person_id(db, handle)
    with transaction(db):
        n = db.execute("SELECT COUNT(*) FROM commits WHERE person_id = ?", [pid]).fetchone()[0]
        db.execute("DELETE FROM people WHERE id = ?", [pid])
        reattribute_commits(db)
    return int(n)


def list_people(db: Reader) -> list[dict[str, Any]]:
    """Every person with identities and commit count, for `people list`."""
    idents: dict[int, dict[str, list[str]]] = {}
    for pid, kind, value in db.execute(
        "SELECT person_id, kind, value FROM identities WHERE source != 'auto' ORDER BY kind, value"
    ):
        idents.setdefault(pid, {}).setdefault(kind, []).append(value)
    counts = dict(
        db.execute("SELECT person_id, COUNT(*) FROM commits WHERE person_id IS NOT NULL GROUP BY 1").fetchall()
    )
    rows = []
    for pid, handle, name, tz, team, lead, active in db.execute(
        "SELECT id, handle, name, timezone, team, is_lead, active FROM people ORDER BY handle"
    ):
        ids = idents.get(pid, {})
        rows.append(
            {
                "handle": handle,
                "name": name,
                "team": team,
                "lead": bool(lead),
                "active": bool(active),
                "timezone": tz,
                "emails": ids.get("email", []),
                "github": next(iter(ids.get("github", [])), None),
                "clickup_id": next(iter(ids.get("clickup", [])), None),
                "commits": counts.get(pid, 0),
            }
        )
    return rows


def unmapped_authors(db: Reader) -> list[dict[str, Any]]:
    """Commit authors that match nobody, most commits first, so the worst gaps show at the top.

    Counted as `kpi activity` counts them: one row per email, merges left out (`merges` says how
    many there are besides), the latest name the author used.
    """
    rows = db.execute(
        """
        SELECT c.author_email, SUM(c.is_merge = 0), SUM(c.is_merge), MAX(c.author_login), MAX(c.authored_at),
            (SELECT n.author_name FROM commits n WHERE n.person_id IS NULL AND n.author_email = c.author_email
             ORDER BY n.authored_at DESC LIMIT 1)
        FROM commits c WHERE c.person_id IS NULL
        GROUP BY c.author_email
        ORDER BY SUM(c.is_merge = 0) DESC, c.author_email
        """
    ).fetchall()
    return [
        {
            "source": "commits",
            "name": name,
            "email": email,
            "login": login,
            "commits": n,
            "merges": merges,
            "last_seen": last,
        }
        for email, n, merges, login, last, name in rows
    ]


def people_digest(people: list[PersonConfig]) -> str:
    """What `[[people]]` looked like when last upserted; unchanged digest, nothing to write."""
    return hashlib.sha256(json.dumps([asdict(p) for p in people], sort_keys=True).encode()).hexdigest()


def sync_config_people(db: Database, people: list[PersonConfig]) -> bool:
    """Upsert `[[people]]` from the config; skipped when the section has not changed since last run."""
    digest = people_digest(people)
    state = load_state(db, PEOPLE_STATE)
    if state.cursor == digest:
        return False
    with transaction(db):
        now = now_iso()
        for i, p in enumerate(people):
            spec = PersonSpec(**asdict(p))  # the same fields: a [[people]] entry is a person spec
            row = db.execute("SELECT id FROM people WHERE handle = ?", [p.handle]).fetchone()
            values = [p.name, p.timezone, p.team, int(p.lead), int(p.active), now]
            if row is None:
                cur = db.execute(
                    "INSERT INTO people (name, timezone, team, is_lead, active, updated_at, "
                    "handle, source, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, 'config', ?)",
                    [*values, p.handle, now],
                )
                pid = int(cur.lastrowid or 0)
            else:
                pid = int(row[0])
                db.execute(
                    "UPDATE people SET name = ?, timezone = ?, team = ?, is_lead = ?, active = ?, "
                    "updated_at = ? WHERE id = ?",
                    [*values, pid],
                )
            db.execute("DELETE FROM identities WHERE person_id = ? AND source = 'config'", [pid])

            try:
                _write_identities(db, pid, spec, "config", InvalidInput)
            except InvalidInput as exc:
                raise ConfigError(f"people[{i}] ({p.handle}): {exc.message}") from None
        reattribute_commits(db)
        state.cursor = digest
        save_state(db, state)
    return True
