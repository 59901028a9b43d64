"""The `teamops` command: global options, sub-commands, and errors mapped to exit codes in one place."""

from __future__ import annotations

import errno
import functools
import importlib
import os
import signal
import sqlite3
import sys
import traceback
from collections.abc import Sequence
from typing import Annotated, Any

import typer
import typer.main
from typer._click.exceptions import ClickException, NoArgsIsHelpError, NoSuchOption
from typer.core import TyperGroup
from typer.exceptions import Abort

from teamops import __version__, clock
from teamops.cli.global_options import finish
from teamops.cli.lazy import LazyCommands, lazy_group
from teamops.cli.options import Format
from teamops.cli.output import Output
from teamops.cli.state import AppState, state
from teamops.errors import ConfigError, ExitCode, TeamopsError, Terminated
from teamops.runtime import read_runtime


def closest_options(wrong: str, possibilities: Sequence[str]) -> list[str]:
    """The option or options nearest to a mistyped one: `--repos` suggests `--repo`, not `--help` and `--verbose`."""
    import difflib

    score = {p: difflib.SequenceMatcher(None, wrong, p).ratio() for p in possibilities}
    best = max(score.values())
    return sorted(p for p, s in score.items() if s >= best - 0.05)


def _is_click_control(exc: BaseException) -> bool:
    """Exit, Abort and usage errors belong to the CLI framework (Typer ships its own Click)."""
    return isinstance(exc, ClickException | typer.Exit | Abort)


def _debug_wanted(ctx: typer.Context) -> bool:
    obj = ctx.find_root().obj
    if isinstance(obj, AppState) and obj.debug:
        return True
    if "--debug" in sys.argv[1:]:
        return True
    return read_runtime(os.environ).debug


# Where each top-level command lives, in the order `--help` lists them: "module:app" names a Typer
# sub-app, "module:register" a function that adds top-level commands. Loaded on first use only.
COMMANDS = {
    "sync-commits": "commits:register",
    "sync-tasks": "tasks:register",
    "analyze": "analyze:register",
    "gen-doc": "docs:register",
    "init": "init:register",
    "doctor": "doctor:register",
    "people": "people:app",
    "kpi": "kpi:app",
    "task": "tasks:app",
    "sprint": "sprints:app",
    "raci": "raci:app",
    "remind": "remind:app",
    "mastery": "mastery:app",
    "notify": "notify:app",
    "job": "job:app",
    "config": "config_cmd:app",
    "deploy": "deploy:app",
    "incident": "incident:app",
    "state": "state_cmd:app",
    "shard": "shard:app",
    "merge": "shard:register",
    "report": "report:app",
}


@functools.cache
def _registered(module_name: str) -> Any:
    """The top-level commands one module's register() adds, built once even when --help lists them all."""
    holder = typer.Typer()
    importlib.import_module(f"teamops.cli.{module_name}").register(holder)
    return typer.main.get_group(holder).commands


def _load_command(name: str) -> Any:
    """Import one command's module and build its Click command; the rest of the CLI stays unimported."""
    module_name, attr = COMMANDS[name].split(":")
    if attr == "register":
        return finish(_registered(module_name)[name])
    module = importlib.import_module(f"teamops.cli.{module_name}")
    return finish(lazy_group(getattr(module, attr), name, getattr(module, "LOCATED_COMMANDS", None)))


class TeamopsGroup(TyperGroup):
    """Turns expected errors into one line and the documented exit code; tracebacks only on --debug."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.commands = LazyCommands({name: functools.partial(_load_command, name) for name in COMMANDS})

    def main(  # type: ignore[override]
        self,
        args: Any = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **kwargs: Any,
    ) -> Any:
        """Usage errors as one line (`error: ...`, exit 2) instead of a framed panel."""

        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **kwargs)
        try:
            code = super().main(args, prog_name, complete_var, standalone_mode=False, **kwargs)
        except NoArgsIsHelpError as exc:  # `teamops kpi`-style groups without a command: their help
            from typer import rich_utils  # rich's help renderer: heavy, and needed only here

            rich_utils.rich_format_error(exc)
            sys.exit(exc.exit_code)
        except ClickException as exc:
            where = getattr(getattr(exc, "ctx", None), "command_path", None)
            hint = f" (see `{where} --help`)" if where else ""
            if isinstance(exc, NoSuchOption) and exc.possibilities:
                exc.possibilities = closest_options(exc.option_name, exc.possibilities)
            Output().error(" ".join(exc.format_message().split()) + hint)
            sys.exit(exc.exit_code)
        except Abort:
            Output().error("interrupted")
            sys.exit(ExitCode.INTERRUPTED)
        sys.exit(code if isinstance(code, int) else 0)

    def invoke(self, ctx: typer.Context) -> Any:  # type: ignore[override]
        try:
            return super().invoke(ctx)
        except TeamopsError as exc:
            _traceback_if_asked(ctx)
            Output().error(str(exc))
            raise typer.Exit(exc.exit_code) from None
        except sqlite3.DatabaseError as exc:
            _traceback_if_asked(ctx)
            code, message = database_problem(exc, _db_name(ctx))
            Output().error(message)
            raise typer.Exit(code) from None
        except BrokenPipeError:
            # `teamops kpi | head`: the reader left; say nothing more and end like a piped tool.
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            raise typer.Exit(ExitCode.BROKEN_PIPE) from None
        except OSError as exc:
            _traceback_if_asked(ctx)
            Output().error(file_problem(exc))
            raise typer.Exit(ExitCode.CONFIG) from None
        except RecursionError:
            _traceback_if_asked(ctx)
            Output().error("the input is nested too deeply to read")
            raise typer.Exit(ExitCode.INVALID_INPUT) from None
        except KeyboardInterrupt as exc:
            terminated = isinstance(exc, Terminated)
            Output().error(f"{'terminated' if terminated else 'interrupted'}; everything already stored is kept")
            raise typer.Exit(ExitCode.TERMINATED if terminated else ExitCode.INTERRUPTED) from None
        except Exception as exc:
            if _is_click_control(exc):
                raise
            _traceback_if_asked(ctx)
            Output().error(f"unexpected {type(exc).__name__}: {exc} (run with --debug for the traceback)")
            raise typer.Exit(ExitCode.INTERNAL) from None


def _db_name(ctx: typer.Context) -> str:
    obj = ctx.find_root().obj
    if isinstance(obj, AppState) and obj._config is not None:
        return str(obj._config.db_path())
    return "the database"


def database_problem(exc: sqlite3.DatabaseError, where: str) -> tuple[int, str]:
    """SQLite's failures as a user can act on them; anything else is a bug (exit 70)."""
    from teamops.store.database import DAMAGED

    text = str(exc)
    if "locked" in text or "busy" in text:
        return ExitCode.LOCKED, "the database is busy with another teamops run; try again later"
    if "not a database" in text:
        return ExitCode.CONFIG, f"{where} is not a SQLite database; choose another --db"
    if "full" in text:
        return ExitCode.CONFIG, f"the disk holding {where} is full; nothing was lost, free space and run again"
    if "readonly" in text or "unable to open" in text or "read-only" in text:
        return ExitCode.CONFIG, f"cannot write {where}: {text} (check the folder's permissions, or choose --db)"
    if any(sign in text for sign in DAMAGED):
        return ExitCode.INVALID_INPUT, (
            f"{where} is damaged ({text}); restore it with `teamops state restore` or from a backup, "
            "or start a new --db"
        )
    return ExitCode.INTERNAL, f"unexpected database error: {text} (run with --debug for the traceback)"


