"""Map commit authors (email, GitHub login, name) and ClickUp users to people."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from teamops.store.commits import save_attribution
from teamops.store.people import identity_map
from teamops.store.tasks import save_role_people

if TYPE_CHECKING:
    from sqlite_utils import Database

    from teamops.store.reader import Reader


NOREPLY_RE = re.compile(r"^(?:\d+\+)?([^@]+)@users\.noreply\.github\.com$", re.I)
KINDS = ("email", "github", "clickup", "name")


def normalise(kind: str, value: str) -> str:
    """Identities compare case-insensitively; names also ignore repeated spaces."""
    value = value.strip()
    if kind == "name":
        return " ".join(value.split()).casefold()
    return value.lower()


def noreply_login(email: str | None) -> str | None:
    """GitHub's private addresses (`123+login@users.noreply.github.com`) name the login."""
    if not email:
        return None
    match = NOREPLY_RE.match(email.strip())
    return match.group(1).lower() if match else None


@dataclass
class IdentityResolver:
    """An in-memory snapshot of identities, so a sync maps each commit without a query."""

    emails: dict[str, int]
    logins: dict[str, int]
    names: dict[str, int]

    @classmethod
    def load(cls, db: Reader) -> IdentityResolver:
        by_kind: dict[str, dict[str, int]] = {k: {} for k in KINDS}
        for kind, value, pid in identity_map(db):
            by_kind.setdefault(kind, {})[value] = pid  # a kind a commit cannot name (a tracker's ids) is kept aside
        return cls(by_kind["email"], by_kind["github"], by_kind["name"])

    def person_for(self, email: str | None, login: str | None, name: str | None) -> int | None:
        """Email first, then GitHub login (also from a noreply address), then name."""
        if email and (pid := self.emails.get(email.lower())):
            return pid
        if login and (pid := self.logins.get(login.lower())):
            return pid
        if (nr := noreply_login(email)) and (pid := self.logins.get(nr)):
            return pid
        if name and (pid := self.names.get(normalise("name", name))):
            return pid
        return None


def _name_key(name: str | None) -> str | None:
    return normalise("name", name) if name else None


def reattribute(db: Database) -> int:
    """Recompute every commit's person after identities change, and resolve task roles held by
    ClickUp users whom an identity now matches; returns the commits whose person moved."""
    moved = save_attribution(db, noreply_login, _name_key)
    save_role_people(db)
    return moved
