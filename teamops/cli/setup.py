"""`teamops init` and `teamops doctor`: start a project and check that it works."""

from __future__ import annotations

import sys
from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer

from teamops.cli.options import FormatOpt, fmt_value
from teamops.cli.output import Column, Report
from teamops.cli.state import state
from teamops.errors import Findings, UsageError
from teamops.wording import count


def render_config(db_path: str, repo_path: str | None, branch: str | None) -> str:
    """A small starting config: the store, one repository, and pointers to the example."""
    lines = [
        "# teamops configuration; every key is documented in teamops.toml.example.",
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
    from teamops.integrations.git_local import GitRepo
    from teamops.store.database import open_database

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
    db_file = Path(db_path) if Path(db_path).is_absolute() else target.parent / db_path
    open_database(db_file).conn.close()
    out.message(f"wrote {target} and created {db_file}; next: teamops sync-commits && teamops kpi")


def doctor(
    ctx: typer.Context,
    offline: Annotated[bool, typer.Option("--offline", help="Do not contact any service.")] = False,
    fmt: FormatOpt = None,
) -> None:
    """Check the config, the database, git, each repository and each configured service; exit 1 on a problem.

    GitHub and ClickUp get one read-only request each (none with --offline); models and webhooks are
    only checked for their keys and URLs, since a call would cost money or post a message.

    \b
    Example:
      teamops doctor --offline     # config, database, git and repositories only
    """
    from teamops.doctor import Check, run_checks
    from teamops.errors import TeamopsError

    st = state(ctx)
    out = st.output(fmt_value(fmt))
    try:
        cfg = st.config
    except TeamopsError as exc:
        checks = [Check("config", False, str(exc))]
    else:
        checks = [
            Check("config", True, str(cfg.file or "no file; defaults")),
            *run_checks(cfg, lambda: st.db, offline=offline),
        ]
    out.report(
        Report(
            name="doctor",
            rows=[asdict(c) for c in checks],
            columns=[Column("check", "Check"), Column("ok", "OK"), Column("detail", "Detail", cut=True)],
            meta={"offline": offline},
        )
    )
    failed = [c.check for c in checks if not c.ok]
    if failed:
        raise Findings(f"{count(len(failed), 'check')} failed: {', '.join(failed)}")


def register(app: typer.Typer) -> None:
    app.command("init")(init)
    app.command("doctor")(doctor)
