"""Commands built on first use: `teamops kpi burndown` imports and builds one command, not the whole CLI."""

from __future__ import annotations

import copy
import functools
import importlib
from collections.abc import Callable, Iterator, Mapping, MutableMapping
from typing import Any

import typer
import typer.main
from typer.core import TyperGroup
from typer.models import CommandInfo


class LazyCommands(MutableMapping[str, Any]):
    """A group's command table: every name known up front (for --help and suggestions), each built when asked."""

    def __init__(self, loaders: Mapping[str, Callable[[], Any]]) -> None:
        self._loaders = dict(loaders)
        self._built: dict[str, Any] = {}
        self._finish: Callable[[Any], Any] = lambda command: command

    def wrap(self, finish: Callable[[Any], Any]) -> None:
        """Pass every command through `finish` once, when it is built (or now, if it already is)."""
        self._finish = finish
        for name, command in self._built.items():
            self._built[name] = finish(command)

    def __getitem__(self, name: str) -> Any:
        if name not in self._built:
            if name not in self._loaders:
                raise KeyError(name)
            self._built[name] = self._finish(self._loaders[name]())
        return self._built[name]

    def __setitem__(self, name: str, command: Any) -> None:
        self._built[name] = command

    def __delitem__(self, name: str) -> None:
        self._loaders.pop(name, None)
        del self._built[name]

    def __iter__(self) -> Iterator[str]:
        return iter([*self._loaders, *(n for n in self._built if n not in self._loaders)])

    def __len__(self) -> int:
        return len(set(self._loaders) | set(self._built))


def lazy_group(app: typer.Typer, name: str, located: Mapping[str, str] | None = None) -> TyperGroup:
    """A Typer sub-app as a Click group whose commands are converted from their signatures on first use.

    `located` names commands kept in modules of their own ("name": "package.module:function"): such a
    module is imported only when its command runs or help lists it.
    """
    shell = copy.copy(app)
    shell.registered_commands = []
    group = typer.main.get_group(shell)
    group.name = name
    build = functools.partial(
        typer.main.get_command_from_info,
        pretty_exceptions_short=app.pretty_exceptions_short,
        rich_markup_mode=app.rich_markup_mode,
    )
    loaders: dict[str, Callable[[], Any]] = {}
    for info in app.registered_commands:
        command_name = info.name or typer.main.get_command_name(getattr(info.callback, "__name__", ""))
        loaders[command_name] = functools.partial(build, info)
    for command_name, where in (located or {}).items():
        loaders[command_name] = functools.partial(_build_located, build, command_name, where)
    group.commands = LazyCommands(loaders)
    return group


def _build_located(build: Callable[[CommandInfo], Any], name: str, where: str) -> Any:
    module_name, function = where.split(":")
    return build(CommandInfo(name=name, callback=getattr(importlib.import_module(module_name), function)))
