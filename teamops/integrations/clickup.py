"""Talk to ClickUp's v2 API: tasks page by page, sprint lists, bulk time in status; rate limits obeyed."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx

from teamops.errors import ServiceError
from teamops.integrations.http import NOT_JSON, RetryPolicy, Verdict, json_of
from teamops.records import number

PAGE_SIZE = 100


def ms(value: Any) -> int | None:
    """ClickUp times are milliseconds, as strings or numbers (or null)."""
    if value is None or value == "":
        return None
    try:
        return int(float(str(value)))
    except (ValueError, OverflowError):
        return None


@dataclass
class ClickUpTask:
    """A task as ClickUp's v2 API returns it, read into typed fields (times in ms)."""

    id: str
    name: str
    status: str
    status_type: str
    points: float | None
    time_estimate_ms: int | None
    time_spent_ms: int | None
    due_ms: int | None
    created_ms: int | None
    updated_ms: int
    done_ms: int | None
    list_id: str
    parent: str | None
    url: str | None
    archived: bool
    locations: list[str] = field(default_factory=list)  # other lists the task was added to (ClickUp Sprints)
    assignees: list[dict[str, Any]] = field(default_factory=list)
    custom_fields: dict[str, dict[str, Any]] = field(default_factory=dict)  # by lower-case name

    @classmethod
    def parse(cls, raw: dict[str, Any]) -> ClickUpTask:
        status: dict[str, Any] = raw["status"] if isinstance(raw.get("status"), dict) else {}
        lst: dict[str, Any] = raw["list"] if isinstance(raw.get("list"), dict) else {}
        fields: list[Any] = raw["custom_fields"] if isinstance(raw.get("custom_fields"), list) else []
        assignees: list[Any] = raw["assignees"] if isinstance(raw.get("assignees"), list) else []
        locations: list[Any] = raw["locations"] if isinstance(raw.get("locations"), list) else []
        return cls(
            id=str(raw["id"]),
            name=str(raw.get("name") or "(untitled)"),
            status=str(status.get("status") or "").strip(),
            status_type=str(status.get("type") or "").lower(),
            points=number(raw.get("points")),
            time_estimate_ms=ms(raw.get("time_estimate")),
            time_spent_ms=ms(raw.get("time_spent")),
            due_ms=ms(raw.get("due_date")),
            created_ms=ms(raw.get("date_created")),
            updated_ms=ms(raw.get("date_updated")) or 0,
            done_ms=ms(raw.get("date_done") or raw.get("date_closed")),
            list_id=str(lst.get("id") or ""),
            parent=str(raw["parent"]) if raw.get("parent") else None,
            url=raw.get("url") if isinstance(raw.get("url"), str) else None,
            archived=bool(raw.get("archived")),
            locations=[str(x["id"]) for x in locations if isinstance(x, dict) and x.get("id")],
            assignees=[u for u in assignees if isinstance(u, dict)],
            custom_fields={str(cf.get("name") or "").strip().lower(): cf for cf in fields if isinstance(cf, dict)},
        )


