"""Global options anywhere on the line (`teamops kpi --db x.db -q`), and help text shown as written."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import typer
from typer._click import types as click_types
from typer.core import HAS_RICH, TyperGroup, TyperOption

from teamops.cli.lazy import LazyCommands
from teamops.cli.options import Format
from teamops.cli.state import state

FORMATS = [f.value for f in Format]


def _setter(attr: str) -> Callable[[Any, Any, Any], None]:
    def set_value(ctx: typer.Context, param: Any, value: Any) -> None:
        if value in (None, False):
            return
        if attr == "fmt" and value not in FORMATS:
            raise typer.BadParameter(f"{value!r} is not one of {', '.join(FORMATS)}", ctx=ctx, param=param)
        setattr(state(ctx), attr, value)

    return set_value


def _options() -> list[TyperOption]:
    """The root's options, repeated (hidden) on every command: each sets the invocation's state."""
    flag = {"is_flag": True, "default": False, "type": click_types.BOOL}
    text = {"type": click_types.STRING, "default": None}
    specs: list[tuple[list[str], str, dict[str, Any]]] = [
        (["--db"], "db_flag", text),
        (["--config"], "config_flag", text),
        (["--format", "-f"], "fmt", text),
        (["--quiet", "-q"], "quiet", flag),
        (["--verbose", "-v"], "verbose", flag),
        (["--debug"], "debug", flag),
    ]
    return [
        TyperOption(
            param_decls=[f"global_{attr}", *decls],
            callback=_setter(attr),
            expose_value=False,
            hidden=True,
            help="Global option (see teamops --help).",
            **kwargs,
        )
        for decls, attr, kwargs in specs
    ]


def finish(command: Any) -> Any:
    """A built command made whole: global options added, help escaped; a group's children as they load.

    Once per command object: commands built once are shared by every run in a process, and escaping
    twice would double the backslashes each time (in a long-lived process, without end).
    """
    if getattr(command, "_teamops_finished", False):
        return command
    command._teamops_finished = True
    taken = {opt for param in command.params for opt in getattr(param, "opts", [])}
    for option in _options():
        if not taken & set(option.opts):
            command.params.append(option)
    command.help = _plain(command.help)
    command.short_help = _plain(command.short_help)
    for param in command.params:
        if getattr(param, "help", None):
            param.help = _plain(param.help)
    if isinstance(command, TyperGroup) and isinstance(command.commands, LazyCommands):
        command.commands.wrap(finish)
    return command


# What rich would read as a markup tag (its own escape rule, without importing rich at start-up).
TAG = re.compile(r"(\\*)(\[[a-z#/@][^[]*?])")


def _plain(text: str | None) -> str | None:
    """Help is text, not rich markup: `[jobs.NAME]` must show as written."""
    if not text or not HAS_RICH:  # plain help (TYPER_USE_RICH=0) shows text as it is
        return text
    return TAG.sub(lambda m: m.group(1) * 2 + "\\" + m.group(2), text)
