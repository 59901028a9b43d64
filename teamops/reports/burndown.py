"""A sprint's burndown as a report: remaining points per day against the ideal line."""

from __future__ import annotations

from typing import TYPE_CHECKING

from teamops.clock import now
from teamops.kpi.burndown import Burndown, burndown
from teamops.reports.model import Chart, Column, Report
from teamops.wording import count, number

if TYPE_CHECKING:
    from teamops.config import Config
    from teamops.store.reader import Reader


def burndown_report(db: Reader, cfg: Config, name: str) -> Report:
    """A sprint's remaining points per day against the ideal line, drawn as bars and a line."""
    data = burndown(db, cfg, name, now())
    labels = [d.date for d in data.days]
    return Report(
        name="burndown",
        rows=[d.row() for d in data.days],
        title=f"Burndown: {name} ({data.start} to {data.end})",
        columns=[
            Column("date", "Day"),
            Column("working_day", "Working"),
            Column("remaining", "Remaining", numeric=True),
            Column("ideal", "Ideal", numeric=True),
            Column("scope", "Scope", numeric=True),
            Column("unpointed_tasks", "Unpointed", numeric=True),
        ],
        meta=data.meta(),
        footer=burndown_footer(data),
        # Remaining as bars: days still to come have none (a line cannot have gaps in Mermaid).
        chart=Chart(
            f"Burndown: {name}",
            labels,
            {"remaining": [d.remaining for d in data.days]},
            {"ideal": [d.ideal or 0.0 for d in data.days]},
            mermaid_labels=[label[5:] for label in labels],
            mermaid_title=f"Burndown {name}",
            levels=True,
        ),
    )


def burndown_footer(data: Burndown) -> str:
    lines = [f"committed {number(data.committed)} points; {count(data.working_days_left, 'working day')} left"]
    if data.remaining is not None:
        lines.append(
            f"as of {data.as_of}: {number(data.remaining)} remaining vs {number(data.ideal_now)} ideal → {data.trend}"
        )
    for change in data.scope_changes:
        line = f"scope: {change['at'][:10]} {change['task']} {change['change']}"
        if change["change"] == "re-estimated":
            line += f" ({change['old'] or '-'} → {change['new'] or '-'})"
        lines.append(line)
    return "\n".join(lines)
