"""GitLab's REST v4 as GitLab documents it: offset pages followed by `x-next-page` (or `Link: rel="next"`),
`RateLimit-*` headers and 429 with `Retry-After` obeyed under one budget per token, a project by its
URL-encoded path, and 401/403/404 each as one line."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import quote

import httpx

from teamops.errors import Refused, ServiceError
from teamops.integrations.http import NOT_JSON, BudgetedClient, RateBudget, Verdict, json_of

PER_PAGE = 100  # GitLab's most per page


def project_path(locator: str) -> str:
    """`/projects/:id` for a numeric id or a `group/sub/project` path (URL-encoded, slashes too)."""
    return f"/projects/{locator if locator.isdigit() else quote(locator, safe='')}"


def group_path(locator: str) -> str:
    """`/groups/:id` for a numeric id or a `group/subgroup` path (URL-encoded)."""
    return f"/groups/{locator if locator.isdigit() else quote(locator, safe='')}"


def next_link(header: str | None) -> str | None:
    """The `rel="next"` URL of a Link header (keyset pages give only this)."""
    for part in (header or "").split(","):
        url, _, rel = part.partition(";")
        if 'rel="next"' in rel.replace(" ", ""):
            return url.strip().strip("<>")
    return None


class GitLabClient(BudgetedClient):
    """Requests with GitLab's limits applied; `requests` counts every one made (retries included)."""

    service = "GitLab"

    def __init__(
        self,
        url: str,
        token: str,
        *,
        token_env: str = "GITLAB_TOKEN",
        timeout_s: float = 30,
        max_wait_s: float = 900,
        max_retries: int = 5,
        budget: RateBudget | None = None,
        sleep: Callable[[float], None] = time.sleep,
        now: Callable[[], float] = time.time,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self.base = url.rstrip("/") + "/api/v4"
        self.token_env = token_env
        # a personal, project or group access token goes in PRIVATE-TOKEN, as GitLab's API docs show
        self._http = httpx.Client(headers={"PRIVATE-TOKEN": token, "User-Agent": "teamops"}, timeout=timeout_s)
        self._start(
            wait_key="[gitlab] max_wait_s",
            max_wait_s=max_wait_s,
            max_retries=max_retries,
            budget=budget,
            sleep=sleep,
            now=now,
            jitter=jitter,
        )

    def get(self, path: str, params: dict[str, Any] | None = None, what: str = "a request") -> Any:
        """One GET with retries; the parsed JSON."""
        return self._get(f"{self.base}{path}", params, what)[0]

    def pages(self, path: str, params: dict[str, Any] | None = None, what: str = "a listing") -> Iterator[list[Any]]:
        """Every page of a listing, 100 a page, until GitLab gives no next page.

        `x-next-page` is followed while GitLab sends it (empty on the last page); without it (a keyset
        listing, or above 10,000 records where GitLab leaves totals out) the `Link: rel="next"` URL is
        taken as given, never built."""
        url: str | None = f"{self.base}{path}"
        query: dict[str, Any] | None = {"per_page": PER_PAGE, **(params or {})}
        while url:
            data, headers = self._get(url, query, what)
            if not isinstance(data, list):
                raise ServiceError(f"GitLab answered {what} with something that is not a list")
            yield data
            following = headers.get("x-next-page", "").strip()
            if following.isdigit() and query is not None:
                query = {**query, "page": int(following)}
            elif (link := next_link(headers.get("link"))) and link.startswith(self.base):
                url, query = link, None
            else:
                url = None

    def _get(self, url: str, params: dict[str, Any] | None, what: str) -> tuple[Any, httpx.Headers]:
        return self._run(what, lambda n: self._attempt(url, params, what, n))

    def _attempt(
        self, url: str, params: dict[str, Any] | None, what: str, n: int
    ) -> Verdict[tuple[Any, httpx.Headers]]:
        response, retry = self._exchange(lambda: self._http.get(url, params=params))
        if retry is not None:
            return retry
        headers = response.headers
        self._note(headers)
        status = response.status_code
        if status == 200:
            data = json_of(response)
            if data is NOT_JSON:
                return Verdict.again("an answer that is not valid JSON")
            return Verdict.done((data, headers))
        message = _message(response)
        if (again := self._common(status, headers, n, self._reset_wait(headers))) is not None:
            return again
        if status == 401:
            raise ServiceError(
                f"GitLab rejected the token for {what} (401 {message or 'Unauthorized'})",
                f"check the token in ${self.token_env}: it may be expired or revoked",
            )
        if status == 403:
            raise Refused(
                f"GitLab refused {what} (403 {message or 'Forbidden'})",
                f"the token in ${self.token_env} needs the read_api scope and access to the project",
            )
        if status == 404:
            raise Refused(
                f"GitLab found nothing for {what} (404)",
                f"check the path, and that the token in ${self.token_env} can see the project",
            )
        raise ServiceError(f"GitLab answered {what} with HTTP {status}: {message or 'no message'}")

    def _reset_wait(self, headers: httpx.Headers) -> float | None:
        reset = _number(headers.get("ratelimit-reset"))
        return self.policy.until(reset) if reset else None

    def _note(self, headers: httpx.Headers) -> None:
        remaining = _number(headers.get("ratelimit-remaining"))
        if remaining is not None:
            self.rate_remaining = int(remaining)
            self.budget.note(int(remaining), _number(headers.get("ratelimit-reset")))


def _number(value: str | None) -> float | None:
    try:
        return float(value) if value not in (None, "") else None
    except ValueError:
        return None


def _message(response: httpx.Response) -> str:
    """GitLab's error body (`{"message": ...}` or `{"error": ...}`), short, on one line."""
    data = json_of(response)
    if isinstance(data, dict):
        text = data.get("message") or data.get("error") or ""
        return " ".join(str(text).split())[:200]
    return ""
