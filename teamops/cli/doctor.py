"""`teamops doctor`: check the config, the database, git, the repositories and each configured service."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

import typer

from teamops.cli.options import FormatOpt, fmt_value
from teamops.cli.state import state
from teamops.doctor import Check, run_checks
from teamops.errors import Findings, TeamopsError
from teamops.reports.model import Column, Report
from teamops.wording import count


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

    st = state(ctx)
    out = st.output(fmt_value(fmt))
    try:
        cfg = st.config
    except TeamopsError as exc:
        checks = [Check("config", False, str(exc))]
    else:
        checks = [
            Check("config", True, str(cfg.file or "no file; defaults")),
            *run_checks(cfg, lambda: st.reader, offline=offline),
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
    app.command("doctor")(doctor)
