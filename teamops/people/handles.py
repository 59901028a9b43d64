"""A person, team or repository as a user typed it: one lookup, one message, for every command that takes one."""

from __future__ import annotations

from typing import TYPE_CHECKING

from teamops.errors import InvalidInput
from teamops.store.commits import find_repo, matching_repos
from teamops.store.people import person_by_handle, team_exists

if TYPE_CHECKING:
    from teamops.store.reader import Reader


def person_id(db: Reader, handle: str) -> int:
    """The id of a person by handle; an unknown handle is invalid input (exit 5)."""
    person = person_by_handle(db, handle)
    if person is None:
        raise InvalidInput(f"no person with handle {handle!r}", "see `teamops people list`")
    return person.id


def check_filters(db: Reader, person: str | None, team: str | None) -> None:
    """An unknown --person (or a team nobody is in) is invalid input, not an empty report."""
    if person:
        person_id(db, person)
    if team and not team_exists(db, team):
        raise InvalidInput(f"no person is in team {team!r}", "see `teamops people list`")


def repo_of(db: Reader, value: str) -> tuple[int, str]:
    """(id, name) of a synced repository by name, owner/name or path; an unknown one is invalid input."""
    found = find_repo(db, value)
    if found is None:
        raise InvalidInput(f"no repository {value!r} is synced", "sync it first: teamops sync-commits --repo ...")
    return found


def repos_of(db: Reader, values: list[str] | None) -> list[int] | None:
    """Ids of the repositories `--repo` values name (each a name, owner/name, path or glob); None: all.
    A value that names none is invalid input."""
    if not values:
        return None
    ids: list[int] = []
    for value in values:
        found = matching_repos(db, value) if set("*?[") & set(value) else []
        if not found:
            one = find_repo(db, value)
            found = [one[0]] if one else []
        if not found:
            raise InvalidInput(f"no synced repository matches {value!r}", "see `teamops doctor` for the synced ones")
        ids += [i for i in found if i not in ids]
    return ids
