"""The one retry policy every outside service shares: attempts, waits capped, Retry-After and reset
headers honoured, jittered backoff, and an injectable clock and sleep for tests.

A client only classifies each answer: ok (with its value), retry after N seconds, retry with the
policy's backoff, or fail (by raising). The policy does the rest.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from teamops.errors import ServiceError

T = TypeVar("T")


@dataclass
class Verdict(Generic[T]):
    """How one attempt went."""

    ok: bool = False
    value: T | None = None
    wait: float | None = None  # retry after this many seconds (a rate limit); None: the policy's backoff
    reason: str = ""

    @classmethod
    def done(cls, value: T) -> Verdict[T]:
        return cls(ok=True, value=value)

    @classmethod
    def again(cls, reason: str, wait: float | None = None) -> Verdict[T]:
        return cls(ok=False, wait=wait, reason=reason)


class RetryPolicy:
    """Retries for one service: `attempts` tries for failures, waits up to `max_wait_s` each."""

    def __init__(
        self,
        service: str,
        *,
        attempts: int,
        max_wait_s: float,
        cap_s: float = 30.0,
        base_s: float = 1.0,
        wait_key: str = "",
        sleep: Callable[[float], None] = time.sleep,
        now: Callable[[], float] = time.time,
        jitter: Callable[[], float] = random.random,
        error: type[ServiceError] = ServiceError,
    ) -> None:
        self.service = service
        self.error = error
        self.attempts = attempts
        self.max_wait_s = max_wait_s
        self.cap_s = cap_s
        self.base_s = base_s
        self.wait_key = wait_key or f"[{service.lower()}] max_wait_s"
        self.sleep = sleep
        self.now = now
        self.jitter = jitter
        self.waited_s = 0.0

    def backoff(self, attempt: int) -> float:
        """Exponential from `base_s`, capped, with up to half of it taken off at random (so retries spread)."""
        full = min(self.base_s * 2.0 ** (attempt - 1), self.cap_s)
        return full * (1 - 0.5 * self.jitter())

    def until(self, reset_epoch: float) -> float:
        """Seconds to wait for a rate-limit window that resets at an epoch time (one second of margin)."""
        return max(1.0, reset_epoch - self.now() + 1)

    def wait(self, seconds: float, what: str, why: str) -> None:
        """Wait, or stop with exit 4 when the wait would pass the cap (what was fetched stays stored)."""
        if seconds > self.max_wait_s:
            resume = time.strftime("%H:%M UTC", time.gmtime(self.now() + seconds))
            raise self.error(
                f"{self.service} {why}: {what} would have to wait {seconds / 60:.0f} min, "
                f"more than {self.wait_key} = {self.max_wait_s:g} s",
                f"everything fetched so far is stored; run again after {resume}",
            )
        self.waited_s += seconds
        self.sleep(seconds)

    def retry_or_fail(self, attempt: int, what: str, problem: str) -> None:
        """After a failed attempt: back off and try again, or stop with exit 4 once attempts are spent."""
        if attempt > self.attempts:
            tries = f" after {attempt} attempts" if attempt > 1 else ""
            raise self.error(
                f"{self.service} failed {what}{tries}: {problem}",
                "everything fetched so far is stored; run again later",
            )
        self.wait(self.backoff(attempt), what, problem)

    def run(self, attempt: Callable[[int], Verdict[T]], what: str) -> T:
        """Call `attempt(n)` until it is ok: explicit waits (rate limits) are waited, failures backed off."""
        n = 0
        while True:
            n += 1
            verdict = attempt(n)
            if verdict.ok:
                return verdict.value  # type: ignore[return-value]
            if verdict.wait is not None:
                self.wait(verdict.wait, what, verdict.reason)
            else:
                self.retry_or_fail(n, what, verdict.reason)


def retry_after(headers: Mapping[str, Any]) -> float | None:
    """A Retry-After header in seconds (the HTTP-date form is not used by these services)."""
    value = headers.get("retry-after")
    try:
        return float(value) if value is not None else None
    except (TypeError, ValueError):
        return None


class RateBudget:
    """One token's allowance, shared by every worker that uses it.

    A limit any worker meets (a secondary limit, Retry-After, a spent primary limit) pauses all the
    others until it ends (the one that met it waits through its own retry policy), and the remaining
    count answers report is spent down locally between answers, so side-by-side workers wait for the
    reset instead of running past the primary limit together.
    """

    def __init__(self, *, now: Callable[[], float] = time.time) -> None:
        import threading

        self.now = now
        self._lock = threading.Lock()
        self.paused_until = 0.0
        self.paused_by: object = None
        self.remaining: int | None = None
        self.reset_at: float | None = None

    def turn(self, me: object) -> tuple[float, str]:
        """Take one request from the budget for worker `me`: (seconds to wait first, why); (0, "") to go now."""
        with self._lock:
            now = self.now()
            if self.paused_until > now and self.paused_by is not me:
                return self.paused_until - now, "rate limit (met by another worker)"
            if self.reset_at is not None and now >= self.reset_at:
                self.remaining, self.reset_at = None, None  # a new window: the next answer says how much
            if self.remaining is not None and self.remaining <= 0 and self.reset_at is not None:
                self._hold(self.reset_at - now + 1, None)
                return self.paused_until - now, "primary rate limit (spent)"
            if self.remaining is not None:
                self.remaining -= 1
            return 0.0, ""

    def wait_turn(self, me: object, policy: RetryPolicy, what: str) -> None:
        """Wait while the budget says so (another worker met a limit), within the policy's cap."""
        while True:
            wait, why = self.turn(me)
            if not wait:
                return
            policy.wait(wait, what, why)

    def note(self, remaining: int | None, reset_epoch: float | None) -> None:
        """What an answer said is left of the window, and when it resets."""
        if remaining is None:
            return
        with self._lock:
            if reset_epoch != self.reset_at or self.remaining is None:
                self.remaining, self.reset_at = remaining, reset_epoch  # another window (or the first answer)
            else:
                self.remaining = min(self.remaining, remaining)

    def pause(self, seconds: float, by: object = None) -> None:
        """Hold every worker but `by` (which waits through its own policy) for this long from now."""
        with self._lock:
            self._hold(seconds, by)

    def _hold(self, seconds: float, by: object) -> None:
        until = self.now() + seconds
        if until > self.paused_until:
            self.paused_until, self.paused_by = until, by
        self.remaining, self.reset_at = None, None  # after the pause, answers say what is left


