"""End-of-day and personal-mastery reminders: specific, in each person's own day, never twice."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from teamops.clock import parse_iso
from teamops.config import WEEKDAYS, Config
from teamops.errors import InvalidInput
from teamops.integrations.webhooks import render
from teamops.messages.message import Message, code, data, lines, rich
from teamops.store.commits import day_totals
from teamops.store.database import transaction
from teamops.store.mastery import due_by
from teamops.store.mastery import items as mastery_items
from teamops.store.outbox import save_message, statuses_of
from teamops.store.people import people, person_by_handle
from teamops.store.tasks import held_by

if TYPE_CHECKING:
    from sqlite_utils import Database

    from teamops.store.reader import Reader


@dataclass
class Recipient:
    """A person as reminders see them: who, where (timezone) and which team's channels."""

    id: int
    handle: str
    name: str | None
    timezone: str
    team: str | None


@dataclass
class Planned:
    """One reminder to queue, or why a person gets none."""

    handle: str
    local_date: str
    timezone: str
    message: Message | None = None
    skipped: str | None = None
    channels: list[str] = field(default_factory=list)
    covers: list[tuple[int, int, str]] = field(default_factory=list)  # review nudges: (repo id, number, login)


def recipients(db: Reader, cfg: Config, handle: str | None, team: str | None) -> list[Recipient]:
    """Active people (one by handle, or a team's); an unknown handle is invalid input (exit 5)."""
    if handle and person_by_handle(db, handle) is None:
        raise InvalidInput(f"no person with handle {handle!r}", "see `teamops people list`")
    return [
        Recipient(p.id, p.handle, p.name, p.timezone or cfg.reminders.default_timezone, p.team)
        for p in people(db, active=True, team=team, handle=handle)
    ]


def day_bounds(day: date, tz: ZoneInfo) -> tuple[str, str]:
    """A local calendar day as a UTC range, right across daylight-saving changes (23 or 25 hours)."""
    start = datetime.combine(day, time.min, tz)
    end = datetime.combine(day + timedelta(days=1), time.min, tz)
    fmt = "%Y-%m-%dT%H:%M:%SZ"
    return start.astimezone(ZoneInfo("UTC")).strftime(fmt), end.astimezone(ZoneInfo("UTC")).strftime(fmt)


def channels_for(cfg: Config, person: Recipient, kind: str) -> list[str]:
    """A person's team's own channels when it has some, else the message kind's routes."""
    return cfg.reminders.team_channels.get(person.team or "", []) or cfg.notify.routes.get(kind, [])


def _hours_since(since: str, now: datetime) -> float:
    return (now - parse_iso(since)).total_seconds() / 3600


def plan_eod(
    db: Database,
    cfg: Config,
    now: datetime,
    *,
    handle: str | None = None,
    team: str | None = None,
    day: date | None = None,
    force: bool = False,
) -> list[Planned]:
    """Each active person's end-of-day check-in for their local date, if it is a working day there."""
    working = {WEEKDAYS.index(d.lower()) for d in cfg.kpi.working_days}
    active = cfg.tasks.active_statuses
    blocked = cfg.tasks.blocked_statuses
    plans: list[Planned] = []
    for p in recipients(db, cfg, handle, team):
        tz = ZoneInfo(p.timezone)
        local = day or now.astimezone(tz).date()
        plan = Planned(p.handle, local.isoformat(), p.timezone)
        plans.append(plan)
        if local.weekday() not in working:
            plan.skipped = f"{local:%A} is not a working day"
            continue
        after = cfg.reminders.eod_after
        if after and day is None and not force and f"{now.astimezone(tz):%H:%M}" < after:
            plan.skipped = f"not {after} yet there ({now.astimezone(tz):%H:%M}); a later run sends it"
            continue
        start, end = day_bounds(local, tz)
        n, pts, adds, dels = day_totals(db, p.id, start, end)
        doing = [(r[0], r[1]) for r in held_by(db, p.id, ("R",), active)]
        stuck = held_by(db, p.id, ("R", "A"), blocked)
        week_end = local + timedelta(days=6 - local.weekday())
        due = [(i.id, i.title, i.due) for i in due_by(db, p.id, week_end.isoformat())]
        if not (n or doing or stuck or due) and not cfg.reminders.send_when_empty:
            plan.skipped = "nothing to report ([reminders] send_when_empty = false)"
            continue
        rows = []
        commits_line = f"{n} commit{'s' if n != 1 else ''} today" if n else "No commits today"
        if n:
            commits_line += f" (+{adds or 0}/-{dels or 0} lines" + (f", {pts:g} AI points)" if pts else ")")
        rows.append(rich(commits_line + "."))
        if doing:
            items = [part for tid, title in doing[:10] for part in ("; ", f"#{tid} ", data(title))][1:]
            rows.append(rich("In progress: ", *items, "."))
        # "Blocked for" as of the end of the day reported (today: now).
        as_of = min(now, parse_iso(end))
        for tid, title, since, reason in stuck[:10]:
            how_long = f"{_hours_since(since, as_of):.0f} h" if since else "a while"
            why = (" (", data(reason), ")") if reason else ()
            rows.append(rich(f"Blocked: #{tid} ", data(title), f", for {how_long}", *why, "."))
        for _, title, due_date in due[:10]:
            when = "overdue since" if (due_date or "") < local.isoformat() else "due"
            rows.append(rich("Mastery: ", data(title), f", {when} {due_date}."))
        rows.append(rich(data(cfg.reminders.checkin_prompt)))
        key = f"eod:{p.handle}:{local.isoformat()}"
        if force:
            key += f":again:{now.strftime('%Y%m%dT%H%M%SZ')}"
        plan.message = Message(
            kind="eod_reminder",
            key=key,
            title=f"End of day, {p.name or p.handle} ({local:%a %d %b})",
            body=lines(*rows),
            fields={
                "commits today": str(n),
                "AI points": f"{pts or 0:g}",
                "in progress": str(len(doing)),
                "blocked": str(len(stuck)),
                "mastery due this week": str(len(due)),
            },
            people=[p.handle],
            severity="warning" if stuck else "info",
        )
        plan.channels = channels_for(cfg, p, "eod_reminder")
    return plans


