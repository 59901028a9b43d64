"""Review nudges: a requested reviewer whose pull requests waited longer than `[reviews] sla` working hours
gets one message listing them; each pull request at most once per reviewer and local day."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from teamops.clock import parse_iso
from teamops.config import WEEKDAYS, Config
from teamops.messages.message import Message, code, data, lines, rich
from teamops.messages.reminders import Planned, channels_for, queue_plans, recipients
from teamops.store.pulls import Waiting, nudged, save_nudges, waiting_reviews
from teamops.wording import count

if TYPE_CHECKING:
    from sqlite_utils import Database

    from teamops.store.reader import Reader


def working_hours(start: datetime, end: datetime, tz: ZoneInfo, days: set[int], opens: str, closes: str) -> float:
    """Hours of the working day (`opens`–`closes` on `days`, in `tz`) between two moments."""
    if end <= start:
        return 0.0
    open_h, open_m = (int(x) for x in opens.split(":"))
    close_h, close_m = (int(x) for x in closes.split(":"))
    local, last = start.astimezone(tz), end.astimezone(tz)
    total = 0.0
    day = local.date()
    while day <= last.date():
        if day.weekday() in days:
            begin = datetime(day.year, day.month, day.day, open_h, open_m, tzinfo=tz)
            finish = datetime(day.year, day.month, day.day, close_h, close_m, tzinfo=tz)
            lo, hi = max(begin, local), min(finish, last)
            if hi > lo:
                total += (hi - lo).total_seconds() / 3600
        day += timedelta(days=1)
    return total


def plan_reviews(db: Reader, cfg: Config, now: datetime, *, handle: str | None = None) -> list[Planned]:
    """One planned nudge per reviewer (a person teamops knows by their account) whose requests waited too long."""
    rules = cfg.reviews
    days = {WEEKDAYS.index(d.lower()) for d in cfg.kpi.working_days}
    by_login = {p.handle: p for p in recipients(db, cfg, handle, None)}
    waiting: dict[str, list[tuple[Waiting, float]]] = {}
    for w in waiting_reviews(db):
        person = by_login.get(w.handle or "")
        if person is None:
            continue
        tz = ZoneInfo(person.timezone)
        waited = working_hours(parse_iso(w.requested_at), now, tz, days, rules.work_starts, rules.work_ends)
        if waited >= rules.sla:
            waiting.setdefault(person.handle, []).append((w, waited))
    plans = []
    for handle_, items in sorted(waiting.items()):
        person = by_login[handle_]
        tz = ZoneInfo(person.timezone)
        local = now.astimezone(tz).date().isoformat()
        plan = Planned(person.handle, local, person.timezone)
        plans.append(plan)
        done = nudged(db, local, items[0][0].reviewer)
        fresh = [(w, h) for w, h in items if (w.repo_id, w.number) not in done]
        if not fresh:
            plan.skipped = "every waiting pull request was nudged earlier today"
            continue
        rows = [
            rich(
                f"{w.repo} #{w.number} ",
                data(w.title),
                f", waiting {h:.0f} working hours",
                *((" (by ", data(w.author), ")") if w.author else ()),
            )
            for w, h in fresh[:20]
        ]
        if len(fresh) > 20:
            rows.append(rich(f"and {len(fresh) - 20} more."))
        rows.append(rich("Review them, or hand them on: ", code("teamops kpi reviews"), " shows the load."))
        digest = hashlib.sha256(",".join(f"{w.repo_id}#{w.number}" for w, _ in fresh).encode()).hexdigest()[:12]
        plan.message = Message(
            kind="review_reminder",
            key=f"reviews:{person.handle}:{local}:{digest}",
            title=f"{count(len(fresh), 'pull request')} waiting for your review, {person.name or person.handle}",
            body=lines(*rows),
            fields={"waiting": str(len(fresh)), "longest (working h)": f"{max(h for _, h in fresh):.0f}"},
            people=[person.handle],
            severity="warning",
        )
        plan.channels = channels_for(cfg, person, "review_reminder")
        plan.covers = [(w.repo_id, w.number, w.reviewer) for w, _ in fresh]
    return plans


def claim_nudges(db: Database, plan: Planned) -> str | None:
    """Record the pull requests a nudge names, inside its transaction; None, or why another run already did."""
    reviewer = plan.covers[0][2]
    done = nudged(db, plan.local_date, reviewer)
    if any((repo_id, number) in done for repo_id, number, _ in plan.covers):
        return "nudged earlier today (by another run)"
    save_nudges(db, plan.local_date, reviewer, [(repo_id, number) for repo_id, number, _ in plan.covers])
    return None


def queue_review_plans(db: Database, cfg: Config, plans: list[Planned]) -> tuple[list[int], int, int]:
    """Each nudge with the record of the pull requests it names, in one transaction (new ids, queued, earlier)."""
    return queue_plans(db, cfg, plans, claim_nudges)
