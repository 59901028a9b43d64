"""Unmapped commit authors that are evidently one person (the same account on a service, or the same name; `.mailmap`
is applied as commits are read), each as a ready-to-run `teamops people add` line."""

from __future__ import annotations

import re
import shlex
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from teamops.config.schema import HANDLE_RE
from teamops.people.identities import normalise
from teamops.sources import account_of, person_fields

# A name that says nothing of who wrote the commit cannot join two emails into one person.
VAGUE_NAMES = {"", "unknown", "root", "admin", "user", "ubuntu", "developer", "dev", "test", "none"}


@dataclass
class Suggestion:
    """One person as the history shows them: every email, the login and the name they committed with."""

    handle: str
    name: str | None
    emails: list[str] = field(default_factory=list)
    account: tuple[str, str] | None = None  # (identity kind, name) of their account on a service
    commits: int = 0
    why: str = ""

    def command(self) -> str:
        words = ["teamops", "people", "add", self.handle]
        if self.name:
            words += ["--name", self.name]
        for email in self.emails:
            words += ["--email", email]
        if self.account:
            kind, name = self.account
            field_ = next((f for f, k, _ in person_fields() if k == kind), None)
            words += [f"--{field_}", name] if field_ else ["--account", f"{kind}:{name}"]
        return " ".join(shlex.quote(w) for w in words)

    def row(self) -> dict[str, Any]:
        kind, name = self.account or (None, None)
        fields = {f: (name if k == kind else None) for f, k, _ in person_fields()}
        return {
            "handle": self.handle,
            "name": self.name,
            "emails": self.emails,
            **fields,
            "account": f"{kind}:{name}" if kind and kind not in {k for _, k, _ in person_fields()} else None,
            "commits": self.commits,
            "why": self.why,
            "command": self.command(),
        }


def suggest(authors: list[dict[str, Any]], taken: set[str]) -> list[Suggestion]:
    """Group `people unmapped` rows of commit authors (bots already left out), most commits first."""
    parent = list(range(len(authors)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    reasons: dict[int, set[str]] = {}
    first: dict[tuple[str, str], int] = {}
    for i, author in enumerate(authors):
        keys = []
        found = _account(author)
        if found:
            keys.append(("login", ":".join(found)))
        key = name_key(str(author.get("name") or ""))
        if key not in VAGUE_NAMES and (" " in key or len(key) >= 6):
            keys.append(("name", key))
        for pair in keys:
            if pair in first:
                a, b = root(first[pair]), root(i)
                if a != b:
                    parent[b] = a
                    reasons.setdefault(a, set()).add("the same account" if pair[0] == "login" else "the same name")
                    reasons[a] |= reasons.pop(b, set())
            else:
                first[pair] = i
    groups: dict[int, list[dict[str, Any]]] = {}
    for i, author in enumerate(authors):
        groups.setdefault(root(i), []).append(author)
    out = []
    used = {h.lower() for h in taken}
    for top, members in groups.items():
        members.sort(key=lambda a: -(a.get("commits") or 0))
        account = next((a for a in map(_account, members) if a), None)
        shown = next((str(m["name"]) for m in members if m.get("name")), None)
        s = Suggestion(
            handle=_unique(_handle(account[1] if account else None, shown, str(members[0].get("email") or "")), used),
            name=shown,
            emails=[str(m["email"]) for m in members if m.get("email")],
            account=account,
            commits=sum(int(m.get("commits") or 0) for m in members),
            why=" and ".join(sorted(reasons.get(top, set()))) if len(members) > 1 else "",
        )
        out.append(s)
    out.sort(key=lambda s: (-s.commits, s.handle))
    return out


def _account(author: dict[str, Any]) -> tuple[str, str] | None:
    """(kind, name) of an author's account: the login their commits carry, else a private address's."""
    if author.get("login") and author.get("login_kind"):
        return str(author["login_kind"]), str(author["login"]).lower()
    return account_of(author.get("email"))


def name_key(name: str) -> str:
    """A name as a person would still recognise it: letters and digits only (`☿ Kenneth Reitz` is Kenneth Reitz)."""
    kept = "".join(c if unicodedata.category(c)[0] in "LN" else " " for c in name)
    return normalise("name", kept)


def _handle(login: str | None, name: str | None, email: str) -> str:
    """A handle that reads as the person: the login, else the name folded to ASCII, else the email's local part."""
    for raw in (login, name and ".".join(name.split()[:2]), email.split("@", 1)[0].split("+")[-1]):
        if not raw:
            continue
        ascii_ = unicodedata.normalize("NFKD", raw).encode("ascii", "ignore").decode().lower()
        slug = re.sub(r"[^a-z0-9._-]+", "-", ascii_).strip("-._")[:64]
        if slug and HANDLE_RE.match(slug):
            return slug
    return "person"


def _unique(handle: str, used: set[str]) -> str:
    candidate, n = handle, 1
    while candidate.lower() in used:
        n += 1
        candidate = f"{handle[:60]}-{n}"
    used.add(candidate.lower())
    return candidate
