"""Map commit authors (email, a service's account name, name) and tracker users to people."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from teamops.sources import account_of
from teamops.store.commits import save_attribution
from teamops.store.people import identity_map
from teamops.store.pulls import save_author_people
from teamops.store.tasks import save_role_people

if TYPE_CHECKING:
    from sqlite_utils import Database

    from teamops.store.reader import Reader


def normalise(kind: str, value: str) -> str:
    """Identities compare case-insensitively; names also ignore repeated spaces."""
    value = value.strip()
    if kind == "name":
        return " ".join(value.split()).casefold()
    return value.lower()


@dataclass
class IdentityResolver:
    """An in-memory snapshot of identities, so a sync maps each commit without a query.

    `logins` are the accounts of the source being synced (its identity kind: `load(db, kind)`)."""

    emails: dict[str, int]
    logins: dict[str, int]
    names: dict[str, int]
    accounts: dict[str, dict[str, int]] = field(default_factory=dict)  # every kind, for private addresses

    @classmethod
    def load(cls, db: Reader, login_kind: str | None = None) -> IdentityResolver:
        by_kind: dict[str, dict[str, int]] = {}
        for kind, value, pid in identity_map(db):
            by_kind.setdefault(kind, {})[value] = pid  # a kind a commit cannot name (a tracker's ids) is kept aside
        logins = by_kind.get(login_kind, {}) if login_kind else {}
        return cls(by_kind.get("email", {}), logins, by_kind.get("name", {}), by_kind)

    def person_for(self, email: str | None, login: str | None, name: str | None) -> int | None:
        """Email first, then the account (also from a private address), then name."""
        if email and (pid := self.emails.get(email.lower())):
            return pid
        if login and (pid := self.logins.get(login.lower())):
            return pid
        if (found := account_of(email)) and (pid := self.accounts.get(found[0], {}).get(found[1])):
            return pid
        if name and (pid := self.names.get(normalise("name", name))):
            return pid
        return None


def _name_key(name: str | None) -> str | None:
    return normalise("name", name) if name else None


def reattribute(db: Database) -> int:
    """Recompute every commit's and pull request's person after identities change, and resolve task roles
    held by ClickUp users whom an identity now matches; returns the commits whose person moved."""
    moved = save_attribution(db, account_of, _name_key)
    save_author_people(db)
    save_role_people(db)
    return moved
