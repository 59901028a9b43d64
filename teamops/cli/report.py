"""`teamops report html`: the dashboard as a static site, for GitHub Pages or any folder."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Annotated

import typer

from teamops.cli.options import IncludeBotsOpt, group_help
from teamops.cli.state import state
from teamops.clock import now
from teamops.errors import UsageError
from teamops.wording import count

app = typer.Typer(
    help=group_help(
        "Reports as files: the team dashboard as a static site.",
        "teamops report html --out site",
    ),
    no_args_is_help=True,
)


@app.command("html")
def html_cmd(
    ctx: typer.Context,
    out: Annotated[Path, typer.Option("--out", help="The folder to write the site into (made if missing).")],
    emails: Annotated[
        bool, typer.Option("--emails", help="Show email addresses (left out by default: pages are often public).")
    ] = False,
    include_bots: IncludeBotsOpt = False,
) -> None:
    """Write the dashboard: an index, then a page per team, repository and person, each readable from disk.

    Each section is the report a `teamops kpi` command prints (named on the page), its chart drawn
    as SVG at build time: no script, no font and no request leaves a page. People and repositories
    matching `[report] exclude` get no page and no row.

    Example: teamops report html --out site && open site/index.html
    """
    from teamops.render.site import build

    st = state(ctx)
    _writable(out)
    started = time.monotonic()
    written = build(st.reader, st.config, out, now(), emails=emails, include_bots=include_bots)
    index = out / "index.html"
    st.output(None).message(
        f"wrote {count(len(written), 'page')} to {out} in {time.monotonic() - started:.1f} s; open {index}"
    )


def _writable(out: Path) -> None:
    """A folder the site can go into, checked before anything is built."""
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out} is a file, not a folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"cannot make --out {out}: {exc.strerror}") from None
    if not os.access(out, os.W_OK | os.X_OK):
        raise UsageError(f"cannot write into --out {out}: permission denied")