class ClickUpClient:
    """Requests with ClickUp's limits applied: slow down before 0 left, wait out a 429, fail with exit 4."""

    def __init__(
        self,
        api_url: str,
        token: str,
        *,
        token_env: str = "CLICKUP_TOKEN",
        timeout_s: float = 30,
        max_wait_s: float = 900,
        max_retries: int = 4,
        sleep: Callable[[float], None] = time.sleep,
        now: Callable[[], float] = time.time,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self.base = api_url.rstrip("/")
        self.token_env = token_env
        # ClickUp personal tokens go in the Authorization header as they are, without "Bearer".
        self._http = httpx.Client(headers={"Authorization": token, "User-Agent": "teamops"}, timeout=timeout_s)
        self.policy = RetryPolicy(
            "ClickUp", attempts=max_retries, max_wait_s=max_wait_s, sleep=sleep, now=now, jitter=jitter
        )
        self.requests = 0
        self.remaining: int | None = None
        self.reset_at: float | None = None

    def __repr__(self) -> str:  # never show the token
        return f"ClickUpClient({self.base!r})"

    def close(self) -> None:
        self._http.close()

    def get(
        self,
        path: str,
        params: list[tuple[str, Any]] | None = None,
        what: str = "a request",
        headers: dict[str, str] | None = None,
    ) -> Any:
        """GET with retries; returns parsed JSON."""
        return self.request("GET", path, params=params, what=what, headers=headers)

    def request(
        self,
        method: str,
        path: str,
        *,
        params: list[tuple[str, Any]] | None = None,
        body: Any = None,
        what: str = "a request",
        headers: dict[str, str] | None = None,
    ) -> Any:
        """One call with retries; returns parsed JSON (None for an empty answer).

        A body goes as JSON, with the `Content-Type: application/json` every ClickUp body requires.
        """
        return self.policy.run(lambda attempt: self._attempt(method, path, params, body, what, headers), what)

    def _attempt(
        self,
        method: str,
        path: str,
        params: list[tuple[str, Any]] | None,
        body: Any,
        what: str,
        headers: dict[str, str] | None,
    ) -> Verdict[Any]:
        """One try, classified: done, wait for the rate-limit window, back off, or fail (raised)."""
        self._pace(what)
        self.requests += 1
        try:
            response = self._http.request(method, f"{self.base}{path}", params=params, json=body, headers=headers)
        except httpx.TimeoutException:
            return Verdict.again("timeout")
        except httpx.HTTPError as exc:
            return Verdict.again(f"network error ({type(exc).__name__})")
        self._note(response.headers)
        status = response.status_code
        if status == 429:
            wait = self.policy.until(self.reset_at) if self.reset_at else 60.0
            self.remaining = None  # the window resets while we wait
            return Verdict.again("rate limit (429)", wait)
        if status >= 500:
            return Verdict.again(f"HTTP {status}")
        if status < 400 and not response.content:
            return Verdict.done(None)
        data = json_of(response)
        if data is NOT_JSON:
            if status < 400:
                return Verdict.again("an answer that is not valid JSON")
            data = {}
        if status >= 400:
            raise self._error(status, data, what)
        return Verdict.done(data)

    def _error(self, status: int, data: Any, what: str) -> ServiceError:
        message = ""
        code = ""
        if isinstance(data, dict):
            message = str(data.get("err") or data.get("error") or data.get("message") or "")
            code = str(data.get("ECODE") or data.get("code") or "")
        detail = f"{message} ({code})" if code else message or "no message"
        if status == 401 and (code == "OAUTH_027" or "team" in message.lower() or "authorized" in message.lower()):
            return ServiceError(
                f"ClickUp refused {what}: the token has no access to this workspace or list: {detail}",
                "check [clickup] team_id and list_ids, and that the token's user is a member",
            )
        if status == 401:
            return ServiceError(
                f"ClickUp rejected the token for {what}: {detail}",
                f"check ${self.token_env} (Settings → Apps → API Token)",
            )
        if status == 404:
            return ServiceError(f"ClickUp found nothing for {what} (404): {detail}", "check the id in the config")
        return ServiceError(f"ClickUp refused {what} (HTTP {status}): {detail}")

    def _note(self, headers: httpx.Headers) -> None:
        remaining = headers.get("x-ratelimit-remaining")
        reset = headers.get("x-ratelimit-reset")
        try:
            self.remaining = int(float(remaining)) if remaining is not None else self.remaining
            self.reset_at = float(reset) if reset is not None else self.reset_at
        except ValueError:
            pass

    def _pace(self, what: str) -> None:
        """Slow down before the limit is hit, rather than after."""
        if self.remaining is not None and self.remaining <= 1 and self.reset_at:
            wait = self.reset_at - self.policy.now() + 1
            if wait > 0:
                self.policy.wait(wait, what, "rate limit nearly used up")
            self.remaining = None

    # -- API -------------------------------------------------------------------------------------

    def list_tasks(
        self, list_id: str, start_page: int = 0, **filters: Any
    ) -> Iterator[tuple[int, list[dict[str, Any]]]]:
        """(page number, tasks) for a list, 100 a page, until `last_page` (or a short page).

        Filters are the spec's Get Tasks parameters: archived, include_closed, include_timl, subtasks, ...
        """
        yield from self._pages(f"/v2/list/{list_id}/task", f"tasks of list {list_id}", start_page, filters)

    def team_tasks(
        self, team_id: str, start_page: int = 0, **filters: Any
    ) -> Iterator[tuple[int, list[dict[str, Any]]]]:
        """Workspace-wide task search (Get Filtered Team Tasks): no `last_page` there, so a short page ends it.

        It has no `archived` parameter: archived tasks are read list by list (`workspace_lists`).
        """
        yield from self._pages(f"/v2/team/{team_id}/task", f"tasks of workspace {team_id}", start_page, filters)

    def workspace_lists(self, team_id: str) -> list[str]:
        """Every list of a workspace: each space's folderless lists and each folder's lists."""
        ids: list[str] = []
        spaces = self.get(f"/v2/team/{team_id}/space", [("archived", "false")], f"spaces of workspace {team_id}")
        for space in _items(spaces, "spaces"):
            sid = str(space["id"])
            loose = self.get(f"/v2/space/{sid}/list", [("archived", "false")], f"lists of space {sid}")
            ids += [str(x["id"]) for x in _items(loose, "lists")]
            folders = self.get(f"/v2/space/{sid}/folder", [("archived", "false")], f"folders of space {sid}")
            for folder in _items(folders, "folders"):
                ids += [str(x["id"]) for x in self.folder_lists(str(folder["id"]))]
        return list(dict.fromkeys(ids))

    def _pages(
        self, path: str, what: str, page: int, filters: dict[str, Any]
    ) -> Iterator[tuple[int, list[dict[str, Any]]]]:
        while True:
            params: list[tuple[str, Any]] = [("page", page)]
            for key, value in filters.items():
                if value is None:
                    continue
                params.append((key, str(value).lower() if isinstance(value, bool) else value))
            data = self.get(path, params, what)
            tasks = data.get("tasks") if isinstance(data, dict) else None
            if not isinstance(tasks, list):
                raise ServiceError(f"ClickUp answered {what} without a task list")
            yield page, tasks
            last = data.get("last_page")
            if last is True or (last is None and len(tasks) < PAGE_SIZE) or not tasks:
                return
            page += 1

    def workspaces(self) -> dict[str, str]:
        """The workspaces (teams) the token's user belongs to: id → name (Get Authorized Workspaces)."""
        data = self.get("/v2/team", what="the token's workspaces")
        teams = data.get("teams") if isinstance(data, dict) else None
        return {str(t.get("id")): str(t.get("name") or "") for t in teams or [] if isinstance(t, dict)}

    def folder_lists(self, folder_id: str) -> list[dict[str, Any]]:
        data = self.get(f"/v2/folder/{folder_id}/list", [("archived", "false")], f"lists of folder {folder_id}")
        return _items(data, "lists")

    def time_in_status(self, task_ids: list[str]) -> dict[str, Any]:
        """Bulk time in status, 100 task ids a call."""
        found: dict[str, Any] = {}
        for i in range(0, len(task_ids), 100):
            chunk = task_ids[i : i + 100]
            # The spec marks Content-Type as a required header here, GET though it is.
            data = self.get(
                "/v2/task/bulk_time_in_status/task_ids",
                [("task_ids", t) for t in chunk],
                "time in status",
                headers={"Content-Type": "application/json"},
            )
            if isinstance(data, dict):
                found.update(data)
        return found


def _items(data: Any, key: str) -> list[dict[str, Any]]:
    """The objects with an id under `key` in an answer, whatever else it holds."""
    items = data.get(key) if isinstance(data, dict) else None
    return [x for x in items or [] if isinstance(x, dict) and x.get("id")]
