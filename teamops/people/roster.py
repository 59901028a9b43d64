"""People and their identities: add, edit, remove, list, config upsert and unmapped authors."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from teamops.config import HANDLE_RE, PersonConfig, check_timezone, people_digest
from teamops.errors import ConfigError, InvalidInput, TeamopsError
from teamops.people.handles import person_id
from teamops.people.identities import normalise, reattribute
from teamops.sources import identity_kinds, person_fields
from teamops.store import people as store
from teamops.store.commits import commit_counts, commits_of
from teamops.store.database import transaction
from teamops.store.reader import PEOPLE_STATE
from teamops.store.sync_state import load_state, save_state

if TYPE_CHECKING:
    from sqlite_utils import Database

    from teamops.store.reader import Reader


# What a person is: profile fields plus the identities that point at them. A `[[people]]` entry is one, and
# `people add` and `people edit` make one, so they are the same dataclass.
PersonSpec = PersonConfig


def parse_accounts(values: list[str], error: type[TeamopsError] = InvalidInput) -> dict[str, str]:
    """`KIND:NAME` values (`gitlab:alice`) as {kind: name}, each kind one a registered source brings."""
    known = identity_kinds()
    found: dict[str, str] = {}
    for value in values:
        kind, sep, name = value.partition(":")
        kind = kind.strip().lower()
        if not sep or kind not in known:
            raise error(f"{value!r} is not KIND:NAME with KIND one of {', '.join(known)}")
        found[kind] = name.strip().lstrip("@")
    return found


def _check_spec(spec: PersonSpec, error: type[TeamopsError] = InvalidInput) -> None:
    if not HANDLE_RE.match(spec.handle):
        raise error(f"handle {spec.handle!r} must be letters, digits, '.', '_' or '-' (at most 64)")
    for email in spec.emails:
        if "@" not in email:
            raise error(f"{email!r} is not an email address")
    if spec.timezone:
        check_timezone(spec.timezone, lambda msg: error(f"timezone {msg}"))


def _set_identity(db: Database, pid: int, kind: str, value: str, source: str, error: type[TeamopsError]) -> None:
    value = normalise(kind, value)
    if not value:
        return
    owner = store.identity_owner(db, kind, value)
    if owner is not None:
        if owner[0] == pid:
            return
        if source == "auto":
            return  # two people share a display name: neither gets it as an identity
        raise error(f"{kind} {value!r} already belongs to {owner[1]!r}")
    store.save_identity(db, pid, kind, value, source)


def _write_identities(db: Database, pid: int, spec: PersonSpec, source: str, error: type[TeamopsError]) -> None:
    for email in spec.emails:
        _set_identity(db, pid, "email", email, source, error)
    accounts = {kind: str(getattr(spec, field)) for field, kind, _ in person_fields() if getattr(spec, field, None)}
    for kind, name in parse_accounts([f"{k}:{v}" for k, v in (accounts | spec.accounts).items()], error).items():
        _set_identity(db, pid, kind, name, source, error)
    for name in spec.names:
        _set_identity(db, pid, "name", name, source, error)
    store.delete_identities(db, pid, source="auto")
    if spec.name:
        _set_identity(db, pid, "name", spec.name, "auto", error)


def add_person(db: Database, spec: PersonSpec, source: str = "cli") -> int:
    """Create a person with identities and attribute their existing commits to them."""
    _check_spec(spec)
    with transaction(db):
        if store.person_by_handle(db, spec.handle):
            raise InvalidInput(f"{spec.handle!r} already exists", "use `teamops people edit`")
        pid = store.save_person(
            db,
            spec.handle,
            name=spec.name,
            timezone=spec.timezone,
            team=spec.team,
            lead=spec.lead,
            active=spec.active,
            source=source,
        )
        _write_identities(db, pid, spec, source, InvalidInput)
        reattribute(db)
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
    accounts: dict[str, str] = field(default_factory=dict)  # {kind: name}, "" to remove that kind's account


def _profile_changes(edit: PersonEdit) -> dict[str, Any]:
    sets: dict[str, Any] = {}
    for col, val in (("given_name", edit.name), ("timezone", edit.timezone), ("team", edit.team)):  # name is generated
        if val is not None:
            sets[col] = val or None
    if edit.lead is not None:
        sets["is_lead"] = int(edit.lead)
    if edit.active is not None:
        sets["active"] = int(edit.active)
    if edit.rename:
        sets["handle"] = edit.rename
    return sets


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
        if edit.rename and store.handle_taken(db, edit.rename, other_than=pid):
            raise InvalidInput(f"{edit.rename!r} already exists")
        store.save_profile(db, pid, _profile_changes(edit))
        for email in edit.remove_emails:
            store.delete_identities(db, pid, kind="email", value=normalise("email", email))
        changed = {
            kind: getattr(edit, field) for field, kind, _ in person_fields() if getattr(edit, field, None) is not None
        }
        changed |= edit.accounts
        for kind in changed:
            store.delete_identities(db, pid, kind=kind)
        person = store.person_by_handle(db, edit.rename or handle)
        spec = PersonSpec(
            handle=edit.rename or handle,
            name=person.name if person else None,
            emails=edit.add_emails,
            accounts={k: v for k, v in changed.items() if v},
        )
        _write_identities(db, pid, spec, "cli", InvalidInput)
        reattribute(db)


def remove_person(db: Database, handle: str) -> int:
    """Delete a person; their commits become unmapped again. Returns how many commits that was."""
    pid = person_id(db, handle)
    with transaction(db):
        n = commits_of(db, pid)
        store.delete_person(db, pid)
        reattribute(db)
    return n


def list_people(db: Reader) -> list[dict[str, Any]]:
    """Every person with identities and commit count, for `people list`."""
    idents = store.identities_by_person(db)
    counts = commit_counts(db)
    fields = person_fields()
    others = set(identity_kinds()) - {kind for _, kind, _ in fields}  # those have a column of their own
    rows = []
    for p in store.people(db):
        ids = idents.get(p.id, {})
        commits, merges, last_commit, assisted = counts.get(p.id, (0, 0, None, 0))
        rows.append(
            {
                "handle": p.handle,
                "name": p.name,
                "team": p.team,
                "lead": p.lead,
                "active": p.active,
                "timezone": p.timezone,
                "emails": ids.get("email", []),
                **{field: next(iter(ids.get(kind, [])), None) for field, kind, _ in fields},
                "accounts": ", ".join(f"{k}:{v[0]}" for k, v in sorted(ids.items()) if k in others and v) or None,
                "commits": commits,
                "merges": merges,
                "assisted_commits": assisted,
                "last_commit": last_commit,
            }
        )
    return rows


def sync_config_people(db: Database, people: list[PersonConfig]) -> bool:
    """Upsert `[[people]]` from the config; skipped when the section has not changed since last run."""
    digest = people_digest(people)
    state = load_state(db, PEOPLE_STATE)
    if state.cursor == digest:
        return False
    with transaction(db):
        for i, p in enumerate(people):
            pid = store.save_person(
                db,
                p.handle,
                name=p.name,
                timezone=p.timezone,
                team=p.team,
                lead=p.lead,
                active=p.active,
                source="config",
            )
            store.delete_identities(db, pid, source="config")
            try:
                _write_identities(db, pid, p, "config", InvalidInput)
            except InvalidInput as exc:
                raise ConfigError(f"people[{i}] ({p.handle}): {exc.message}") from None
        reattribute(db)
        state.cursor = digest
        save_state(db, state)
    return True
