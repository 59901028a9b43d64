"""GitHub Copilot's usage reports of an organisation, read with every sync-commits when `[github] copilot_orgs`
names it: the latest 28 days each run, and single days for what a first sync or a long pause left out.

The API hands out signed links to report files (JSON lines, docs.github.com "Copilot usage metrics"); they
are read without the token, bounded in size, and validated whole before anything is stored.
"""

from __future__ import annotations

import json
import re
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from teamops.errors import ServiceError
from teamops.records import UsageCounts, UsageDay, UsageUser
from teamops.store.database import transaction
from teamops.wording import count

if TYPE_CHECKING:
    from sqlite_utils import Database

    from teamops.config import Config
    from teamops.sources.github.client import GitHubClient
    from teamops.sync.result import SyncResult

ASSISTANT = "GitHub Copilot"
FIRST_DAY = date(2025, 10, 10)  # GitHub's reports start on this day and go a year back at most
KEPT_DAYS = 365
MAX_LINKS = 100
LOGIN_RE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})(?:\[bot\])?$")
COUNT_FIELDS = {
    "prompts": "user_initiated_interaction_count",
    "generations": "code_generation_activity_count",
    "acceptances": "code_acceptance_activity_count",
    "lines_suggested": "loc_suggested_to_add_sum",
    "lines_added": "loc_added_sum",
    "lines_deleted": "loc_deleted_sum",
}
PULL_FIELDS = {
    "prs_created": "total_created",
    "prs_created_by_assistant": "total_created_by_copilot",
    "prs_merged": "total_merged",
    "prs_merged_by_assistant": "total_merged_created_by_copilot",
    "prs_reviewed_by_assistant": "total_reviewed_by_copilot",
}


def _count(value: Any, what: str) -> int:
    """A count a report gives: absent is 0; anything but a finite non-negative number refuses the report."""
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0 or value != value or value > 1e15:
        raise ServiceError(f"{what}: {value!r} is not a count")
    return int(value)


def _optional(value: Any, what: str) -> int | None:
    """A count a report may leave out (a day's users, its pull requests): absent stays unknown."""
    return None if value is None else _count(value, what)


def _day(value: Any, what: str) -> str:
    """A report's `YYYY-MM-DD`, or the report is refused: every stored row is keyed by its day."""
    if isinstance(value, str) and len(value) == 10:
        try:
            return date.fromisoformat(value).isoformat()
        except ValueError:
            pass
    raise ServiceError(f"{what}: {str(value)[:40]!r} is not a day")


def counts(record: dict[str, Any], what: str) -> UsageCounts:
    """A report record's counts; an agent's own lines are the `agent_edit` feature's."""
    found = UsageCounts(**{name: _count(record.get(key), f"{what} {key}") for name, key in COUNT_FIELDS.items()})
    features = record.get("totals_by_feature") or []
    if not isinstance(features, list):
        raise ServiceError(f"{what}: totals_by_feature is not a list")
    for feature in features:
        if isinstance(feature, dict) and feature.get("feature") == "agent_edit":
            found.agent_lines += _count(feature.get("loc_added_sum"), f"{what} agent_edit") + _count(
                feature.get("loc_deleted_sum"), f"{what} agent_edit"
            )
    return found


def records_of(body: bytes, what: str) -> list[dict[str, Any]]:
    """The records of a report file: JSON lines, or one JSON array (as GitHub's examples show them)."""
    text = body.decode("utf-8", "replace").strip()
    if not text:
        return []
    found: list[Any] = []
    if text.startswith("["):
        try:
            parsed = json.loads(text)
        except (ValueError, RecursionError):  # RecursionError: nesting deeper than any report's
            raise ServiceError(f"{what} is not JSON") from None
        found = parsed if isinstance(parsed, list) else [parsed]
    else:
        for n, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                parsed = json.loads(line)
            except (ValueError, RecursionError):
                raise ServiceError(f"{what} has a line that is not JSON (line {n:,})") from None
            found += parsed if isinstance(parsed, list) else [parsed]
    if not all(isinstance(r, dict) for r in found):
        raise ServiceError(f"{what} holds something other than records")
    return found


def day_totals(records: list[dict[str, Any]], what: str) -> list[UsageDay]:
    """An organisation report's days: records holding `day_totals`, or day records themselves."""
    days: list[UsageDay] = []
    for record in records:
        inner = record.get("day_totals")
        if inner is not None and not isinstance(inner, list):
            raise ServiceError(f"{what}: day_totals is not a list")
        for item in inner if inner is not None else [record]:
            if not isinstance(item, dict):
                raise ServiceError(f"{what}: a day is not a record")
            day = _day(item.get("day"), what)
            pulls = item.get("pull_requests") or {}
            if not isinstance(pulls, dict):
                raise ServiceError(f"{what}: pull_requests is not a record")
            days.append(
                UsageDay(
                    day,
                    counts(item, f"{what} {day}"),
                    _optional(item.get("daily_active_users"), what),
                    _optional(item.get("weekly_active_users"), what),
                    _optional(item.get("monthly_active_users"), what),
                    **{name: _optional(pulls.get(key), f"{what} {key}") for name, key in PULL_FIELDS.items()},
                )
            )
    return days


