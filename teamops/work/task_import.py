"""Tasks from another tracker's CSV (Jira's export, or a plain `key,title,...` sheet): every row checked
first, then all of them stored in one transaction, each task created or updated by its key.

The file is hostile input: bounded in size and per cell, decoded strictly (UTF-8 unless told), and
its text is stored as text (a cell starting with `=` is a title, never a formula).
"""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from teamops.clock import now_iso
from teamops.errors import InvalidInput, UsageError
from teamops.people.identities import IdentityResolver
from teamops.store import tasks as task_store
from teamops.store.database import transaction
from teamops.store.sprints import sprint_by_name
from teamops.store.sync_state import load_state, save_state
from teamops.work.tasks import status_columns

if TYPE_CHECKING:
    from sqlite_utils import Database

    from teamops.config import Config

CELL_MAX = 1_000_000  # characters in one cell: a description longer than this is not a task's
TITLE_MAX = 500
FIELDS = ("key", "title", "description", "points", "status", "created", "done", "assignee", "sprint")
# Jira's CSV export ("Export Excel CSV (all fields)"): headers as Jira writes them, lower-cased.
JIRA = {
    "issue key": "key",
    "summary": "title",
    "description": "description",
    "story points": "points",
    "custom field (story points)": "points",
    "custom field (story point estimate)": "points",
    "status": "status",
    "created": "created",
    "resolved": "done",
    "assignee": "assignee",
    "sprint": "sprint",
}
DONE_WORDS = {"done", "closed", "resolved", "complete", "completed", "fixed", "finished"}
ACTIVE_WORDS = {"in progress", "in-progress", "in_progress", "doing", "started", "in development"}
TODO_WORDS = {"to do", "todo", "open", "new", "backlog", "selected for development", "reopened"}
BLOCKED_WORDS = {"blocked", "on hold", "waiting"}
DATE_FORMATS = ("%d/%b/%y %I:%M %p", "%d/%b/%Y %I:%M %p", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", "%d.%m.%Y %H:%M")


@dataclass
class ImportRow:
    """One task as the file gives it, checked."""

    line: int
    key: str
    title: str
    description: str | None
    points: float | None
    status: str
    created: str | None
    done: str | None
    assignee: str | None
    sprint: str | None


@dataclass
class ImportResult:
    """What an import did: per task, and the rows left out."""

    source: str
    rows: int = 0
    added: int = 0
    changed: int = 0
    same: int = 0
    bad: list[str] = field(default_factory=list)
    unknown_sprints: set[str] = field(default_factory=set)
    unmatched_assignees: set[str] = field(default_factory=set)


def parse_map(pairs: list[str]) -> dict[str, str]:
    """`--map "Header=field"` pairs (case-insensitive headers) onto teamops' fields."""
    out: dict[str, str] = {}
    for pair in pairs:
        header, sep, name = pair.rpartition("=")
        if not sep or not header.strip() or name.strip() not in FIELDS:
            raise UsageError(f"--map {pair!r}: write HEADER=FIELD, FIELD one of {', '.join(FIELDS)}")
        out[header.strip().lower()] = name.strip()
    return out


def parse_statuses(pairs: list[str], cfg: Config) -> dict[str, str]:
    """`--status "Code Review=review"` pairs onto the configured statuses (`=done`: rows with no status)."""
    out: dict[str, str] = {}
    for pair in pairs:
        name, sep, status = pair.rpartition("=")
        if not sep or status.strip() not in cfg.tasks.statuses:
            raise UsageError(f"--status {pair!r}: write NAME=STATUS, STATUS one of {', '.join(cfg.tasks.statuses)}")
        out[name.strip().lower()] = status.strip()
    return out


def decode(data: bytes, encoding: str | None) -> str:
    """The file's text: UTF-8 (a byte-order mark allowed), UTF-16 with its mark, or the encoding given."""
    try:
        if encoding:
            return data.decode(encoding)
        if data.startswith((b"\xff\xfe", b"\xfe\xff")):
            return data.decode("utf-16")
        return data.decode("utf-8-sig")
    except LookupError:
        raise UsageError(f"--encoding {encoding!r} is not an encoding Python knows") from None
    except UnicodeDecodeError as exc:
        raise InvalidInput(
            f"the file is not {encoding or 'UTF-8'} (byte {exc.start:,} cannot be read): nothing was stored",
            "save it as UTF-8, or name its encoding: --encoding cp1252 (Excel on Windows) or latin-1",
        ) from None


EXPORT = "jira-csv"  # the source of tasks imported from a Jira export, keyed `jira-csv:SHOP-1`


def _header_map(headers: list[str], mapping: dict[str, str]) -> tuple[dict[int, str], str]:
    """Column index → field, and the source the headers say (jira-csv or csv: a Jira export is not the live
    Jira tracker, whose tasks are its own)."""
    lowered = [h.strip().lower() for h in headers]
    jira = "issue key" in lowered or "summary" in lowered
    table = {**(JIRA if jira else {f: f for f in FIELDS}), **mapping}
    columns: dict[int, str] = {}
    for i, h in enumerate(lowered):
        name = table.get(h)
        if name and (name != "sprint" or name not in columns.values()):  # Jira repeats Sprint: the first wins
            columns.setdefault(i, name)
    if "title" not in columns.values():
        raise InvalidInput(
            f"no title column among the headers ({', '.join(headers[:8])}{', ...' if len(headers) > 8 else ''})",
            "a plain file has key,title,description,points,status,created,done,assignee,sprint; "
            "map others with --map 'Your header=title'",
        )
    return columns, EXPORT if jira else "csv"


def _moment(value: str, what: str) -> str:
    text = value.strip()
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        for fmt in DATE_FORMATS:
            try:
                moment = datetime.strptime(text, fmt)
                break
            except ValueError:
                continue
        else:
            raise ValueError(f"{what} {text[:40]!r} is not a date (ISO 8601, or Jira's 03/Dec/26 10:30 AM)") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _status(value: str, cfg: Config, statuses: dict[str, str]) -> str:
    t = cfg.tasks
    word = " ".join(value.strip().lower().split())
    if word in statuses:  # `--status '=done'` names what rows without a status are
        return statuses[word]
    if not word:
        return t.default_status
    if word in t.statuses:
        return word
    for words, target in (
        (DONE_WORDS, t.done_statuses),
        (ACTIVE_WORDS, t.active_statuses),
        (TODO_WORDS, [t.default_status]),
        (BLOCKED_WORDS, t.blocked_statuses),
    ):
        if word in words and target:
            return target[0]
    name = value.strip()[:40]
    raise ValueError(f"status {name!r} is none of {', '.join(t.statuses)} (map it: --status '{name}=STATUS')")


def _row(line: int, cells: dict[str, str], cfg: Config, statuses: dict[str, str]) -> ImportRow:
    for name, value in cells.items():
        if len(value) > CELL_MAX:
            raise ValueError(f"{name} holds {len(value):,} characters; a cell may hold {CELL_MAX:,}")
    title = " ".join(cells.get("title", "").split())
    if not title:
        raise ValueError("no title")
    points = None
    if cells.get("points", "").strip():
        try:
            points = float(cells["points"].strip().replace(",", "."))
        except ValueError:
            raise ValueError(f"points {cells['points'].strip()[:20]!r} is not a number") from None
        if not 0 <= points <= 10_000 or points != points:
            raise ValueError(f"points {points:g} is outside 0 to 10,000")
    key = cells.get("key", "").strip()
    created = _moment(cells["created"], "created") if cells.get("created", "").strip() else None
    if not key:  # no key column: the title and creation time stand in, so a re-import finds the same task
        key = "row-" + hashlib.sha256(f"{title}\x1f{created}".encode()).hexdigest()[:12]
    if len(key) > 200 or any(ch in key for ch in "\r\n\x00"):
        raise ValueError("the key is longer than 200 characters or holds a line break")
    return ImportRow(
        line=line,
        key=key,
        title=title[:TITLE_MAX],
        description=cells.get("description") or None,
        points=points,
        status=_status(cells.get("status", ""), cfg, statuses),
        created=created,
        done=_moment(cells["done"], "done") if cells.get("done", "").strip() else None,
        assignee=" ".join(cells.get("assignee", "").split()) or None,
        sprint=" ".join(cells.get("sprint", "").split()) or None,
    )


def read_rows(
    text: str, cfg: Config, mapping: dict[str, str], statuses: dict[str, str]
) -> tuple[list[ImportRow], list[str], str]:
    """Every row checked: (good rows, one line per bad row, the source the headers say)."""
    csv.field_size_limit(CELL_MAX + 1)
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        headers = next(reader)
    except StopIteration:
        raise InvalidInput("the file is empty: no header row") from None
    except csv.Error as exc:
        raise InvalidInput(f"the header row is not CSV ({exc})") from None
    columns, source = _header_map(headers, mapping)
    good: list[ImportRow] = []
    bad: list[str] = []
    seen: dict[str, int] = {}
    line = 1
    while True:
        try:
            raw = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            line = reader.line_num
            bad.append(f"row {line}: not CSV ({str(exc)[:80]}; a cell may hold {CELL_MAX:,} characters)")
            break  # the reader cannot find the next row after this
        line = reader.line_num
        if not any(cell.strip() for cell in raw):
            continue
        cells = {name: raw[i] for i, name in columns.items() if i < len(raw)}
        try:
            row = _row(line, cells, cfg, statuses)
        except ValueError as exc:
            bad.append(f"row {line}: {exc}")
            continue
        if row.key in seen:
            bad.append(f"row {line}: key {row.key[:40]!r} again (first at row {seen[row.key]})")
            continue
        seen[row.key] = line
        good.append(row)
    return good, bad, source


def import_rows(
    db: Database, cfg: Config, rows: list[ImportRow], source: str, name: str, actor: str | None
) -> ImportResult:
    """Create or update each task by `source:key`, its Responsible from the assignee, in one transaction."""
    result = ImportResult(source, rows=len(rows))
    resolver = IdentityResolver.load(db)
    handles = {str(h).lower(): int(i) for i, h in db.execute("SELECT id, handle FROM people")}
    sprints: dict[str, int | None] = {}
    now = now_iso()
    by = task_store.Change(now, actor, source)
    with transaction(db):
        for row in rows:
            sprint_id = None
            if row.sprint:
                if row.sprint not in sprints:
                    found = sprint_by_name(db, row.sprint)
                    sprints[row.sprint] = int(found["id"]) if found else None
                sprint_id = sprints[row.sprint]
                if sprint_id is None:
                    result.unknown_sprints.add(row.sprint)
            fields: dict[str, Any] = {
                "title": row.title,
                "status": row.status,
                "points": row.points,
                "sprint": row.sprint if sprint_id else None,
            }
            done = row.done if row.status in cfg.tasks.done_statuses else None
            key = f"{source}:{row.key}"
            before = task_store.synced_task(db, key)
            holder = _holder(row.assignee, resolver, handles, result)
            if before is None:
                columns = {
                    **status_columns(cfg, row.status, None, done or row.created or now),
                    "done_at": done or (now if row.status in cfg.tasks.done_statuses else None),
                    "sprint_id": sprint_id,
                    "source": source,
                    "external_id": row.key,
                    "created_at": row.created or now,
                    "description": row.description,
                }
                task_id = task_store.save_new_task(db, by, key, fields, columns)
                if holder:
                    task_store.save_roles(db, task_id, by, "R", [holder], None, holder[1] or str(holder[0]))
                result.added += 1
                continue
            task_id = before["id"]
            changes = task_store.save_task_changes(db, task_id, by, before, fields, {})
            held = task_store.role_refs(db, task_id).get("R", [])
            if holder and held != [holder]:
                old = ",".join(str(p or e) for p, e in held) or None
                task_store.save_roles(db, task_id, by, "R", [holder], old, holder[1] or str(holder[0]))
                changes.append("roles")
            columns = {"description": row.description}
            if "sprint" in changes:
                columns["sprint_id"] = sprint_id
            if "status" in changes:
                columns.update(status_columns(cfg, row.status, before, done or now))
                columns["done_at"] = done or (now if row.status in cfg.tasks.done_statuses else None)
            if changes:
                columns["updated_at"] = now
            task_store.save_task_changes(db, task_id, by, before, {}, columns)
            if changes:
                result.changed += 1
            else:
                result.same += 1
        state = load_state(db, f"import:{source}:{name}")
        state.status, state.items, state.last_success_at = "complete", len(rows), now
        state.details = {"file": name, "added": result.added, "changed": result.changed}
        save_state(db, state)
    return result


def _holder(
    assignee: str | None, resolver: IdentityResolver, handles: dict[str, int], result: ImportResult
) -> tuple[int | None, str | None] | None:
    """The Responsible: a person by email, handle or name, else kept by name until someone matches."""
    if not assignee:
        return None
    email = assignee if "@" in assignee else None
    pid = handles.get(assignee.lower()) or resolver.person_for(email, None, None if email else assignee)
    if pid:
        return pid, None
    result.unmatched_assignees.add(assignee)
    return None, assignee
