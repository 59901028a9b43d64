"""Map commit authors (email, GitHub login, name) and ClickUp users to people."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlite_utils import Database


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
    def load(cls, db: Database) -> IdentityResolver:
        by_kind: dict[str, dict[str, int]] = {k: {} for k in KINDS}
        for kind, value, pid in db.execute("SELECT kind, value, person_id FROM identities"):
            by_kind[kind][value] = pid
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


def reattribute_commits(db: Database) -> int:
    """Recompute every commit's person after identities change; returns commits whose person moved."""
    conn = db.conn
    conn.create_function("teamops_noreply", 1, noreply_login, deterministic=True)
    conn.create_function("teamops_name", 1, _name_key, deterministic=True)
    cur = db.execute(
        """
        UPDATE commits SET person_id = m.pid
        FROM (
            SELECT c.id,
                COALESCE(
                    (SELECT person_id FROM identities WHERE kind = 'email' AND value = c.author_email),
                    (SELECT person_id FROM identities
                        WHERE kind = 'github' AND value = lower(c.author_login)),
                    (SELECT person_id FROM identities
                        WHERE kind = 'github' AND value = teamops_noreply(c.author_email)),
                    (SELECT person_id FROM identities
                        WHERE kind = 'name' AND value = teamops_name(c.author_name))
                ) AS pid
            FROM commits c
        ) AS m
        WHERE m.id = commits.id AND commits.person_id IS NOT m.pid
        """
    )
    # Task roles held by ClickUp users nobody matched yet: resolve them once an identity appears.
    if db.execute("SELECT 1 FROM sqlite_master WHERE name = 'task_roles'").fetchone():
        db.execute(
            """
            UPDATE task_roles SET
                person_id = (SELECT i.person_id FROM identities i
                             WHERE i.kind = 'clickup' AND i.value = substr(task_roles.external_ref, 9)),
                external_ref = NULL
            WHERE person_id IS NULL AND external_ref LIKE 'clickup:%'
              AND EXISTS (SELECT 1 FROM identities i
                          WHERE i.kind = 'clickup' AND i.value = substr(task_roles.external_ref, 9))
            """
        )
    return cur.rowcount
