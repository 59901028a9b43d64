"""Per-invocation state shared by commands: global options, lazily loaded config and database."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from teamops.cli.output import Output
from teamops.store.reader import open_reader

if TYPE_CHECKING:
    import sqlite3

    from sqlite_utils import Database

    from teamops.config import Config
    from teamops.store.reader import Reader


@dataclass
class AppState:
    """What the global options decided; config and database load only when a command needs them."""

    db_flag: str | None = None
    config_flag: str | None = None
    fmt: str | None = None
    quiet: bool = False
    verbose: bool = False
    debug: bool = False
    _config: Config | None = field(default=None, repr=False)
    _db: Database | None = field(default=None, repr=False)
    _reader: sqlite3.Connection | None = field(default=None, repr=False)

    @property
    def config(self) -> Config:
        if self._config is None:
            from teamops.config import load_config, unknown_variables

            self._config = load_config(self.config_flag, self.db_flag, os.environ)
            for warning in unknown_variables(os.environ):
                self.output().stderr.write(f"warning: {warning}\n")
        return self._config

    @property
    def db(self) -> Database:
        """The opened, migrated database, with `[[people]]` from the config upserted."""
        if self._db is None:
            from teamops.people.roster import sync_config_people
            from teamops.store.database import open_database

            cfg = self.config
            path = cfg.db_path()
            created = not path.exists()
            self._db = open_database(path)
            if created:
                self.ignore_hint(path)
            if cfg.people:
                sync_config_people(self._db, cfg.people)
        return self._db

    @property
    def reader(self) -> Reader:
        """For reports: a query-only connection when nothing needs writing first, else `db`."""
        if self._db is not None:
            return self._db
        if self._reader is None:
            from teamops.config import people_digest

            cfg = self.config
            if not cfg.db_path().exists() and cfg.db_path().parent.is_dir():
                # A report never creates the database: it reads an empty one in memory instead
                # (a missing folder is still an error: most likely a typo in --db).
                from teamops.people.roster import sync_config_people
                from teamops.store.database import open_database

                empty = open_database(":memory:")
                if cfg.people:
                    sync_config_people(empty, cfg.people)
                self._reader = empty.conn
                return self._reader
            digest = None
            if cfg.people:
                digest = people_digest(cfg.people)
            self._reader = open_reader(cfg.db_path(), digest)
            if self._reader is None:
                return self.db
        return self._reader

    def ignore_hint(self, path: Path) -> None:
        """A database just created inside a git clone: say how to keep it out of commits."""
        from teamops.integrations.git_local import unignored_in_clone

        clone = unignored_in_clone(path)
        if clone is not None:
            self.output().message(
                f"hint: {path.name} is inside the git clone {clone}: add `{path.name}*` to .gitignore "
                "(or .git/info/exclude) so it is never committed"
            )

    def output(self, fmt: str | None = None) -> Output:
        """The renderer, with a command's own --format winning over the global one."""
        return Output(fmt or self.fmt or "table", quiet=self.quiet, verbose=self.verbose)

    def close(self) -> None:
        if self._reader is not None:
            self._reader.close()
            self._reader = None
        if self._db is not None:
            self._db.conn.close()
            self._db = None


def state(ctx: typer.Context) -> AppState:
    """The AppState of this invocation (created by the root callback)."""
    root = ctx.find_root()
    if not isinstance(root.obj, AppState):
        root.obj = AppState()
    return root.obj