def user_days(records: list[dict[str, Any]], what: str) -> list[UsageUser]:
    """A users report's records: one account's day each."""
    users: list[UsageUser] = []
    for record in records:
        login = record.get("user_login")
        if not isinstance(login, str) or not LOGIN_RE.match(login):
            raise ServiceError(f"{what}: {str(login)[:60]!r} is not a GitHub login")
        day = _day(record.get("day"), what)
        users.append(
            UsageUser(
                day,
                login,
                counts(record, f"{what} {login} {day}"),
                record.get("used_agent") is True,
                record.get("used_chat") is True,
                record.get("used_cli") is True,
            )
        )
    return users


class CopilotSync:
    """One organisation's reports, read and stored; what it did for the run's summary."""

    def __init__(self, db: Database, cfg: Config, client: GitHubClient, org: str, identity: str) -> None:
        self.db, self.cfg, self.client, self.org, self.identity = db, cfg, client, org, identity
        self.days = 0
        self.user_days = 0

    def _files(self, links: dict[str, Any], what: str) -> list[dict[str, Any]]:
        urls = links.get("download_links")
        if not isinstance(urls, list) or len(urls) > MAX_LINKS or not all(isinstance(u, str) for u in urls):
            raise ServiceError(f"GitHub answered {what} without a list of download links")
        found: list[dict[str, Any]] = []
        for n, url in enumerate(urls, 1):
            part = f"{what} (file {n} of {len(urls)})" if len(urls) > 1 else what
            body = self.client.report_file(url, part, self.cfg.github.copilot_max_mb * 1_000_000)
            found += records_of(body, part)
        return found

    def _read(self, org_links: dict[str, Any], day: str | None) -> tuple[list[UsageDay], list[UsageUser]]:
        """Both reports (the organisation's days from `org_links`, its accounts' days), validated whole."""
        what = f"the Copilot report of {self.org}" + (f" for {day}" if day else "")
        days = day_totals(self._files(org_links, what), what)
        user_links = self.client.copilot_report(self.org, "users", day)
        users = user_days(self._files(user_links, f"{what} (users)"), f"{what} (users)") if user_links else []
        return days, users

    def _store(self, days: list[UsageDay], users: list[UsageUser]) -> None:
        from teamops.store.assistant_usage import save_usage

        with transaction(self.db):  # a report's days and accounts land together
            save_usage(self.db, ASSISTANT, self.org, self.identity, days, users)
        self.days += len(days)
        self.user_days += len(users)

    def run(self, today: date) -> str:
        """Read what is new; the line the run shows."""
        from teamops.store.assistant_usage import stored_days
        from teamops.store.sync_state import load_state, save_state

        files = self.client.downloads
        state = load_state(self.db, f"copilot:{self.org}")
        links = self.client.copilot_report(self.org, "organization")
        if links is None:
            return f"Copilot usage of {self.org}: GitHub has no report yet"
        end = _day(links.get("report_end_day"), f"the Copilot report of {self.org}: its end")
        start = _day(links.get("report_start_day"), f"the Copilot report of {self.org}: its start")
        known = stored_days(self.db, ASSISTANT, self.org)
        if state.cursor != end or not known:  # a new day was processed: the 28 days are read again
            self._store(*self._read(links, None))
        first = max(FIRST_DAY, today - timedelta(days=min(self.cfg.github.copilot_days, KEPT_DAYS)))
        # Days already asked for (stored, or without a report) are not asked again.
        asked = (str(state.details.get("asked_from") or "9999"), str(state.details.get("asked_to") or ""))
        missing = []
        day = first
        while day < date.fromisoformat(start):
            iso = day.isoformat()
            if iso not in known and not asked[0] <= iso <= asked[1]:
                missing.append(iso)
            day += timedelta(days=1)
        for wanted in missing:
            found = self.client.copilot_report(self.org, "organization", wanted)
            if found is not None:
                self._store(*self._read(found, wanted))
        state.cursor = end
        state.status = "idle"
        state.details = {"asked_from": min(asked[0], first.isoformat()), "asked_to": end}
        with transaction(self.db):
            save_state(self.db, state)
        if not self.days:
            return f"Copilot usage of {self.org}: up to date (GitHub's reports to {end})"
        return (
            f"Copilot usage of {self.org}: {self.days:,} days, {self.user_days:,} account-days stored from "
            f"{count(self.client.downloads - files, 'report file')} (GitHub's reports to {end})"
        )


def sync_copilot(db: Database, cfg: Config, client: GitHubClient, org: str, identity: str, today: date) -> SyncResult:
    """One organisation's Copilot usage, as a result line among the run's repositories."""
    import time

    from teamops.sync.result import SyncResult

    began, requests = time.monotonic(), client.requests
    sync = CopilotSync(db, cfg, client, org, identity)
    line = sync.run(today)
    result = SyncResult(repo=f"{org} (Copilot usage)", unchanged=not sync.days, owner=True)
    result.details.append(line)
    result.requests = client.requests - requests  # API requests; the files it links are no request to the API
    result.rate_limit_remaining = client.rate_remaining
    result.seconds = time.monotonic() - began
    return result
