"""Jira Cloud's REST API as Atlassian documents it: Basic auth with an account's email and API token, 429 with
`Retry-After` and the `X-RateLimit-*` headers obeyed under one budget, token-paged searches and changelogs,
and 401/403/404 each as one line with Jira's own message, short."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Any

import httpx

from teamops.errors import Refused, ServiceError
from teamops.integrations.http import NOT_JSON, BudgetedClient, RateBudget, Verdict, json_of


class JiraClient(BudgetedClient):
    """Requests with Jira's limits applied; `requests` counts every one made (retries included)."""

    service = "Jira"

    def __init__(
        self,
        url: str,
        email: str,
        token: str,
        *,
        token_env: str = "JIRA_API_TOKEN",
        timeout_s: float = 30,
        max_wait_s: float = 900,
        max_retries: int = 5,
        budget: RateBudget | None = None,
        sleep: Callable[[float], None] = time.sleep,
        now: Callable[[], float] = time.time,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self.base = url.rstrip("/")
        self.token_env = token_env
        self._http = httpx.Client(
            auth=(email, token),
            headers={"Accept": "application/json", "User-Agent": "teamops"},
            timeout=timeout_s,
        )
        self._start(
            wait_key="[jira] max_wait_s",
            max_wait_s=max_wait_s,
            max_retries=max_retries,
            budget=budget,
            sleep=sleep,
            now=now,
            jitter=jitter,
        )

    def get(self, path: str, params: dict[str, Any] | None = None, what: str = "a request") -> Any:
        """One GET with retries; the parsed JSON."""
        return self._send("GET", path, params, None, what)

    def post(self, path: str, body: dict[str, Any], what: str = "a request") -> Any:
        """One POST of a JSON body with retries (searches and bulk reads, which change nothing)."""
        return self._send("POST", path, None, body, what)

    def _send(self, method: str, path: str, params: dict[str, Any] | None, body: Any, what: str) -> Any:
        url = f"{self.base}{path}"
        return self._run(what, lambda n: self._attempt(method, url, params, body, what, n))

    def _attempt(
        self, method: str, url: str, params: dict[str, Any] | None, body: Any, what: str, n: int
    ) -> Verdict[Any]:
        response, retry = self._exchange(lambda: self._http.request(method, url, params=params, json=body))
        if retry is not None:
            return retry
        headers = response.headers
        self._note(headers)
        status = response.status_code
        if status == 200:
            data = json_of(response)
            return Verdict.again("an answer that is not valid JSON") if data is NOT_JSON else Verdict.done(data)
        message = _message(response)
        if (again := self._common(status, headers, n, self._reset_wait(headers))) is not None:
            return again
        if status == 401:
            raise ServiceError(
                f"Jira rejected the credentials for {what} (401 {message or 'Unauthorized'})",
                f"check the account's email and the API token in ${self.token_env}: it may be expired or revoked",
            )
        if status == 403:
            raise Refused(
                f"Jira refused {what} (403 {message or 'Forbidden'})",
                "the account needs the Browse projects permission on the project",
            )
        if status == 404:
            raise Refused(
                f"Jira found nothing for {what} (404{': ' + message if message else ''})",
                "check [jira] url and projects, and that the account can see them",
            )
        if status == 400:
            raise ServiceError(f"Jira refused {what} as asked (400): {message or 'no message'}")
        raise ServiceError(f"Jira answered {what} with HTTP {status}: {message or 'no message'}")

    def _reset_wait(self, headers: httpx.Headers) -> float | None:
        reset = headers.get("x-ratelimit-reset")
        if not reset:
            return None
        try:  # an ISO time (Atlassian's documented form) or epoch seconds
            from teamops.clock import parse_iso

            epoch = parse_iso(reset).timestamp()
        except ValueError:
            try:
                epoch = float(reset)
            except ValueError:
                return None
        return self.policy.until(epoch)

    def _note(self, headers: httpx.Headers) -> None:
        remaining = headers.get("x-ratelimit-remaining")
        if remaining is not None and remaining.strip().isdigit():
            self.rate_remaining = int(remaining)
            self.budget.note(int(remaining), None)


def _message(response: httpx.Response) -> str:
    """Jira's error body (`errorMessages`, `errors`, `message`), short, on one line."""
    data = json_of(response)
    if not isinstance(data, dict):
        return ""
    parts = [str(m) for m in data.get("errorMessages") or [] if m]
    errors = data.get("errors")
    if isinstance(errors, dict):
        parts += [f"{k}: {v}" for k, v in errors.items()]
    if data.get("message"):
        parts.append(str(data["message"]))
    return " ".join(" ".join(parts).split())[:200]
