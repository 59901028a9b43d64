"""One renderer for every command: table, JSON, CSV or Markdown on stdout; messages on stderr."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import sys
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any, TextIO

from teamops.cli.table import render, wrapped
from teamops.reports.model import Report, filled, shown


def _plain(value: Any) -> str:
    """CSV cells: machine-friendly (no thousands separators)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return ";".join(_plain(v) for v in value)
    if isinstance(value, str) and value[:1] in FORMULA_STARTS:
        return "'" + value  # text that a spreadsheet would run as a formula stays text (OWASP's advice)
    return str(value)


# A cell a spreadsheet reads as a formula when it starts with one of these (numbers are not strings here).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


# Strict JSON: NaN or Infinity can never reach a consumer (the encoder refuses them).
_ENCODER = json.JSONEncoder(ensure_ascii=False, default=str, allow_nan=False)


def to_json(value: Any, indent: str = "") -> str:
    """JSON with one record per line: nested structure indented, flat objects and lists on one line.

    As readable as fully indented JSON for reports of many rows, and written by json's C encoder
    (which `indent=` would switch off) so a 20,000-row report prints in milliseconds.
    """
    if _flat(value):
        return _ENCODER.encode(value)
    inner = indent + "  "
    if isinstance(value, dict):
        parts = [f"{inner}{_ENCODER.encode(str(k))}: {to_json(v, inner)}" for k, v in value.items()]
        return "{\n" + ",\n".join(parts) + "\n" + indent + "}"
    return "[\n" + ",\n".join(f"{inner}{to_json(v, inner)}" for v in value) + "\n" + indent + "]"


def _flat(value: Any) -> bool:
    """A scalar, or an object or list holding no objects or lists."""
    if isinstance(value, dict):
        value = value.values()
    elif not isinstance(value, list):
        return True
    return {type(item) for item in value}.isdisjoint((dict, list))


def _is_ci(env: dict[str, str] | os._Environ[str]) -> bool:
    return bool(env.get("CI")) or bool(env.get("GITHUB_ACTIONS"))


