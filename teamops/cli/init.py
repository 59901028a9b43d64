"""`teamops init`: write a starting teamops.toml and create the database."""

from __future__ import annotations

import sys
from importlib.resources import files
from pathlib import Path
from typing import Annotated

import typer

from teamops.cli.state import state
from teamops.errors import UsageError
from teamops.integrations.git_local import GitRepo
from teamops.store.database import counts, open_database
from teamops.wording import count


def render_config(db_path: str, repo_path: str | None, branch: str | None) -> str:
    """A small starting config: the store, one repository, and pointers to the example."""
    lines = [
        "# teamops configuration; every key is documented in teamops.toml.example, written beside it.",
        "",
        "[store]",
        f'path = "{db_path}"',
        "",
    ]
    if repo_path:
        lines += ["[[repos]]", f'path = "{repo_path}"']
        if branch:
            lines.append(f'branches = ["{branch}"]')
        lines.append("")
    lines += [
        "# [[people]]",
        '# handle = "alice"',
        '# name = "Alice Liddell"',
        '# emails = ["alice@acme.io"]',
        '# github = "alice"',
        '# timezone = "Europe/Berlin"',
        "",
    ]
    return "\n".join(lines)


def init(
    ctx: typer.Context,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Take the defaults; ask nothing.")] = False,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing teamops.toml.")] = False,
) -> None:
    """Write ./teamops.toml (asking a few questions on a terminal) and create the database.

    \b
    Example:
      teamops init --yes            # defaults: ./teamops.db and the repository you stand in
    """

    st = state(ctx)
    out = st.output()
    target = Path(st.config_flag or "teamops.toml")
    if target.exists() and not force:
        raise UsageError(f"{target} already exists", "pass --force to overwrite it")
    db_path = st.db_flag or "teamops.db"
    repo_path: str | None = "."
    branch: str | None = None
    try:
        branch = GitRepo.open(Path.cwd()).current_branch()
    except Exception:
        repo_path = None
    if branch == "HEAD":
        branch = None
    interactive = not yes and sys.stdin.isatty()
    if interactive:
        db_path = typer.prompt("Database file", default=db_path)
        repo_path = typer.prompt("Local repository to sync", default=repo_path or ".") or None
        if repo_path:
            branch = typer.prompt("Branch", default=branch or "main") or None
    target.write_text(render_config(db_path, repo_path, branch), encoding="utf-8")
    example = target.with_name("teamops.toml.example")
    if not example.exists():  # the reference the new file points to, from the installed package
        example.write_text(
            files("teamops").joinpath("teamops.toml.example").read_text(encoding="utf-8"), encoding="utf-8"
        )
    db_file = Path(db_path) if Path(db_path).is_absolute() else target.parent / db_path
    existed = db_file.exists()
    db = open_database(db_file)
    try:
        _, commits, merges = counts(db)
        people = int(db.execute("SELECT COUNT(*) FROM people").fetchone()[0])
    finally:
        db.conn.close()
    nxt = "teamops sync-commits && teamops kpi"
    if not repo_path:
        nxt = f'add a [[repos]] entry to {target} (path = "..." or github = "owner/name"), then {nxt}'
    if existed:
        what = f"kept the existing {db_file} ({count(commits, 'commit')}, {count(merges, 'merge')}, " + (
            f"{count(people, 'person', 'people')})"
        )
    else:
        what = f"created {db_file}"
    out.message(f"wrote {target} and {example.name}, {what}; next: {nxt}")
    if not existed:
        st.ignore_hint(db_file)


def register(app: typer.Typer) -> None:
    app.command("init")(init)
