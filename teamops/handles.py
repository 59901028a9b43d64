"""A person by the handle a user typed: one lookup, one message, for every command that takes a handle."""

from __future__ import annotations

from typing import TYPE_CHECKING

from teamops.errors import InvalidInput
from teamops.store.people import person_by_handle

if TYPE_CHECKING:
    from teamops.store.reader import Reader


def person_id(db: Reader, handle: str) -> int:
    """The id of a person by handle; an unknown handle is invalid input (exit 5)."""
    person = person_by_handle(db, handle)
    if person is None:
        raise InvalidInput(f"no person with handle {handle!r}", "see `teamops people list`")
    return person.id