class Output:
    """Where every command sends data, messages and progress."""

    def __init__(
        self,
        fmt: str = "table",
        quiet: bool = False,
        verbose: bool = False,
        stdout: TextIO | None = None,
        stderr: TextIO | None = None,
    ) -> None:
        self.fmt = fmt
        self.quiet = quiet
        self.verbose = verbose
        self.stdout = stdout or sys.stdout
        self.stderr = stderr or sys.stderr
        self._tables = 0  # tables already printed: the next one is set off by a blank line

    @property
    def tty(self) -> bool:
        return hasattr(self.stdout, "isatty") and self.stdout.isatty()

    def width(self) -> int | None:
        """A terminal's width; piped, the width COLUMNS names, else none (a script reads every cell whole)."""
        if self.tty:
            return shutil.get_terminal_size().columns
        columns = os.environ.get("COLUMNS", "").strip()
        return int(columns) if columns.isdigit() and 20 <= int(columns) <= 10_000 else None

    @property
    def color(self) -> bool:
        """Bold headers and coloured charts: on a terminal, unless NO_COLOR is set."""
        return self.tty and not os.environ.get("NO_COLOR")

    def report(self, report: Report) -> None:
        """Render rows in the chosen format; JSON is stable and documented."""
        if self.fmt == "json":
            payload = {"report": report.name, **report.meta, "rows": report.rows}
            if report.more:
                payload["more"] = report.more
            self.stdout.write(to_json(payload) + "\n")
        elif self.fmt == "csv":
            buf = io.StringIO()
            writer = csv.writer(buf, lineterminator="\n")
            writer.writerow([c.key for c in report.columns])
            for row in report.rows:
                writer.writerow([_plain(row.get(c.key)) for c in report.columns])
            self.stdout.write(buf.getvalue())
        elif self.fmt == "markdown":
            self.stdout.write(self.markdown(report))
        else:
            self._table(report)
        self.stdout.flush()

    def markdown(self, report: Report) -> str:
        lines = []
        if report.title:
            lines += [f"### {report.title}", ""]
        if not report.rows:
            return "\n".join([*lines, f"_{_md(report.empty)}_", ""]) + "\n"
        columns = filled(report)
        lines.append("| " + " | ".join(c.header for c in columns) + " |")
        lines.append("|" + "|".join("---:" if c.numeric else "---" for c in columns) + "|")
        for row in report.rows:
            cells = [_md(shown(row, c)) for c in columns]
            lines.append("| " + " | ".join(cells) + " |")
        if report.more:
            lines += ["", f"… and {report.more:,} more (--limit 0 shows all)"]
        if report.footer:
            lines += ["", report.footer]
        return "\n".join(lines) + "\n\n"

    def _table(self, report: Report) -> None:

        if not report.rows:
            self.stdout.write(report.empty + "\n")
            return
        cols = filled(report)
        if self._tables:
            self.stdout.write("\n")
        self._tables += 1
        self.stdout.write(
            render(
                [c.header for c in cols],
                [c.numeric for c in cols],
                [[shown(row, c) for c in cols] for row in report.rows],
                title=report.title,
                max_width=self.width(),
                bold=self.color,
                cuttable=[c.cut for c in cols],
                drop=[c.drop for c in cols],
                wrap=[c.wrap for c in cols],
            )
        )
        if report.more:
            self.stdout.write(f"… and {report.more:,} more (--limit 0 shows all)\n")
        if report.footer:
            width = self.width()
            lines = report.footer.splitlines()
            if width:
                lines = [part for line in lines for part in (wrapped(line, width) if line else [""])]
            self.stdout.write("\n".join(lines) + "\n")

    def data(self, payload: dict[str, Any], text: str) -> None:
        """A single result: JSON when asked, else one human line."""
        if self.fmt == "json":
            self.stdout.write(to_json(payload) + "\n")
        else:
            self.stdout.write(text + "\n")

    def message(self, text: str) -> None:
        """Status for humans, on stderr; silent with --quiet."""
        if not self.quiet:
            self.stderr.write(text + "\n")
            self.stderr.flush()

    def detail(self, text: str) -> None:
        """Extra status shown only with --verbose."""
        if self.verbose and not self.quiet:
            self.stderr.write(text + "\n")

    def error(self, text: str) -> None:
        """The one line an expected failure prints."""
        self.stderr.write(f"error: {text}\n")
        self.stderr.flush()

    @contextmanager
    def progress(self, label: str) -> Iterator[Callable[[int, int | None], None] | None]:
        """A progress bar on a terminal; None (nothing to report to) in cron, CI or with --quiet."""
        with self.progress_board() as board, board(label) as update:
            yield update

    @contextmanager
    def progress_board(self) -> Iterator[Callable[[str], AbstractContextManager[Any]]]:
        """One live board with a bar per task (repositories synced side by side); `board(label)` adds one."""
        show = not self.quiet and hasattr(self.stderr, "isatty") and self.stderr.isatty() and not _is_ci(os.environ)
        if not show:
            yield lambda label: nullcontext(None)
            return
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

        with Progress(
            "[progress.description]{task.description}",
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=Console(file=self.stderr, highlight=False),
            transient=True,
        ) as bar:

            @contextmanager
            def one(label: str) -> Iterator[Callable[[int, int | None], None]]:
                task = bar.add_task(label, total=None)

                def update(advance: int, total: int | None) -> None:
                    if total is not None:
                        bar.update(task, total=total)
                    if advance:
                        bar.advance(task, advance)

                try:
                    yield update
                finally:
                    bar.remove_task(task)

            yield one


def _md(text: str) -> str:
    """Escape what Markdown tables and HTML would swallow (pipes, angle brackets)."""
    return text.replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")