SERVER_ERRORS = (500, 502, 503, 504)
NOT_JSON = object()  # what `json_of` returns for a body that is no JSON Python can read


def json_of(response: Any) -> Any:
    """A response's JSON, or NOT_JSON: a body that is not JSON, or nested deeper than Python's parser reads
    (RecursionError), is no answer of the service's."""
    try:
        return response.json()
    except (ValueError, RecursionError):
        return NOT_JSON


class BudgetedClient:
    """What a REST client of one service shares with the others: its retry policy, the rate budget its token's
    workers share, a count of its requests, and the answers every service treats alike (a network error or a
    5xx is tried again, a 429 pauses every worker for its Retry-After or reset). Each client classifies the rest."""

    service = "a service"
    base = ""  # the API's root
    _http: Any  # an httpx.Client with the service's auth

    def __repr__(self) -> str:  # never show the token
        return f"{type(self).__name__}({self.base!r})"

    def close(self) -> None:
        self._http.close()

    def _start(
        self,
        *,
        wait_key: str,
        max_wait_s: float,
        max_retries: int,
        budget: RateBudget | None,
        sleep: Callable[[float], None],
        now: Callable[[], float],
        jitter: Callable[[], float],
    ) -> None:
        self.policy = RetryPolicy(
            self.service,
            attempts=max_retries,
            max_wait_s=max_wait_s,
            sleep=sleep,
            now=now,
            jitter=jitter,
            wait_key=wait_key,
        )
        self.budget = budget or RateBudget(now=now)
        self.requests = 0
        self.rate_remaining: int | None = None

    def _run(self, what: str, attempt: Callable[[int], Verdict[T]]) -> T:
        """`attempt(n)` in turn with the other workers of this token, retried as the policy says."""

        def turn(n: int) -> Verdict[T]:
            self.budget.wait_turn(self, self.policy, what)
            return attempt(n)

        return self.policy.run(turn, what)

    def _exchange(self, send: Callable[[], Any]) -> tuple[Any, Verdict[Any] | None]:
        """One request counted: (the response, None), or (None, a retry) for a timeout or a network error."""
        import httpx

        self.requests += 1
        try:
            return send(), None
        except httpx.TimeoutException:
            return None, Verdict.again("timeout")
        except httpx.HTTPError as exc:
            return None, Verdict.again(f"network error ({type(exc).__name__})")

    def _common(self, status: int, headers: Mapping[str, Any], n: int, reset_wait: float | None) -> Verdict[Any] | None:
        """A 429 (every worker of the token holds) or a 5xx as a retry; None for an answer the client reads."""
        if status == 429:
            wait = retry_after(headers) or reset_wait or 60.0 * 2 ** min(n - 1, 4)
            self.budget.pause(wait, self)
            return Verdict.again("rate limit (429)", wait)
        if status in SERVER_ERRORS:
            return Verdict.again(f"HTTP {status}")
        return None