def file_problem(exc: OSError) -> str:
    """A file or folder teamops could not use, named, with what to do."""

    where = exc.filename or "a file"
    if exc.errno == errno.ENOSPC:
        return f"the disk holding {where} is full; nothing was lost, free space and run again"
    return f"cannot use {where}: {exc.strerror or exc}"


def _traceback_if_asked(ctx: typer.Context) -> None:
    """--debug shows the traceback and changes nothing else: the exit code stays the documented one."""
    if _debug_wanted(ctx):
        traceback.print_exc(file=sys.stderr)


app = typer.Typer(
    cls=TeamopsGroup,
    name="teamops",
    help="What your team ships and how it works: commits, estimates, tasks and KPIs in one SQLite file.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
    epilog="Global options work before or after the command: teamops kpi activity -f json --db team.db",
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"teamops {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    db: Annotated[
        str | None,
        typer.Option("--db", help="Database file (env TEAMOPS_DB; default ./teamops.db).", show_default=False),
    ] = None,
    config: Annotated[
        str | None,
        typer.Option("--config", help="Config file (env TEAMOPS_CONFIG; default ./teamops.toml)."),
    ] = None,
    fmt: Annotated[
        Format | None,
        typer.Option("--format", "-f", help="Output format: table, json, csv or markdown."),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress or status lines.")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="More status lines.")] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks (or TEAMOPS_DEBUG=1).")] = False,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit."),
    ] = False,
) -> None:
    """teamops: commits, estimates, tasks with RACI and KPIs for small teams, in one SQLite file."""
    # Secrets come from the environment; a .env beside the work never overrides what is set.
    env_file = os.path.join(os.getcwd(), ".env")
    if os.path.isfile(env_file):
        from dotenv import load_dotenv

        try:
            _check_env_file(env_file)
            load_dotenv(env_file, override=False)
        except (UnicodeDecodeError, ValueError, OSError) as exc:
            reason = "not UTF-8 text" if isinstance(exc, UnicodeDecodeError) else str(exc)
            raise ConfigError(f"{env_file} cannot be read as a .env file: {reason}", "fix or remove it") from None
    st = state(ctx)
    runtime = read_runtime(os.environ)
    clock.pin(runtime.now)  # read once, for the whole run
    st.db_flag, st.config_flag = db, config
    st.fmt = fmt.value if fmt else runtime.fmt
    st.quiet = quiet or runtime.quiet
    st.verbose, st.debug = verbose, debug
    ctx.call_on_close(st.close)


# A .env holds a handful of settings; python-dotenv's parser (and its ${VAR} expansion) grows worse
# than linearly, so a file past these bounds is refused instead of read for minutes.
ENV_FILE_MAX_BYTES = 256 * 1024
ENV_FILE_MAX_LINES = 2_000


def _check_env_file(path: str) -> None:
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        lines = f.read(ENV_FILE_MAX_BYTES + 1).count(b"\n")
    if size > ENV_FILE_MAX_BYTES or lines > ENV_FILE_MAX_LINES:
        raise ConfigError(
            f"{path} is too large for a .env file ({size:,} bytes, {lines:,}+ lines; at most "
            f"{ENV_FILE_MAX_BYTES // 1024} KiB and {ENV_FILE_MAX_LINES:,} lines are read)",
            "keep only settings and secrets in it",
        )


def _terminated(signum: int, frame: object) -> None:
    raise Terminated()


def main() -> None:
    """Console-script entry point: SIGTERM (a CI cancel, systemd stop, kill) ends a run as Ctrl-C does."""
    signal.signal(signal.SIGTERM, _terminated)
    app(prog_name="teamops")