def plan_mastery(
    db: Database,
    cfg: Config,
    now: datetime,
    *,
    handle: str | None = None,
    team: str | None = None,
    force: bool = False,
) -> list[Planned]:
    """A weekly nudge per person with pending mastery items, overdue ones first."""
    plans: list[Planned] = []
    for p in recipients(db, cfg, handle, team):
        tz = ZoneInfo(p.timezone)
        local = now.astimezone(tz).date()
        year, week, _ = local.isocalendar()
        plan = Planned(p.handle, local.isoformat(), p.timezone)
        plans.append(plan)
        pending = [(i.id, i.title, i.due, i.every) for i in mastery_items(db, p.id, "pending")]
        if not pending:
            plan.skipped = "no pending mastery items"
            continue
        today = local.isoformat()
        overdue = [r for r in pending if r[2] and r[2] < today]
        upcoming = [r for r in pending if not (r[2] and r[2] < today)]
        rows = []
        for item_id, title, due_date, every in [*overdue, *upcoming][:15]:
            label = "OVERDUE " if due_date and due_date < today else ""
            repeat = f", every {every}" if every else ""
            detail = f" (due {due_date}{repeat})" if due_date else (f" (every {every})" if every else "")
            rows.append(rich(f"{label}#{item_id} ", data(title), detail))
        rows.append(rich("Mark progress with ", code("teamops mastery done ID"), "."))
        key = f"mastery:{p.handle}:{year}-W{week:02d}"
        if force:
            key += f":again:{now.strftime('%Y%m%dT%H%M%SZ')}"
        plan.message = Message(
            kind="mastery_reminder",
            key=key,
            title=f"Your growth plan this week, {p.name or p.handle}",
            body=lines(*rows),
            fields={"pending": str(len(pending)), "overdue": str(len(overdue)), "week": f"{year}-W{week:02d}"},
            people=[p.handle],
            severity="warning" if overdue else "info",
        )
        plan.channels = channels_for(cfg, p, "mastery_reminder")
    return plans


Claim = Callable[["Database", Planned], str | None]


def queue_plans(
    db: Database, cfg: Config, plans: list[Planned], claim: Claim | None = None
) -> tuple[list[int], int, int]:
    """Queue each planned reminder once under its key: new outbox ids, reminders queued, reminders already there.

    `claim`, inside each message's transaction, records what the message covers, or says why another
    run already did (then nothing is queued)."""

    ids: list[int] = []
    repeats = queued = 0
    for plan in plans:
        if plan.message is None:
            continue
        if not plan.channels:
            plan.skipped = f"no channel routed for {plan.message.kind}"
            continue
        with transaction(db):
            taken = claim(db, plan) if claim is not None else None
            new = [] if taken else save_message(db, plan.message, plan.channels)
        if taken:
            plan.skipped = taken
            repeats += 1
            continue
        if new:
            ids += new
            queued += 1
        else:
            repeats += 1
            plan.skipped = _earlier(db, plan.message)
    return ids, queued, repeats


def _earlier(db: Database, msg: Message) -> str:
    """What became of the reminder queued earlier under the same key: sent, still pending, or failed."""
    period = "for this day" if msg.kind == "eod_reminder" else "this week"
    statuses = statuses_of(db, msg.key)
    if "pending" in statuses:
        return f"queued earlier {period} and still pending: `teamops notify send` delivers it"
    if "sent" in statuses:
        return f"already sent {period} ({statuses['sent']})"
    return f"queued earlier {period} and failed: see `teamops notify list --status failed`"


def preview(cfg: Config, plans: list[Planned]) -> list[dict[str, Any]]:

    out = []
    for plan in plans:
        if plan.message is None:
            continue
        for name in plan.channels:
            kind = cfg.notify.channels[name].kind
            out.append(
                {
                    "kind": plan.message.kind,
                    "key": plan.message.key,
                    "channel": name,
                    "channel_kind": kind,
                    "payload": render(kind, plan.message),
                }
            )
    return out
