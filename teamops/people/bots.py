"""Which commit authors are bots (GitHub's `[bot]` accounts, well-known automation, `[bots] patterns`): their
commits stay stored and counted in totals of work shipped, but they are not people."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from teamops.config import Config
    from teamops.store.reader import Reader

# Globs over an author's name, email or login, lower-cased. GitHub marks its app accounts with `[bot]`
# (dependabot[bot], github-actions[bot], renovate[bot], pre-commit-ci[bot], copilot-swe-agent[bot]...) and
# their noreply emails end in `[bot]@users.noreply.github.com`; the rest are automation that predates apps.
BUILTIN = (
    "*[bot]",
    "*[bot]@users.noreply.github.com",
    "dependabot",
    "dependabot-preview",
    "*@dependabot.com",
    "renovate bot",
    "bot@renovateapp.com",
    "github-actions",
    "action@github.com",
    "github-actions@github.com",
    "pre-commit-ci",
)


@dataclass
class Bots:
    """The bot identities (author emails) among the stored commits' unmapped authors, and what they did."""

    emails: list[str] = field(default_factory=list)
    commits: int = 0

    def line(self, accounts: int | None = None, commits: int | None = None) -> str | None:
        """One line for a report's footer: how many bot accounts and commits were left out (of a window,
        when given; None when there were none)."""
        accounts = len(self.emails) if accounts is None else accounts
        commits = self.commits if commits is None else commits
        if not accounts:
            return None
        from teamops.wording import count

        return f"bots: {count(accounts, 'account')}, {count(commits, 'commit')}, left out (--include-bots counts them)"


def patterns(cfg: Config | None) -> re.Pattern[str]:
    """The built-in globs and `[bots] patterns` as one expression: `*` and `?` are wildcards, and a bracket is
    itself (so `*[bot]` means what it says, not a character class)."""
    globs = [*BUILTIN, *(cfg.bots.patterns if cfg is not None else [])]
    alternatives = (re.escape(g.lower()).replace(r"\*", ".*").replace(r"\?", ".") for g in globs)
    return re.compile("(?:" + "|".join(alternatives) + r")\Z")


def is_bot(globs: re.Pattern[str], *values: str | None) -> bool:
    """Whether any of an author's name, email or login matches one of the globs (case-insensitive)."""
    return any(value and globs.match(value.lower()) for value in values)


def find(db: Reader, cfg: Config | None) -> Bots:
    """Bots among authors no person claims (a person is never a bot), with their non-merge commits.

    An author is their email, their latest name and login (as `people unmapped` shows them): one pass
    over the email index, then one seek per author, never a read of every commit.
    """
    from teamops.store.commits import latest_identity

    globs = patterns(cfg)
    found = Bots()
    authors = db.execute(
        "SELECT author_email, SUM(is_merge = 0) FROM commits WHERE person_id IS NULL GROUP BY author_email"
    ).fetchall()
    for email, commits in authors:
        name, login = latest_identity(db, str(email))
        if is_bot(globs, email, name, login):
            found.emails.append(str(email))
            found.commits += int(commits or 0)
    return found
